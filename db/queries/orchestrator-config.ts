import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config/config.js';
import { BUILT_IN_FALLBACKS, isSettingKey, settingInUse, type SettingInUse, type SettingKey } from '../../domain/settings.js';
import type { JudgeSettings } from '../../domain/judge.js';
import type { Database } from '../database.js';
import { json } from '../json.js';

type Executor = Kysely<Database> | Transaction<Database>;

export function listConfig(db: Executor) {
  return db.selectFrom('orchestrator_config').selectAll().orderBy('key').execute();
}

export function getConfigValue(db: Executor, key: string) {
  return db.selectFrom('orchestrator_config').selectAll().where('key', '=', key).executeTakeFirst();
}

/** Values of every key under a prefix ("score." → { kernel_penalty: 30, ... }). */
export async function configSection(db: Executor, prefix: string): Promise<Record<string, unknown>> {
  const rows = await db
    .selectFrom('orchestrator_config')
    .select(['key', 'value'])
    .where('key', 'like', `${prefix}%`)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.key.slice(prefix.length), r.value]));
}

/** Writes a setting; the caller has checked it with domain/settings.ts's checkSetting. */
export function setConfigValue(db: Executor, key: string, value: unknown, updatedBy: string) {
  return db
    .updateTable('orchestrator_config')
    .set({ value: json(value), updated_by: updatedBy })
    .where('key', '=', key)
    .returningAll()
    .executeTakeFirst();
}

export type SettingFallbackConfig = Pick<Config, 'score' | 'testThresholds' | 'test' | 'approval'>;

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** What each key falls back to when its row is missing or out of range: the environment, else the built-in. */
export function settingFallback(key: SettingKey, config: SettingFallbackConfig): unknown {
  const [section = '', name = ''] = key.split('.');
  if (section === 'score') return config.score[camel(name) as keyof Config['score']];
  switch (key) {
    case 'test.cpu_delta_threshold':
      return config.testThresholds.cpuDelta;
    case 'test.memory_delta_threshold':
      return config.testThresholds.memoryDelta;
    case 'test.settle_seconds':
      return config.test.settleSeconds;
    case 'approval.reminder_hours':
      return config.approval.reminderHours;
    case 'approval.expiry_days':
      return config.approval.expiryDays;
    default:
      return BUILT_IN_FALLBACKS[key as keyof typeof BUILT_IN_FALLBACKS];
  }
}

/** Every setting's stored row with the value the orchestrator uses now (GET /api/v1/config shows both). */
export async function settingsInUse(db: Executor, config: SettingFallbackConfig) {
  const rows = await listConfig(db);
  return rows.map((r) => ({
    ...r,
    in_use: isSettingKey(r.key) ? settingInUse(r.key, r.value, settingFallback(r.key, config)) : ({ value: r.value, source: 'database' } as SettingInUse),
  }));
}

/** How a passed test waits for a decision: orchestrator_config's approval.* over the environment's values. */
export async function approvalPolicy(db: Executor, fallback: { reminderHours: number; expiryDays: number }) {
  const rows = await configSection(db, 'approval.');
  const hours = settingInUse('approval.reminder_hours', rows.reminder_hours, fallback.reminderHours).value;
  const days = settingInUse('approval.expiry_days', rows.expiry_days, fallback.expiryDays).value;
  return { reminderSeconds: Math.round(hours * 3600), expirySeconds: Math.round(days * 86400) };
}

/** The rollout policy: orchestrator_config's deploy.* (seeded by the first migration), each within its range. */
export async function deploymentPolicy(db: Executor) {
  const rows = await configSection(db, 'deploy.');
  const use = (name: keyof typeof rows & string, key: keyof typeof BUILT_IN_FALLBACKS & `deploy.${string}`) =>
    settingInUse(key, rows[name], BUILT_IN_FALLBACKS[key]).value;
  return {
    canarySize: use('canary_size', 'deploy.canary_size'),
    soakSeconds: Math.round(use('soak_minutes', 'deploy.soak_minutes') * 60),
    waveSize: use('wave_size', 'deploy.wave_size'),
    failureBudgetCount: use('failure_budget_count', 'deploy.failure_budget_count'),
    failureBudgetPercent: use('failure_budget_percent', 'deploy.failure_budget_percent'),
    batchSize: use('batch_size', 'deploy.batch_size'),
    canaryFraction: use('canary_fraction', 'deploy.canary_fraction'),
    verdict: use('verdict', 'deploy.verdict') === 1,
    verdictReminderSeconds: (await verdictPolicy(db)).marginalReminderSeconds,
  };
}

export interface VerdictPolicy {
  judge: JudgeSettings;
  /** A wave's allowed rises over its peers, percentage points. */
  cpuAllowedIncrease: number;
  memoryAllowedIncrease: number;
  /** How often a rollout paused by a marginal verdict reminds, in seconds. */
  marginalReminderSeconds: number;
}

/**
 * The judge's settings: orchestrator_config's verdict.* (each within its range). A marginal score above the
 * pass score cannot be used as a pair (the judge refuses it), so then both scores fall back.
 */
export async function verdictPolicy(db: Executor): Promise<VerdictPolicy> {
  const rows = await configSection(db, 'verdict.');
  const use = <K extends keyof typeof BUILT_IN_FALLBACKS & `verdict.${string}`>(key: K) =>
    settingInUse(key, rows[key.slice('verdict.'.length)], BUILT_IN_FALLBACKS[key]).value as (typeof BUILT_IN_FALLBACKS)[K];
  let passScore = use('verdict.pass_score');
  let marginalScore = use('verdict.marginal_score');
  if (marginalScore > passScore) {
    passScore = BUILT_IN_FALLBACKS['verdict.pass_score'];
    marginalScore = BUILT_IN_FALLBACKS['verdict.marginal_score'];
  }
  return {
    judge: {
      confidence: use('verdict.confidence'),
      tolerance: use('verdict.tolerance'),
      minSamples: use('verdict.min_samples'),
      passScore,
      marginalScore,
      nodataPolicy: use('verdict.nodata_policy'),
    },
    cpuAllowedIncrease: use('verdict.cpu_allowed_increase'),
    memoryAllowedIncrease: use('verdict.memory_allowed_increase'),
    marginalReminderSeconds: Math.round(use('verdict.marginal_reminder_hours') * 3600),
  };
}
