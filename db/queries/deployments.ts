import { sql, type Kysely, type Transaction } from 'kysely';
import type { QueueStatus } from '../../domain/queue-status.js';
import type { Database } from '../database.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** The queue states of a patch on its way to (or back from) production. */
export const ROLLOUT_STATUSES = ['approved', 'promoting', 'halted', 'prod_applied', 'completed', 'prod_rolled_back'] as const satisfies readonly QueueStatus[];
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

const ISO = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export interface RolloutListItem {
  queue_id: number;
  advisory_name: string;
  target_os: string;
  severity: string;
  status: RolloutStatus;
  status_changed_at: string;
  targets: number;
  waves: number;
  applied: number;
  failed: number;
  in_flight: number;
  pending: number;
  skipped: number;
  rolled_back: number;
  rollback_failed: number;
  started_at: string | null;
  completed_at: string | null;
}

/**
 * Patches approved for production and their rollouts, most recently changed first, with per-state counts
 * of their systems (from patch_deployments; no Temporal call, so a list page costs one query). The page is
 * chosen first (patch_test_queue_rollout_idx) and only its rows are counted; the total comes from
 * queue_counts, the per-status counts a trigger keeps.
 */
export async function listRollouts(db: Executor, f: { status?: RolloutStatus[]; targetOs?: string }, page: { limit: number; offset: number }) {
  const statuses = f.status?.length ? f.status : [...ROLLOUT_STATUSES];
  let chosen = db.selectFrom('patch_test_queue as pq').select('pq.id').where('pq.status', 'in', statuses);
  if (f.targetOs) chosen = chosen.where('pq.target_os', '=', f.targetOs);
  chosen = chosen.orderBy('pq.status_changed_at', 'desc').orderBy('pq.id', 'desc').limit(page.limit).offset(page.offset);
  let counted = db.selectFrom('queue_counts').where('status', 'in', statuses);
  if (f.targetOs) counted = counted.where('target_os', '=', f.targetOs);
  const [items, total] = await Promise.all([
    db
      .selectFrom(chosen.as('page'))
      .innerJoin('patch_test_queue as q', 'q.id', 'page.id')
      .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('patch_deployments as d')
            .whereRef('d.queue_id', '=', 'q.id')
            .select([
              sql<number>`count(*)::integer`.as('targets'),
              sql<number>`count(distinct d.wave)::integer`.as('waves'),
              sql<number>`count(*) filter (where d.status = 'applied')::integer`.as('applied'),
              sql<number>`count(*) filter (where d.status = 'failed')::integer`.as('failed'),
              sql<number>`count(*) filter (where d.status in ('applying', 'rebooting', 'verifying'))::integer`.as('in_flight'),
              sql<number>`count(*) filter (where d.status = 'pending')::integer`.as('pending'),
              sql<number>`count(*) filter (where d.status = 'skipped')::integer`.as('skipped'),
              sql<number>`count(*) filter (where d.status = 'rolled_back')::integer`.as('rolled_back'),
              sql<number>`count(*) filter (where d.status = 'rollback_failed')::integer`.as('rollback_failed'),
              sql<string | null>`${ISO('min(d.started_at)')}`.as('started_at'),
              sql<string | null>`case when count(*) filter (where d.completed_at is null and d.status not in ('skipped')) = 0 then ${ISO('max(d.completed_at)')} end`.as('completed_at'),
            ])
            .as('d'),
        (join) => join.onTrue(),
      )
      .select(['q.id as queue_id', 'q.advisory_name', 'q.target_os', 'e.severity', 'q.status'])
      .select(sql<string>`${ISO('q.status_changed_at')}`.as('status_changed_at'))
      .select(['d.targets', 'd.waves', 'd.applied', 'd.failed', 'd.in_flight', 'd.pending', 'd.skipped', 'd.rolled_back', 'd.rollback_failed', 'd.started_at', 'd.completed_at'])
      .orderBy('q.status_changed_at', 'desc')
      .orderBy('q.id', 'desc')
      .execute(),
    counted.select(sql<number>`coalesce(sum(items), 0)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { total: total.n, items: items as RolloutListItem[] };
}

/** Every production system of a rollout, by wave. */
export function rolloutSystems(db: Executor, queueId: number) {
  return db.selectFrom('patch_deployments').selectAll().where('queue_id', '=', queueId).orderBy('wave').orderBy('system_id').execute();
}

/** The production rollback's per-system rows (who asked, why, the result). */
export function productionRollbacks(db: Executor, queueId: number) {
  return db
    .selectFrom('patch_rollbacks')
    .select(['id', 'deployment_id', 'system_id', 'rollback_type', 'status', 'requested_by', 'reason', 'error', 'started_at', 'completed_at'])
    .where('queue_id', '=', queueId)
    .where('scope', '=', 'production')
    .orderBy('system_id')
    .execute();
}

export function haltsOf(db: Executor, queueId: number) {
  return db.selectFrom('deployment_halts').selectAll().where('queue_id', '=', queueId).orderBy('requested_at').execute();
}

/** Idempotent by request id: a retried request finds the row the first one wrote. */
export async function recordHalt(db: Executor, halt: { queueId: number; by: string; reason: string; source: 'api' | 'dashboard'; requestId: string }) {
  await db
    .insertInto('deployment_halts')
    .values({ queue_id: halt.queueId, requested_by: halt.by, reason: halt.reason, source: halt.source, request_id: halt.requestId })
    .onConflict((oc) => oc.column('request_id').doNothing())
    .execute();
}

/** Drops a halt request whose signal could not be delivered (the rollout was not running). */
export async function forgetHalt(db: Executor, requestId: string): Promise<void> {
  await db.deleteFrom('deployment_halts').where('request_id', '=', requestId).execute();
}

/**
 * The queue item whose rollout carried this one (a set rollout, deploy-<carrier>), or undefined when the item
 * was deployed by its own rollout or not at all.
 */
export async function rolloutCarrierOf(db: Executor, queueId: number): Promise<number | undefined> {
  const row = await db.selectFrom('deployments').select('workflow_id').where('queue_id', '=', queueId).orderBy('id', 'desc').executeTakeFirst();
  const carrier = Number(/^deploy-(\d+)$/.exec(row?.workflow_id ?? '')?.[1]);
  return Number.isInteger(carrier) && carrier !== queueId ? carrier : undefined;
}
