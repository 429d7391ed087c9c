import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, uniqueTaskQueue } from '../support/context.js';

// POST /api/v1/tests/start {} under concurrency, on real PostgreSQL and Temporal. No worker polls the task
// queue, so a started patchTest never runs: what the API claimed (item testing, system leased) is all there
// is, and it stays until the test ends.

interface Fixture {
  systems: { id: number; name: string; os: 'rhel' | 'ubuntu'; leasedBy?: string; quarantined?: string }[];
  /** Advisories, each relevant to every system of its OS; priority 1 = first. */
  items: { advisory: string; os: 'rhel' | 'ubuntu'; priority: number; synced?: boolean }[];
}

async function seed(db: Db, f: Fixture): Promise<Map<string, number>> {
  const now = new Date();
  await db
    .insertInto('test_systems')
    .values(
      f.systems.map((s) => ({
        system_id: s.id, name: s.name, os: s.os, group_name: `test-${s.os}`, minion_id: s.name, last_seen_at: now,
        leased_by: s.leasedBy ?? null, leased_at: s.leasedBy ? now : null, quarantined: !!s.quarantined, quarantine_reason: s.quarantined ?? null,
        quarantined_at: s.quarantined ? now : null, created_at: now, updated_at: now,
      })),
    )
    .execute();
  const ids = new Map<string, number>();
  for (const [n, item] of f.items.entries()) {
    await db
      .insertInto('errata_cache')
      .values({
        advisory_name: item.advisory, advisory_type: 'Security Advisory', severity: 'High', target_os: [item.os],
        test_system_ids: f.systems.filter((s) => s.os === item.os).map((s) => s.id), uyuni_errata_id: item.synced === false ? null : 5000 + n,
      })
      .execute();
    const row = await db
      .insertInto('patch_test_queue')
      .values({ advisory_name: item.advisory, target_os: item.os, priority_override: item.priority, queued_by: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.set(item.advisory, row.id);
  }
  return ids;
}

async function startApi(label: string): Promise<TestApi> {
  return startTestApi({ DB_NAME: await isolatedDatabase(label), TEMPORAL_TASK_QUEUE: uniqueTaskQueue(`${label}-no-worker`), DB_POOL_MAX: '25' });
}

const start = (api: TestApi, body: Record<string, unknown> = {}) =>
  api.app.inject({ method: 'POST', url: '/api/v1/tests/start', headers: bearer('operator'), payload: body });

async function terminateStarted(api: TestApi): Promise<void> {
  const rows = await api.db.selectFrom('patch_test_queue').select('workflow_id').where('workflow_id', 'is not', null).execute();
  for (const r of rows) await api.temporal.client.workflow.getHandle(r.workflow_id as string).terminate('test over').catch(() => undefined);
}

describe('POST /api/v1/tests/start is race-free', () => {
  describe('20 concurrent starts', () => {
    let api: TestApi;
    let ids: Map<string, number>;
    const fixture: Fixture = {
      systems: [
        { id: 1000010001, name: 'test-rhel-1', os: 'rhel' },
        { id: 1000010002, name: 'test-rhel-2', os: 'rhel' },
        { id: 1000010003, name: 'test-rhel-3', os: 'rhel' },
        { id: 1000010004, name: 'test-rhel-4', os: 'rhel', quarantined: 'reboot did not come back' },
        { id: 1000020001, name: 'test-ubuntu-1', os: 'ubuntu' },
        { id: 1000020002, name: 'test-ubuntu-2', os: 'ubuntu' },
        { id: 1000020003, name: 'test-ubuntu-3', os: 'ubuntu', leasedBy: 'patch-test-elsewhere' },
      ],
      items: [
        ...[1, 2, 3, 4, 5, 6].map((p) => ({ advisory: `RHSA-2026:00${p}0`, os: 'rhel' as const, priority: p })),
        ...[1, 2, 3, 4, 5, 6].map((p) => ({ advisory: `USN-900${p}-1`, os: 'ubuntu' as const, priority: 10 + p })),
      ],
    };

    beforeAll(async () => {
      api = await startApi('race20');
      ids = await seed(api.db, fixture);
    });
    afterAll(async () => {
      if (api) await terminateStarted(api);
      await api?.close();
    });

    it('start exactly one test per free system, each on a distinct item and system of its OS, the rest 409 with the true reason', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => start(api)));
      const started = answers.filter((a) => a.statusCode === 202).map((a) => a.json() as { queue_id: number; test_system_id: number; workflow_id: string });
      const refused = answers.filter((a) => a.statusCode !== 202);

      // 5 systems are free (3 rhel, 2 ubuntu; one quarantined and one leased are not): 5 starts, 15 refusals.
      expect(started).toHaveLength(5);
      expect(new Set(started.map((s) => s.queue_id)).size).toBe(5);
      expect(new Set(started.map((s) => s.test_system_id)).size).toBe(5);
      // The highest-priority items of each OS, on that OS's free systems.
      const want = (os: string, n: number) => fixture.items.filter((i) => i.os === os).slice(0, n).map((i) => ids.get(i.advisory));
      expect(started.map((s) => s.queue_id).sort()).toEqual([...want('rhel', 3), ...want('ubuntu', 2)].sort());
      expect(started.map((s) => s.test_system_id).sort()).toEqual([1000010001, 1000010002, 1000010003, 1000020001, 1000020002]);
      for (const s of started) {
        const item = fixture.items.find((i) => ids.get(i.advisory) === s.queue_id)!;
        expect(String(s.test_system_id).startsWith(item.os === 'rhel' ? '100001' : '100002'), `${item.advisory} on ${s.test_system_id}`).toBe(true);
        expect(s.workflow_id).toBe(`patch-test-${s.queue_id}`);
      }

      expect(refused.map((r) => r.statusCode)).toEqual(Array(15).fill(409));
      for (const r of refused) {
        expect(r.json().message).toBe(
          'no test system is free for 3 queued rhel items: ' +
            `test-rhel-1 leased by patch-test-${want('rhel', 3)[0]}, test-rhel-2 leased by patch-test-${want('rhel', 3)[1]}, ` +
            `test-rhel-3 leased by patch-test-${want('rhel', 3)[2]}, test-rhel-4 quarantined (reboot did not come back); ` +
            '4 queued ubuntu items: ' +
            `test-ubuntu-1 leased by patch-test-${want('ubuntu', 2)[0]}, test-ubuntu-2 leased by patch-test-${want('ubuntu', 2)[1]}, ` +
            'test-ubuntu-3 leased by patch-test-elsewhere',
        );
      }

      // PostgreSQL agrees: each started item is testing on its system, leased to its workflow with its run.
      for (const s of started) {
        const item = await api.db.selectFrom('patch_test_queue').selectAll().where('id', '=', s.queue_id).executeTakeFirstOrThrow();
        expect(item).toMatchObject({ status: 'testing', workflow_id: s.workflow_id, test_system_id: s.test_system_id });
        const system = await api.db.selectFrom('test_systems').selectAll().where('system_id', '=', s.test_system_id).executeTakeFirstOrThrow();
        expect(system.leased_by).toBe(s.workflow_id);
        const description = await api.temporal.client.workflow.getHandle(s.workflow_id).describe();
        expect(system.leased_run_id).toBe(description.runId);
        expect(description.status.name).toBe('RUNNING');
      }
      const quarantined = await api.db.selectFrom('test_systems').selectAll().where('system_id', '=', 1000010004).executeTakeFirstOrThrow();
      expect(quarantined.leased_by).toBeNull();
      expect((await api.db.selectFrom('patch_test_queue').select('id').where('status', '=', 'queued').execute()).length).toBe(7);
    });

    it('an explicit queue_id: 409 naming who holds its systems, or that it is not queued', async () => {
      const waiting = ids.get('RHSA-2026:0060')!;
      const busy = await start(api, { queue_id: waiting });
      expect(busy.statusCode).toBe(409);
      expect(busy.json().message).toMatch(/^no test system is free for RHSA-2026:0060 \(rhel\): test-rhel-1 leased by patch-test-\d+, .*test-rhel-4 quarantined \(reboot did not come back\)$/);
      const running = ids.get('RHSA-2026:0010')!;
      const again = await start(api, { queue_id: running });
      expect(again.json()).toMatchObject({ statusCode: 409, message: `queue item ${running} is testing, not queued (workflow patch-test-${running})` });
      expect((await start(api, { queue_id: 2_147_483_647 })).statusCode).toBe(404);
    });
  });

  describe('back-to-back starts take the other OS when one is busy', () => {
    let api: TestApi;
    let ids: Map<string, number>;

    beforeAll(async () => {
      api = await startApi('race2');
      ids = await seed(api.db, {
        systems: [{ id: 1000010001, name: 'test-rhel-1', os: 'rhel' }, { id: 1000020001, name: 'test-ubuntu-1', os: 'ubuntu' }],
        items: [
          { advisory: 'RHSA-2026:1001', os: 'rhel', priority: 1 },
          { advisory: 'RHSA-2026:1002', os: 'rhel', priority: 2 },
          { advisory: 'USN-9100-1', os: 'ubuntu', priority: 3 },
          { advisory: 'USN-9101-1', os: 'ubuntu', priority: 4, synced: false },
        ],
      });
    });
    afterAll(async () => {
      if (api) await terminateStarted(api);
      await api?.close();
    });

    it('the first takes the rhel item, the second the ubuntu one, the third is told both systems are leased', async () => {
      const first = await start(api);
      expect(first.statusCode, first.body).toBe(202);
      expect(first.json()).toMatchObject({ queue_id: ids.get('RHSA-2026:1001'), test_system_id: 1000010001 });
      const second = await start(api);
      expect(second.statusCode, second.body).toBe(202);
      expect(second.json()).toMatchObject({ queue_id: ids.get('USN-9100-1'), test_system_id: 1000020001 });
      const third = await start(api);
      expect(third.json()).toMatchObject({
        statusCode: 409,
        message: `no test system is free for 1 queued rhel item: test-rhel-1 leased by patch-test-${ids.get('RHSA-2026:1001')}; 1 queued ubuntu item: not synced from UYUNI yet (no errata id)`,
      });
    });
  });
});
