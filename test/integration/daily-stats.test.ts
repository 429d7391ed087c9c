import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import { dailyStats } from '../../db/queries/overview.js';
import { isolatedDatabase, testConfig, testDb } from '../support/context.js';
import { seedDecision, seedDeploymentRows, seedItem, seedTest } from '../support/dashboard-seed.js';

// The overview's 30-day chart is read from daily_stats, which statement triggers keep (migration
// 2026_12_07_1401). It must equal what the rows themselves say after every kind of write: single and bulk
// inserts, updates that move a row to another day or status, deletes and TRUNCATE.

/** The chart counted from the rows (the grouped scans the overview ran before daily_stats), per UTC day. */
async function fromRows(db: Db) {
  const { rows } = await sql<Record<string, number | string>>`
    with days as (select d::date as day from generate_series((now() at time zone 'UTC')::date - 29, (now() at time zone 'UTC')::date, interval '1 day') d),
    started as (select (started_at at time zone 'UTC')::date as day, count(*) as n from patch_tests group by 1),
    done as (select (completed_at at time zone 'UTC')::date as day, count(*) filter (where status = 'passed') as passed,
                    count(*) filter (where status = 'failed') as failed, count(*) filter (where status = 'rolled_back') as rolled_back
             from patch_tests where completed_at is not null group by 1),
    decided as (select (decided_at at time zone 'UTC')::date as day, count(*) filter (where decision = 'approve') as approved,
                       count(*) filter (where decision = 'reject') as rejected from patch_approvals group by 1),
    patched as (select (completed_at at time zone 'UTC')::date as day, count(*) as n from patch_deployments where status = 'applied' and completed_at is not null group by 1),
    rolled as (select (started_at at time zone 'UTC')::date as day, count(*) as n from patch_rollbacks group by 1)
    select to_char(days.day, 'YYYY-MM-DD') as day,
           coalesce(started.n, 0)::integer as tests_started, coalesce(done.passed, 0)::integer as tests_passed,
           coalesce(done.failed, 0)::integer as tests_failed, coalesce(done.rolled_back, 0)::integer as tests_rolled_back,
           coalesce(decided.approved, 0)::integer as approved, coalesce(decided.rejected, 0)::integer as rejected,
           coalesce(patched.n, 0)::integer as systems_patched, coalesce(rolled.n, 0)::integer as rollbacks
    from days left join started using (day) left join done using (day) left join decided using (day)
              left join patched using (day) left join rolled using (day)
    order by days.day`.execute(db);
  return rows;
}

const daysAgo = (n: number, hour = 12) => {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  d.setUTCHours(hour, 0, 0, 0);
  return d;
};

const total = (rows: Record<string, number | string>[], col: string) => rows.reduce((n, r) => n + Number(r[col]), 0);

describe('daily_stats (the overview chart) equals the rows it counts', () => {
  let db: Db;
  const items: number[] = [];
  const tests: number[] = [];

  beforeAll(async () => {
    db = testDb(testConfig({ DB_NAME: await isolatedDatabase('daily_stats') }));
    for (const [i, status] of (['pending_approval', 'failed', 'rolled_back', 'completed', 'promoting'] as const).entries()) {
      items.push(await seedItem(db, `DAILY-${i}`, status));
    }
    tests.push(await seedTest(db, items[0]!, { status: 'passed' }));
    tests.push(await seedTest(db, items[1]!, { status: 'failed' }));
    tests.push(await seedTest(db, items[2]!, { status: 'rolled_back' }));
    tests.push(await seedTest(db, items[3]!, { status: 'passed' }));
    tests.push(await seedTest(db, items[4]!, { status: 'running' }));
    await seedDecision(db, items[3]!, { decision: 'approve', by: 'anna', source: 'api', at: daysAgo(2) });
    await seedDecision(db, items[4]!, { decision: 'reject', by: 'anna', source: 'api', at: daysAgo(40) });
    await seedDeploymentRows(db, items[3]!, [{ wave: 0, status: 'applied' }, { wave: 1, status: 'applied' }, { wave: 1, status: 'failed' }]);
    await seedDeploymentRows(db, items[4]!, [{ wave: 0, status: 'applied' }, { wave: 1, status: 'pending' }]);
  });
  afterAll(async () => db?.destroy());

  it('after single-row inserts', async () => {
    const chart = await dailyStats(db);
    expect(chart).toHaveLength(30);
    expect(chart).toEqual(await fromRows(db));
    expect(chart.at(-1)).toMatchObject({ tests_started: 5, tests_passed: 2, tests_failed: 1, tests_rolled_back: 1 });
    expect(total(chart, 'approved')).toBe(1);
    // the rejection 40 days ago is outside the chart
    expect(total(chart, 'rejected')).toBe(0);
  });

  it('after updates that move rows to other days and states, and a bulk insert over several days', async () => {
    await db.updateTable('patch_tests').set({ started_at: daysAgo(3, 23), completed_at: daysAgo(2, 1) }).where('id', '=', tests[0]!).execute();
    await db.updateTable('patch_tests').set({ status: 'rolled_back' }).where('id', '=', tests[1]!).execute();
    await db.updateTable('patch_tests').set({ status: 'passed', completed_at: daysAgo(0, 0) }).where('id', '=', tests[4]!).execute();
    await db.updateTable('patch_approvals').set({ decision: 'reject', decided_at: daysAgo(5) }).where('queue_id', '=', items[3]!).execute();
    await db.updateTable('patch_deployments').set({ status: 'applied', completed_at: daysAgo(1) }).where('queue_id', '=', items[4]!).execute();
    await db.updateTable('patch_deployments').set({ status: 'failed' }).where('queue_id', '=', items[3]!).where('wave', '=', 0).execute();
    // an update that touches nothing counted changes nothing
    await db.updateTable('patch_tests').set({ failure_reason: 'noted' }).execute();
    // one statement, many rows over many days (tests started and completed on different days)
    await sql`insert into patch_tests (queue_id, workflow_id, run_id, status, started_at, completed_at)
              select ${items[0]!}, 'patch-test-bulk', 'bulk-' || i, (array['passed', 'failed', 'rolled_back', 'running'])[1 + i % 4],
                     now() - (i || ' hours')::interval, case when i % 4 = 3 then null else now() - ((i - 1) || ' hours')::interval end
              from generate_series(1, 200) i`.execute(db);
    await sql`insert into patch_rollbacks (queue_id, scope, system_id, rollback_type, status, idempotency_key, started_at)
              select ${items[2]!}, 'test', 1, 'package', 'succeeded', 'daily-rb-' || i, now() - (i || ' days')::interval from generate_series(0, 34) i`.execute(db);
    const chart = await dailyStats(db);
    expect(chart).toEqual(await fromRows(db));
    expect(total(chart, 'tests_started')).toBeGreaterThan(150);
    expect(total(chart, 'rejected')).toBe(1);
    expect(total(chart, 'systems_patched')).toBe(3);
    expect(total(chart, 'rollbacks')).toBe(30);
  });

  it('after deletes and TRUNCATE', async () => {
    await db.deleteFrom('patch_tests').where('workflow_id', '=', 'patch-test-bulk').where('status', '=', 'failed').execute();
    await db.deleteFrom('patch_approvals').where('queue_id', '=', items[3]!).execute();
    expect(await dailyStats(db)).toEqual(await fromRows(db));
    await sql`truncate patch_rollbacks`.execute(db);
    const chart = await dailyStats(db);
    expect(chart).toEqual(await fromRows(db));
    expect(total(chart, 'rollbacks')).toBe(0);
    expect(total(chart, 'tests_started')).toBeGreaterThan(100);
  });
});
