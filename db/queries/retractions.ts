import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { recordEvent } from './notifications.js';

type Executor = Kysely<Database> | Transaction<Database>;

// Retracted advisories (issue 15, uyuni-api.md §3.9): once UYUNI says an advisory is retracted (its
// advisory_status, or fault 2602 when scheduling it), nothing applies it any more. The retraction is recorded
// in one transaction with what it changes: the cache row (sticky, trigger of migration 2026_12_07_1501), the
// queued items cancelled, a halt request for each running rollout (recorded before the halt signal is sent),
// and one `advisory.retracted` event. Idempotent: a second call changes nothing already changed.

/** Queue statuses a retraction cancels (nothing of the advisory was applied by the orchestrator). */
export const CANCELLED_ON_RETRACTION = ['queued', 'untestable', 'inconclusive'] as const;
/** Statuses left as they are, whose approval and deployment are refused from now on. */
const REFUSED_ON_RETRACTION = ['testing', 'passed', 'pending_approval', 'snoozed', 'approved'] as const;

export const retractionReason = (advisoryName: string) => `${advisoryName} was retracted by its vendor (UYUNI advisory_status "retracted")`;

/** When the advisory became known as retracted, or null (not retracted, or not cached). */
export async function retractedAt(db: Executor, advisoryName: string): Promise<Date | null> {
  const row = await db.selectFrom('errata_cache').select('retracted_at').where('advisory_name', '=', advisoryName).executeTakeFirst();
  return row?.retracted_at ?? null;
}

export interface RetractionRecorded {
  cancelled: number[];
  /** Rollouts to halt now: the queue item whose rollout it is (deploy-<queueId>) — a set's carrier. */
  halts: { queueId: number; requestId: string }[];
  refused: number[];
  /** True when this call recorded the event (the first to see the retraction). */
  announced: boolean;
}

/**
 * Records the retraction of `advisoryName` (see above). `foundBy`: what saw it (sync, test, rollout). Returns the
 * items cancelled, the halts to signal (only those recorded by this call) and the items whose decisions are
 * refused from now on.
 */
export async function recordRetraction(db: Kysely<Database>, advisoryName: string, foundBy: 'sync' | 'test' | 'rollout'): Promise<RetractionRecorded> {
  const reason = retractionReason(advisoryName);
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('errata_cache').set({ advisory_status: 'retracted' }).where('advisory_name', '=', advisoryName).execute();
    const cancelled = await trx
      .updateTable('patch_test_queue')
      .set({ status: 'cancelled', status_reason: reason })
      .where('advisory_name', '=', advisoryName)
      .where('status', 'in', CANCELLED_ON_RETRACTION)
      .returning('id')
      .execute();
    // A rollout in progress: its own (deploy-<id>) or the set rollout that carries it (deploy-<carrier>).
    const promoting = await trx.selectFrom('patch_test_queue').select('id').where('advisory_name', '=', advisoryName).where('status', '=', 'promoting').orderBy('id').execute();
    const halts: RetractionRecorded['halts'] = [];
    for (const { id } of promoting) {
      const carrier = await trx.selectFrom('deployments').select('workflow_id').where('queue_id', '=', id).orderBy('id', 'desc').executeTakeFirst();
      const rolloutOf = Number(/^deploy-(\d+)$/.exec(carrier?.workflow_id ?? '')?.[1] ?? id);
      const requestId = `retraction:${advisoryName}:${rolloutOf}`;
      const inserted = await trx
        .insertInto('deployment_halts')
        .values({ queue_id: rolloutOf, requested_by: 'uyuni', reason, source: 'retraction', request_id: requestId })
        .onConflict((oc) => oc.column('request_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted && !halts.some((h) => h.queueId === rolloutOf)) halts.push({ queueId: rolloutOf, requestId });
    }
    const refused = await trx.selectFrom('patch_test_queue').select('id').where('advisory_name', '=', advisoryName).where('status', 'in', REFUSED_ON_RETRACTION).orderBy('id').execute();
    const event = await recordEvent(
      trx,
      'advisory.retracted',
      {
        queue_id: null, advisory: advisoryName, os: null, reason, found_by: foundBy,
        cancelled: cancelled.map((r) => r.id).sort((a, b) => a - b), halted: halts.map((h) => h.queueId), refused: refused.map((r) => r.id),
      },
      { dedupeKey: `advisory-retracted-${advisoryName}` },
    );
    return { cancelled: cancelled.map((r) => r.id), halts, refused: refused.map((r) => r.id), announced: event !== null };
  });
}

/** Forgets a halt request whose rollout was not running (its signal found no workflow). */
export async function forgetRetractionHalt(db: Executor, requestId: string): Promise<void> {
  await db.deleteFrom('deployment_halts').where('request_id', '=', requestId).execute();
}

/**
 * The advisories a sync must ask UYUNI about: those with an item the orchestrator may still act on (any
 * non-final status) that are not known as retracted yet. Testing and approved items are exactly the ones UYUNI
 * no longer lists as relevant to the test systems (the test applied them), so the relevant lists cannot tell.
 */
export async function advisoriesToCheck(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ advisory_name: string }>`
    select distinct q.advisory_name from patch_test_queue q
    left join errata_cache e on e.advisory_name = q.advisory_name
    where e.retracted_at is null
      and q.status in ('queued', 'untestable', 'inconclusive', 'testing', 'passed', 'pending_approval', 'snoozed', 'approved', 'promoting', 'halted')
    order by 1`.execute(db);
  return rows.map((r) => r.advisory_name);
}

/** Advisories known as retracted that still have an item a retraction changes (cancel, halt): handled again. */
export async function retractedWithOpenItems(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ advisory_name: string }>`
    select distinct q.advisory_name from patch_test_queue q
    join errata_cache e on e.advisory_name = q.advisory_name
    where e.retracted_at is not null and q.status in ('queued', 'untestable', 'inconclusive', 'promoting')
    order by 1`.execute(db);
  return rows.map((r) => r.advisory_name);
}
