import type { Kysely, Transaction } from 'kysely';
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

export function setConfigValue(db: Executor, key: string, value: unknown, updatedBy: string) {
  return db
    .updateTable('orchestrator_config')
    .set({ value: json(value), updated_by: updatedBy })
    .where('key', '=', key)
    .returningAll()
    .executeTakeFirst();
}

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** How a passed test waits for a decision: orchestrator_config's approval.* over the environment's values. */
export async function approvalPolicy(db: Executor, fallback: { reminderHours: number; expiryDays: number }) {
  const rows = await configSection(db, 'approval.');
  const hours = positive(rows.reminder_hours) ? rows.reminder_hours : fallback.reminderHours;
  const days = positive(rows.expiry_days) ? rows.expiry_days : fallback.expiryDays;
  return { reminderSeconds: Math.round(hours * 3600), expirySeconds: Math.round(days * 86400) };
}

/** The rollout policy: orchestrator_config's deploy.* (seeded by the first migration). */
export async function deploymentPolicy(db: Executor) {
  const rows = await configSection(db, 'deploy.');
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback);
  return {
    canarySize: Math.round(num(rows.canary_size, 1)),
    soakSeconds: Math.round(num(rows.soak_minutes, 30) * 60),
    waveSize: Math.max(1, Math.round(num(rows.wave_size, 10))),
    failureBudgetCount: Math.round(num(rows.failure_budget_count, 2)),
    failureBudgetPercent: num(rows.failure_budget_percent, 10),
  };
}
