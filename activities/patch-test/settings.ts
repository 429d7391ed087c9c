import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { configSection } from '../../db/queries/orchestrator-config.js';
import { BUILT_IN_FALLBACKS, settingInUse } from '../../domain/settings.js';
import { testTiming } from '../../temporal/tests.js';
import type { TestTiming } from '../../workflows/messages.js';

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
  /** Wait after patching (and reboot) before the after-metrics, in seconds. */
  settleSeconds: number;
}

/**
 * orchestrator_config's `test.*` rows (editable at run time, each used only within its range, see
 * domain/settings.ts) over the environment's values.
 */
export async function loadTestSettings(db: Db, config: Readonly<Config>): Promise<TestSettings> {
  const rows = await configSection(db, 'test.');
  const fallback = BUILT_IN_FALLBACKS;
  return {
    cpuDelta: settingInUse('test.cpu_delta_threshold', rows.cpu_delta_threshold, config.testThresholds.cpuDelta).value,
    memoryDelta: settingInUse('test.memory_delta_threshold', rows.memory_delta_threshold, config.testThresholds.memoryDelta).value,
    cpuCeiling: settingInUse('test.cpu_ceiling_percent', rows.cpu_ceiling_percent, fallback['test.cpu_ceiling_percent']).value,
    memoryCeiling: settingInUse('test.memory_ceiling_percent', rows.memory_ceiling_percent, fallback['test.memory_ceiling_percent']).value,
    baselineCpuSpread: settingInUse('test.baseline_cpu_spread', rows.baseline_cpu_spread, fallback['test.baseline_cpu_spread']).value,
    baselineMemorySpread: settingInUse('test.baseline_memory_spread', rows.baseline_memory_spread, fallback['test.baseline_memory_spread']).value,
    inconclusiveRetrySeconds:
      settingInUse('test.inconclusive_retry_minutes', rows.inconclusive_retry_minutes, fallback['test.inconclusive_retry_minutes']).value * 60,
    inconclusiveMaxRetries: settingInUse('test.inconclusive_max_retries', rows.inconclusive_max_retries, fallback['test.inconclusive_max_retries']).value,
    criticalServices: settingInUse('test.critical_services', rows.critical_services, fallback['test.critical_services']).value,
    settleSeconds: settingInUse('test.settle_seconds', rows.settle_seconds, config.test.settleSeconds).value,
  };
}

export async function testTimingInUse(db: Db, config: Readonly<Config>): Promise<TestTiming> {
  return testTiming(config, { settleSeconds: (await loadTestSettings(db, config)).settleSeconds });
}
