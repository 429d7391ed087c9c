import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import { pendingApprovals } from '../../db/queries/approvals.js';
import { overview } from '../../db/queries/overview.js';
import { isolatedDatabase, testConfig, testDb } from '../support/context.js';
import { seedItem, seedTest } from '../support/dashboard-seed.js';

// The approval inbox and the overview's "oldest waiting" order by patch_test_queue.last_passed_at, which a
// statement trigger on patch_tests keeps (migration 2026_12_08_0001) instead of probing every waiting item's
// tests per poll. It must give exactly v_pending_approvals' pending_since (the last passed test's completed_at,
// else status_changed_at) after every kind of write to patch_tests.

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);

/** [queue_id, pending_since] from the view, and from the column, oldest first. */
async function both(db: Db) {
  const { rows: view } = await sql<{ queue_id: number; at: string }>`
    select queue_id, pending_since::text as at from v_pending_approvals order by pending_since, queue_id`.execute(db);
  const { rows: column } = await sql<{ queue_id: number; at: string }>`
    select id as queue_id, coalesce(last_passed_at, status_changed_at)::text as at from patch_test_queue
    where status in ('pending_approval', 'snoozed') order by coalesce(last_passed_at, status_changed_at), id`.execute(db);
  return { view, column };
}

describe('last_passed_at (the inbox order) equals v_pending_approvals.pending_since', () => {
  let db: Db;
  const items: number[] = [];

  beforeAll(async () => {
    db = testDb(testConfig({ DB_NAME: await isolatedDatabase('pending_since') }));
    for (let i = 0; i < 6; i++) items.push(await seedItem(db, `PENDING-${i}`, i === 5 ? 'snoozed' : 'pending_approval'));
  });
  afterAll(async () => db?.destroy());

  it('after inserts, updates that pass, fail or move a test, deletes and TRUNCATE; the inbox pages in that order', async () => {
    const check = async () => {
      const { view, column } = await both(db);
      expect(column).toEqual(view);
      const page = await pendingApprovals(db, { limit: 4, offset: 0 });
      expect(page.items.map((r) => r.queue_id)).toEqual(view.slice(0, 4).map((r) => r.queue_id));
      expect(page.total).toBe(view.length);
      return view;
    };
    // items without a passed test wait since their status changed; passed tests, completed long ago, go first
    const older = await seedTest(db, items[2]!, { status: 'passed' });
    await db.updateTable('patch_tests').set({ completed_at: hoursAgo(30) }).where('id', '=', older).execute();
    const newer = await seedTest(db, items[2]!, { status: 'passed' });
    await db.updateTable('patch_tests').set({ completed_at: hoursAgo(5) }).where('id', '=', newer).execute();
    await seedTest(db, items[3]!, { status: 'failed' });
    const passedLater = await seedTest(db, items[4]!, { status: 'running' });
    let view = await check();
    expect(view[0]!.queue_id).toBe(items[2]);
    // the last passed test counts, and a failed or running one does not
    expect(new Date(view[0]!.at).getTime()).toBeCloseTo(hoursAgo(5).getTime(), -4);

    await db.updateTable('patch_tests').set({ status: 'passed', completed_at: hoursAgo(50) }).where('id', '=', passedLater).execute();
    view = await check();
    expect(view[0]!.queue_id).toBe(items[4]);
    // a passed test that is later judged otherwise no longer counts
    await db.updateTable('patch_tests').set({ status: 'failed' }).where('id', '=', newer).execute();
    view = await check();
    expect(new Date(view.find((r) => r.queue_id === items[2])!.at).getTime()).toBeCloseTo(hoursAgo(30).getTime(), -4);
    // a bulk insert over many items in one statement, and a test moved to another item
    await sql`insert into patch_tests (queue_id, workflow_id, run_id, status, started_at, completed_at)
              select (array[${items[0]!}, ${items[1]!}, ${items[5]!}]::int[])[1 + i % 3], 'bulk', 'bulk-' || i, 'passed', now(), now() - (i || ' hours')::interval
              from generate_series(1, 30) i`.execute(db);
    await check();
    await db.updateTable('patch_tests').set({ queue_id: items[3]! }).where('id', '=', passedLater).execute();
    view = await check();
    await db.deleteFrom('patch_tests').where('workflow_id', '=', 'bulk').where('queue_id', '=', items[0]!).execute();
    view = await check();
    const overviewNow = await overview(db);
    expect(overviewNow.approvals.oldest_queue_id).toBe(view.filter((r) => r.queue_id !== items[5])[0]!.queue_id);
    await sql`truncate patch_tests cascade`.execute(db);
    view = await check();
    expect((await sql<{ n: number }>`select count(*)::int as n from patch_test_queue where last_passed_at is not null`.execute(db)).rows[0]!.n).toBe(0);
  });
});
