import { sql, type Kysely, type Transaction } from 'kysely';
import { chunk } from '../../domain/chunks.js';
import type { Database } from '../database.js';

export type BulkColumnType = 'jsonb' | 'text' | 'boolean' | 'bigint' | 'integer' | 'timestamptz';

/** Rows per statement: one JSON parameter each, so PostgreSQL's 65,535-parameter limit never applies; the size bounds one statement's JSON. */
export const BULK_UPDATE_ROWS = 500;

/**
 * Many rows of one table updated with one statement per BULK_UPDATE_ROWS rows (never one statement per
 * row): `rows` carry the key column and the columns named in `types` (SQL types of internal constants, never
 * user input). A row whose key matches nothing changes nothing.
 */
export async function bulkUpdate(
  db: Kysely<Database> | Transaction<Database>,
  table: 'patch_deployments' | 'patch_rollbacks',
  key: { column: 'id'; type: 'integer' } | { column: 'idempotency_key'; type: 'text' },
  rows: Record<string, unknown>[],
  types: Record<string, BulkColumnType>,
): Promise<void> {
  if (rows.length === 0) return;
  const cols = Object.keys(types);
  const def = [`${key.column} ${key.type}`, ...cols.map((c) => `${c} ${types[c]}`)].join(', ');
  const set = cols.map((c) => `${c} = v.${c}`).join(', ');
  for (const part of chunk(rows, BULK_UPDATE_ROWS)) {
    await sql`UPDATE ${sql.table(table)} AS p SET ${sql.raw(set)} FROM jsonb_to_recordset(${JSON.stringify(part)}::jsonb) AS v(${sql.raw(def)}) WHERE p.${sql.ref(key.column)} = v.${sql.ref(key.column)}`.execute(db);
  }
}
