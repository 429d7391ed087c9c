import { sql, type Kysely, type Transaction } from 'kysely';
import { budgetUsed } from '../../domain/budget-used.js';
import type { Database } from '../database.js';

// What the API's /metrics reads from PostgreSQL at scrape time: every query is one GROUP BY over a table
// whose size is the fleet's history (queue items, tests, phases, rollbacks, rollout rows, notifications),
// run in parallel. bench/metrics measures a scrape over 100,000 queue items and 10,000 tests.

type Executor = Kysely<Database> | Transaction<Database>;

/** Upper bounds (seconds) of the phase-duration histogram: a lease wait of a second up to a 2-hour reboot. */
export const PHASE_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200] as const;

export interface PhaseHistogramRow {
  phase: string;
  status: string;
  /** Cumulative counts, one per PHASE_DURATION_BUCKETS entry. */
  buckets: number[];
  count: number;
  sumSeconds: number;
}

export interface BusinessReadings {
  queue: { status: string; os: string; n: number }[];
  approvals: { pending: number; oldestWaitSeconds: number | null };
  tests: { status: string; n: number }[];
  phases: PhaseHistogramRow[];
  rollbacks: { scope: string; type: string; result: string; n: number }[];
  /** Rollbacks that ended not verified within the last 24 hours, by scope (what the alert watches). */
  rollbacksNotVerified24h: { scope: string; n: number }[];
  testSystems: { os: string; state: 'quarantined' | 'leased' | 'free'; n: number }[];
  sync: {
    lastSuccessAt: Date | null;
    lastSuccessDurationSeconds: number | null;
    runs: { status: string; n: number }[];
    running: number;
  };
  deploymentSystems: { status: string; n: number }[];
  /** Rollouts still running: failed systems against their failure budget (1 = the budget is used up). */
  activeRollouts: { queueId: number; targets: number; failed: number; budgetUsedRatio: number }[];
  notifications: { status: string; channel: string; n: number }[];
}

const n = (v: unknown): number => Number(v ?? 0);

export async function readBusinessMetrics(db: Executor): Promise<BusinessReadings> {
  const bucketColumns = sql.join(
    PHASE_DURATION_BUCKETS.map((le, i) => sql`count(*) filter (where duration_ms <= ${le * 1000})::int as ${sql.ref(`b${i}`)}`),
  );
  const [queue, approvals, tests, phases, rollbacks, systems, syncLast, syncRuns, deploySystems, rollouts, notifications] = await Promise.all([
    db.selectFrom('patch_test_queue').select(['status', 'target_os as os', sql<number>`count(*)::int`.as('n')]).groupBy(['status', 'target_os']).execute(),
    db
      .selectFrom('patch_test_queue')
      .where('status', '=', 'pending_approval')
      .select([sql<number>`count(*)::int`.as('pending'), sql<number | null>`extract(epoch from now() - min(status_changed_at))::float8`.as('oldest')])
      .executeTakeFirstOrThrow(),
    db.selectFrom('patch_tests').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute(),
    sql<Record<string, unknown>>`
      select phase, status, ${bucketColumns}, count(*)::int as count, coalesce(sum(duration_ms), 0)::float8 / 1000 as sum_seconds
      from patch_test_phases where completed_at is not null and duration_ms is not null
      group by phase, status`.execute(db),
    db
      .selectFrom('patch_rollbacks')
      .select([
        'scope',
        'rollback_type',
        'status',
        sql<number>`count(*)::int`.as('n'),
        sql<number>`count(*) filter (where status = 'failed' and coalesce(completed_at, started_at) > now() - interval '24 hours')::int`.as('recent_failed'),
      ])
      .groupBy(['scope', 'rollback_type', 'status'])
      .execute(),
    db
      .selectFrom('test_systems')
      .select([
        'os',
        sql<number>`count(*) filter (where quarantined)::int`.as('quarantined'),
        sql<number>`count(*) filter (where not quarantined and leased_by is not null)::int`.as('leased'),
        sql<number>`count(*) filter (where not quarantined and leased_by is null)::int`.as('free'),
      ])
      .groupBy('os')
      .execute(),
    db
      .selectFrom('sync_runs')
      .where('status', '=', 'succeeded')
      .select(['finished_at', 'duration_ms'])
      .orderBy('finished_at', 'desc')
      .limit(1)
      .executeTakeFirst(),
    db.selectFrom('sync_runs').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute(),
    db.selectFrom('patch_deployments').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute(),
    sql<{ queue_id: number; targets: number; failed: number; budget_count: number | null; budget_percent: number | null }>`
      select d.queue_id, count(p.id)::int as targets,
             count(p.id) filter (where p.status in ('failed', 'rollback_failed'))::int as failed,
             (d.policy->>'failureBudgetCount')::float8 as budget_count, (d.policy->>'failureBudgetPercent')::float8 as budget_percent
      from deployments d left join patch_deployments p on p.queue_id = d.queue_id
      where d.status in ('requested', 'promoting')
      group by d.id, d.queue_id, d.policy`.execute(db),
    // one row per (event, endpoint) delivery; its channel is the endpoint's kind
    db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notification_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.status', 'e.kind as channel', sql<number>`count(*)::int`.as('n')])
      .groupBy(['d.status', 'e.kind'])
      .execute(),
  ]);
  return {
    queue: queue.map((r) => ({ status: r.status, os: r.os, n: n(r.n) })),
    approvals: { pending: n(approvals.pending), oldestWaitSeconds: approvals.oldest === null ? null : Number(approvals.oldest) },
    tests: tests.map((r) => ({ status: r.status, n: n(r.n) })),
    phases: phases.rows.map((r) => ({
      phase: String(r.phase),
      status: String(r.status),
      buckets: PHASE_DURATION_BUCKETS.map((_, i) => n(r[`b${i}`])),
      count: n(r.count),
      sumSeconds: n(r.sum_seconds),
    })),
    rollbacks: rollbacks.map((r) => ({
      scope: r.scope,
      type: r.rollback_type,
      result: r.status === 'succeeded' ? 'verified' : r.status === 'failed' ? 'not_verified' : 'running',
      n: n(r.n),
    })),
    rollbacksNotVerified24h: (['test', 'production'] as const).map((scope) => ({
      scope,
      n: rollbacks.filter((r) => r.scope === scope).reduce((sum, r) => sum + n(r.recent_failed), 0),
    })),
    testSystems: systems.flatMap((r) =>
      (['quarantined', 'leased', 'free'] as const).map((state) => ({ os: r.os, state, n: n(r[state]) })),
    ),
    sync: {
      lastSuccessAt: syncLast?.finished_at ?? null,
      lastSuccessDurationSeconds: syncLast?.duration_ms == null ? null : syncLast.duration_ms / 1000,
      runs: syncRuns.map((r) => ({ status: r.status, n: n(r.n) })),
      running: n(syncRuns.find((r) => r.status === 'running')?.n),
    },
    deploymentSystems: deploySystems.map((r) => ({ status: r.status, n: n(r.n) })),
    activeRollouts: rollouts.rows.map((r) => ({
      queueId: n(r.queue_id),
      targets: n(r.targets),
      failed: n(r.failed),
      budgetUsedRatio: budgetUsed(n(r.failed), n(r.targets), r.budget_count, r.budget_percent),
    })),
    notifications: notifications.map((r) => ({ status: r.status, channel: r.channel, n: n(r.n) })),
  };
}
