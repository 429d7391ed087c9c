import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, SyncError, SyncRunsTable } from '../database.js';
import { json } from '../json.js';
import { recordEvent } from './notifications.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Idempotent: a retried activity gets the row the first attempt created (keyed by the Temporal run id). */
export async function beginSyncRun(
  db: Executor,
  run: { workflowId: string; runId: string; trigger: SyncRunsTable['trigger'] },
): Promise<number> {
  const row = await db
    .insertInto('sync_runs')
    .values({ workflow_id: run.workflowId, run_id: run.runId, trigger: run.trigger })
    .onConflict((oc) => oc.column('run_id').doUpdateSet((eb) => ({ run_id: eb.ref('excluded.run_id') })))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Marks a running sync failed, with its sync.failed event in the same transaction (once: a retry changes nothing). */
export async function failSyncRun(db: Executor, id: number, error: string, errors: SyncError[]): Promise<void> {
  const fail = async (trx: Executor) => {
    const row = await trx
      .updateTable('sync_runs')
      .set({
        status: 'failed',
        finished_at: sql<Date>`now()`,
        duration_ms: sql<number>`(extract(epoch from now() - started_at) * 1000)::integer`,
        error,
        errors: json(errors),
      })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .returning(['trigger', 'workflow_id'])
      .executeTakeFirst();
    if (!row) return;
    await recordEvent(trx, 'sync.failed', { queue_id: null, advisory: null, os: null, sync_run_id: id, trigger: row.trigger, error: error.slice(0, 2000) }, {
      dedupeKey: `sync-failed-${id}`, workflowId: row.workflow_id,
    });
  };
  await (db.isTransaction ? fail(db) : (db as Kysely<Database>).transaction().execute(fail));
}

export function recentSyncRuns(db: Executor, limit: number) {
  return db.selectFrom('sync_runs').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export function lastSucceededSyncRun(db: Executor) {
  return db
    .selectFrom('sync_runs')
    .selectAll()
    .where('status', '=', 'succeeded')
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
