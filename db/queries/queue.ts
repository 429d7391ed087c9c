import { ACTIVE_QUEUE_STATUSES } from '../../domain/queue-status.js';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { json } from '../json.js';

type Executor = Kysely<Database> | Transaction<Database>;

const SEVERITY_OF_RANK = ['', 'Critical', 'High', 'Medium', 'Low'] as const;

/** Cancelled items are history: left out of the totals. */
const DEFAULT_EXCLUDED: string[] = ['cancelled'];

function queueItems(db: Executor) {
  return db
    .selectFrom('patch_test_queue as q')
    .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
    .select([
      'q.id', 'q.advisory_name', 'q.target_os', 'q.status', 'q.status_changed_at', 'q.priority_override', 'q.notes',
      'q.success_score', 'q.requires_reboot', 'q.queued_by', 'q.workflow_id', 'q.test_system_id', 'q.created_at',
      'q.updated_at', 'e.severity', 'e.synopsis', 'e.advisory_type', 'e.cves',
    ]);
}

export function queueItemsByIds(db: Executor, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return queueItems(db).where('q.id', 'in', ids).orderBy('q.id').execute();
}

export async function queueStats(db: Executor) {
  const rows = await db.selectFrom('queue_counts').selectAll().where('items', '>', 0).execute();
  const sum = (pick: (r: (typeof rows)[number]) => number, where: (r: (typeof rows)[number]) => boolean = () => true) =>
    rows.filter(where).reduce((s, r) => s + pick(r), 0);
  const group = (key: (r: (typeof rows)[number]) => string, where: (r: (typeof rows)[number]) => boolean = () => true) => {
    const out: Record<string, number> = {};
    for (const r of rows.filter(where)) out[key(r)] = (out[key(r)] ?? 0) + r.items;
    return out;
  };
  const active = (r: (typeof rows)[number]) => !DEFAULT_EXCLUDED.includes(r.status);
  const scored = sum((r) => r.scored, active);
  return {
    total: sum((r) => r.items, active),
    by_status: group((r) => r.status),
    by_os: group((r) => r.target_os, active),
    by_severity: group((r) => SEVERITY_OF_RANK[r.severity_rank] ?? 'Low', active),
    avg_score: scored ? Math.round((sum((r) => Number(r.score_sum), active) / scored) * 10) / 10 : null,
  };
}

export function getQueueRow(db: Executor, id: number) {
  return db.selectFrom('patch_test_queue').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findActiveItems(db: Executor, pairs: { advisoryName: string; targetOs: string }[]) {
  if (pairs.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('patch_test_queue')
    .select(['id', 'advisory_name', 'target_os', 'status'])
    .where((eb) => eb.or(pairs.map((p) => eb.and([eb('advisory_name', '=', p.advisoryName), eb('target_os', '=', p.targetOs)]))))
    .where('status', 'in', ACTIVE_QUEUE_STATUSES)
    .execute();
}

export function updateQueueItem(db: Executor, id: number, patch: { priority_override?: number | null; notes?: string | null }) {
  return db.updateTable('patch_test_queue').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Only a queued item can be withdrawn; it is kept as `cancelled` for the record. */
export function cancelQueuedItem(db: Executor, id: number) {
  return db.updateTable('patch_test_queue').set({ status: 'cancelled' }).where('id', '=', id).where('status', '=', 'queued').returning('id').executeTakeFirst();
}

export function riskProfileOf(db: Executor, queueId: number) {
  return db.selectFrom('patch_risk_profile').selectAll().where('queue_id', '=', queueId).executeTakeFirst();
}

/** Every test run of the item: its own tests and every bundle run it was a member of (not only as the first). */
export function testsOf(db: Executor, queueId: number) {
  return db
    .selectFrom('patch_tests')
    .selectAll()
    .where((eb) => eb.or([
      eb('queue_id', '=', queueId),
      eb('bundle_id', 'in', eb.selectFrom('test_bundle_members').select('bundle_id').where('queue_id', '=', queueId)),
    ]))
    .orderBy('started_at', 'desc')
    .execute();
}

export function approvalsOf(db: Executor, queueId: number) {
  return db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', queueId).orderBy('decided_at', 'asc').execute();
}

/**
 * Finished tests of this advisory or of any advisory sharing one of its packages that judged the patch: passes
 * (a passing bundle run counts for each member), and failures proven to be the patch's own (alone). A test the test system failed (a host that did not answer, a
 * baseline that never settled) or that could not be judged (inconclusive) says nothing about the patch.
 */
export async function failureHistory(db: Executor, advisoryName: string, packageNames: string[]): Promise<{ tests: number; failures: number }> {
  const { rows } = await sql<{ tests: number; failures: number }>`
    select count(*)::integer as tests,
           count(*) filter (where t.status in ('failed', 'rolled_back'))::integer as failures
    from (
      -- a one-erratum test, or a bundle run counted for each of its members: a run of several errata that
      -- failed proves nobody's own failure (failure_cause 'bundle'), the run that had the culprit alone does
      select t.status, t.failure_cause, t.queue_id from patch_tests t where t.bundle_id is null
      union all
      select t.status, t.failure_cause, m.queue_id from patch_tests t join test_bundle_members m on m.bundle_id = t.bundle_id
    ) t
    join patch_test_queue q on q.id = t.queue_id
    join errata_cache e on e.advisory_name = q.advisory_name
    where (t.status = 'passed' or (t.status in ('failed', 'rolled_back') and t.failure_cause = 'patch'))
      and (q.advisory_name = ${advisoryName}
           or exists (select 1 from jsonb_array_elements(coalesce(e.packages, '[]'::jsonb)) p
                      where p->>'name' = any(${packageNames}::text[])))`.execute(db);
  return rows[0] ?? { tests: 0, failures: 0 };
}

export interface NewQueueRow {
  advisoryName: string;
  targetOs: string;
  priorityOverride: number | null;
  notes: string | null;
  successScore: number;
  requiresReboot: boolean;
  queuedBy: string;
  requestId: string;
  risk: {
    hasKernel: boolean;
    requiresReboot: boolean;
    hasConfigFiles: boolean;
    dependencyCount: number;
    totalSizeBytes: number;
    failureHistoryCount: number;
    breakdown: unknown;
    weights: Record<string, number>;
  };
}

export async function insertQueueRow(trx: Transaction<Database>, row: NewQueueRow) {
  const inserted = await trx
    .insertInto('patch_test_queue')
    .values({
      advisory_name: row.advisoryName,
      target_os: row.targetOs,
      priority_override: row.priorityOverride,
      notes: row.notes,
      success_score: row.successScore,
      requires_reboot: row.requiresReboot,
      queued_by: row.queuedBy,
      request_id: row.requestId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('patch_risk_profile')
    .values({
      queue_id: inserted.id,
      advisory_name: row.advisoryName,
      success_score: row.successScore,
      has_kernel: row.risk.hasKernel,
      requires_reboot: row.risk.requiresReboot,
      has_config_files: row.risk.hasConfigFiles,
      dependency_count: row.risk.dependencyCount,
      total_size_bytes: row.risk.totalSizeBytes,
      failure_history_count: row.risk.failureHistoryCount,
      breakdown: json(row.risk.breakdown),
      weights: json(row.risk.weights),
    })
    .execute();
  return inserted.id;
}

export function rowsOfRequest(db: Executor, requestId: string) {
  return db.selectFrom('patch_test_queue').select('id').where('request_id', '=', requestId).orderBy('id').execute();
}
