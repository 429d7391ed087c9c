import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { configSection } from '../../db/queries/orchestrator-config.js';

export interface TestSettings {
  cpuDelta: number;
  memoryDelta: number;
  /** Highest CPU / memory % allowed after a patch, whatever the baseline. */
  cpuCeiling: number;
  memoryCeiling: number;
  /** A test system is at rest when CPU / memory move at most this much (pp) across the baseline window. */
  baselineCpuSpread: number;
  baselineMemorySpread: number;
  /** An inconclusive item is queued again after this long, at most this many times. */
  inconclusiveRetrySeconds: number;
  inconclusiveMaxRetries: number;
  /** Services that must run after a patch, per OS. */
  criticalServices: Record<string, string[]>;
}

const DEFAULT_SERVICES: Record<string, string[]> = { ubuntu: ['ssh', 'cron'], rhel: ['sshd', 'crond'], debian: ['ssh', 'cron'] };

/** Used when orchestrator_config has no row (the migration seeds these values). */
const DEFAULTS = { cpuCeiling: 90, memoryCeiling: 90, baselineCpuSpread: 5, baselineMemorySpread: 3, inconclusiveRetryMinutes: 30, inconclusiveMaxRetries: 3 };

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** orchestrator_config's `test.*` rows (editable at run time) over the environment's thresholds. */
export async function loadTestSettings(db: Db, config: Readonly<Config>): Promise<TestSettings> {
  const rows = await configSection(db, 'test.');
  const services = rows.critical_services;
  const criticalServices =
    services && typeof services === 'object' && !Array.isArray(services)
      ? Object.fromEntries(
          Object.entries(services as Record<string, unknown>).map(([os, list]) => [
            os,
            Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string' && s !== '') : [],
          ]),
        )
      : DEFAULT_SERVICES;
  return {
    cpuDelta: isNumber(rows.cpu_delta_threshold) ? rows.cpu_delta_threshold : config.testThresholds.cpuDelta,
    memoryDelta: isNumber(rows.memory_delta_threshold) ? rows.memory_delta_threshold : config.testThresholds.memoryDelta,
    cpuCeiling: isNumber(rows.cpu_ceiling_percent) ? rows.cpu_ceiling_percent : DEFAULTS.cpuCeiling,
    memoryCeiling: isNumber(rows.memory_ceiling_percent) ? rows.memory_ceiling_percent : DEFAULTS.memoryCeiling,
    baselineCpuSpread: isNumber(rows.baseline_cpu_spread) ? rows.baseline_cpu_spread : DEFAULTS.baselineCpuSpread,
    baselineMemorySpread: isNumber(rows.baseline_memory_spread) ? rows.baseline_memory_spread : DEFAULTS.baselineMemorySpread,
    inconclusiveRetrySeconds: (isNumber(rows.inconclusive_retry_minutes) ? rows.inconclusive_retry_minutes : DEFAULTS.inconclusiveRetryMinutes) * 60,
    inconclusiveMaxRetries: isNumber(rows.inconclusive_max_retries) ? rows.inconclusive_max_retries : DEFAULTS.inconclusiveMaxRetries,
    criticalServices,
  };
}
