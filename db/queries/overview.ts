import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { listRollouts } from './deployments.js';
import { queueStats } from './queue.js';
import { listTests } from './test-list.js';

type Executor = Kysely<Database> | Transaction<Database>;

const ISO = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** At most this many running tests / rollouts / quarantined systems are listed (the counts are exact). */
export const OVERVIEW_LIST_LIMIT = 20;

/**
 * What an SRE reads first in the morning, in one round of parallel queries (each reads a bounded number of rows:
 * counts from queue_counts and daily_stats, lists of at most OVERVIEW_LIST_LIMIT): the last sync, the queue by
 * status/OS/severity, what waits for a decision (and since when), what runs now, what is quarantined, and the
 * last 30 days (daily_stats).
 */
export async function overview(db: Executor) {
  const [syncs, queue, oldest, running, rollouts, systems, quarantined, daily] = await Promise.all([
    db
      .selectFrom('sync_runs')
      .select(['id', 'status', 'trigger', 'duration_ms', 'groups_count', 'systems_count', 'errata_count', 'errata_inserted', 'errata_updated', 'cves_fetched', 'errors', 'error'])
      .select([sql<string>`${ISO('started_at')}`.as('started_at'), sql<string | null>`${ISO('finished_at')}`.as('finished_at')])
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(2)
      .execute(),
    queueStats(db),
    // the waiting counts are queue_counts' (queueStats' by_status, the per-status counts a trigger keeps)
    oldestPending(db),
    listTests(db, { status: ['running'] }, { limit: OVERVIEW_LIST_LIMIT, offset: 0 }),
    listRollouts(db, { status: ['promoting'] }, { limit: OVERVIEW_LIST_LIMIT, offset: 0 }),
    db
      .selectFrom('test_systems')
      .select([
        sql<number>`count(*)::integer`.as('total'),
        sql<number>`count(*) filter (where leased_by is not null)::integer`.as('leased'),
        sql<number>`count(*) filter (where quarantined)::integer`.as('quarantined'),
      ])
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('test_systems')
      .select(['system_id', 'name', 'os', 'quarantine_reason'])
      .select(sql<string | null>`${ISO('quarantined_at')}`.as('quarantined_at'))
      .where('quarantined', '=', true)
      .orderBy('quarantined_at', 'desc')
      .limit(OVERVIEW_LIST_LIMIT)
      .execute(),
    dailyStats(db),
  ]);
  const [last, previous] = syncs;
  return {
    last_sync: last ?? null,
    previous_sync: previous ?? null,
    queue,
    approvals: { pending: queue.by_status.pending_approval ?? 0, snoozed: queue.by_status.snoozed ?? 0, oldest_queue_id: oldest?.queue_id ?? null, oldest_hours_pending: oldest?.hours_pending ?? null },
    running_tests: { total: running.total, items: running.items },
    running_rollouts: { total: rollouts.total, items: rollouts.items },
    test_systems: { ...systems, quarantined_systems: quarantined },
    daily,
  };
}

/**
 * The item waiting longest for a decision and for how many hours: v_pending_approvals' pending_since (its last
 * passed test's completed_at, else status_changed_at) and hours_pending, from the queue row alone: last_passed_at
 * is kept by a trigger (migration 2026_12_08_0001), so the planner reads patch_test_queue_pending_since_idx in
 * order and stops at the first pending item.
 */
async function oldestPending(db: Executor): Promise<{ queue_id: number; hours_pending: number } | undefined> {
  const { rows } = await sql<{ queue_id: number; hours_pending: number }>`
    select q.id as queue_id,
           round((extract(epoch from (now() - coalesce(q.last_passed_at, q.status_changed_at))) / 3600.0)::numeric, 2)::double precision as hours_pending
    from patch_test_queue q
    where q.status = 'pending_approval'
    order by coalesce(q.last_passed_at, q.status_changed_at), q.id
    limit 1`.execute(db);
  return rows[0];
}

/**
 * The overview's chart: one row per UTC day of the last 30 (oldest first; days with nothing are zeros), read
 * from daily_stats, which triggers keep equal to the rows (migration 2026_12_07_1401): tests started (on
 * started_at's day), passed / failed / rolled back (on completed_at's day: v_daily_stats' "failed" split into
 * failed, left as it was, and rolled back, the patch undone), decisions approve / reject (decided_at's day),
 * production systems patched (applied rollout rows, completed_at's day) and rollbacks started. 30 rows read,
 * whatever the history's size.
 */
export async function dailyStats(db: Executor) {
  const { rows } = await sql<{ day: string; tests_started: number; tests_passed: number; tests_failed: number; tests_rolled_back: number; approved: number; rejected: number; systems_patched: number; rollbacks: number }>`
    with days as (select d::date as day from generate_series((now() at time zone 'UTC')::date - 29, (now() at time zone 'UTC')::date, interval '1 day') d)
    select to_char(days.day, 'YYYY-MM-DD') as day,
           coalesce(s.tests_started, 0) as tests_started, coalesce(s.tests_passed, 0) as tests_passed,
           coalesce(s.tests_failed, 0) as tests_failed, coalesce(s.tests_rolled_back, 0) as tests_rolled_back,
           coalesce(s.approved, 0) as approved, coalesce(s.rejected, 0) as rejected,
           coalesce(s.systems_patched, 0) as systems_patched, coalesce(s.rollbacks, 0) as rollbacks
    from days left join daily_stats s using (day)
    order by days.day`.execute(db);
  return rows;
}
