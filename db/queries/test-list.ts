import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, TestStatus } from '../database.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface TestListFilter {
  status?: TestStatus[];
  queueId?: number;
  testSystemId?: number;
  targetOs?: string;
  /** Part of the advisory name (case-insensitive). */
  advisory?: string;
}

export interface TestListItem {
  id: number;
  queue_id: number;
  advisory_name: string;
  target_os: string;
  severity: string;
  queue_status: string;
  status: TestStatus;
  workflow_id: string;
  test_system_id: number | null;
  test_system_name: string | null;
  started_at: string;
  completed_at: string | null;
  cpu_delta: number | null;
  memory_delta: number | null;
  requires_reboot: boolean | null;
  rollback_type: 'package' | 'snapshot' | null;
  rollback_verified: boolean | null;
  failure_phase: string | null;
  failure_reason: string | null;
  /** The phase running now, else the last one that ran (not skipped), with its state. */
  current_phase: string | null;
  current_phase_status: string | null;
}

const ISO = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Tests newest first, with their advisory and the phase they are in; the total for the filter. The page's ids
 * are chosen first (an index scan of patch_tests, joined to the queue only when a filter is about the queue
 * item), then only those rows are decorated: the cost follows the page size, not the history's.
 */
export async function listTests(db: Executor, f: TestListFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: TestListItem[] }> {
  const needsQueue = Boolean(f.targetOs || f.advisory);
  let base = db.selectFrom('patch_tests as t');
  if (f.status?.length) base = base.where('t.status', 'in', f.status);
  if (f.queueId !== undefined) base = base.where('t.queue_id', '=', f.queueId);
  if (f.testSystemId !== undefined) base = base.where('t.test_system_id', '=', f.testSystemId);
  if (needsQueue) {
    base = base.where((eb) =>
      eb.exists(
        eb
          .selectFrom('patch_test_queue as fq')
          .select(sql`1`.as('x'))
          .whereRef('fq.id', '=', 't.queue_id')
          .$if(Boolean(f.targetOs), (qb) => qb.where('fq.target_os', '=', f.targetOs!))
          .$if(Boolean(f.advisory), (qb) => qb.where('fq.advisory_name', 'ilike', `%${f.advisory!.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)),
      ),
    );
  }
  const [ids, total] = await Promise.all([
    base.select('t.id').orderBy('t.id', 'desc').limit(page.limit).offset(page.offset).execute(),
    base.select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  if (!ids.length) return { total: total.n, items: [] };
  const items = await db
    .selectFrom('patch_tests as t')
    .innerJoin('patch_test_queue as q', 'q.id', 't.queue_id')
    .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
    .leftJoinLateral(
      (eb) => eb.selectFrom('patch_test_phases as p').select(['p.phase', 'p.status']).whereRef('p.test_id', '=', 't.id')
        // the running phase; else the last one that ran (a skipped phase is written when it is passed over)
        .orderBy(sql`p.status = 'running'`, 'desc').orderBy(sql`p.status <> 'skipped'`, 'desc').orderBy('p.started_at', 'desc').orderBy('p.id', 'desc')
        .limit(1).as('cp'),
      (join) => join.onTrue(),
    )
    .select([
      't.id', 't.queue_id', 'q.advisory_name', 'q.target_os', 'e.severity', 'q.status as queue_status', 't.status', 't.workflow_id',
      't.test_system_id', 't.test_system_name', 't.cpu_delta', 't.memory_delta', 't.requires_reboot', 't.rollback_type',
      't.rollback_verified', 't.failure_phase', 't.failure_reason', 'cp.phase as current_phase', 'cp.status as current_phase_status',
    ])
    .select([sql<string>`${ISO('t.started_at')}`.as('started_at'), sql<string | null>`${ISO('t.completed_at')}`.as('completed_at')])
    .where('t.id', 'in', ids.map((r) => r.id))
    .orderBy('t.id', 'desc')
    .execute();
  return { total: total.n, items: items as TestListItem[] };
}
