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
