import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestDispatcher } from '../../temporal/dispatcher.js';
import { dispatcherStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 10 "the dispatcher no longer floods the Web UI": with TEST_AUTO_DISPATCH, queued items are tested as
// soon as they are queued (a wake signal, not a 30 s Schedule or the 5-minute sweep), and the whole time there
// is one dispatcher workflow — not one run per tick.
describe('the test dispatcher', { timeout: 240_000 }, () => {
  let t: TestEngine;
  const count = async (query: string) => (await t.tw.client.workflow.count(query)).count;

  beforeAll(async () => {
    t = await startTestEngine('dispatch', { env: { TEST_AUTO_DISPATCH: 'true' } });
    // tests the dispatcher starts take their settle time from orchestrator_config (seeded 60 s)
    const put = await t.api.app.inject({ method: 'PUT', url: '/api/v1/config/test.settle_seconds', headers: bearer('admin'), payload: { value: 5 } });
    expect(put.statusCode, put.body).toBe(200);
    // one erratum per run: bundle.max_size = 1 is the one-by-one behaviour this file pins (bundles: bundle.test.ts)
    const one = await t.api.app.inject({ method: 'PUT', url: '/api/v1/config/bundle.max_size', headers: bearer('admin'), payload: { value: 1 } });
    expect(one.statusCode, one.body).toBe(200);
  }, 180_000);
  afterAll(async () => {
    // the dispatcher's id is one per namespace: leave none behind for other files
    await t?.tw.client.workflow.getHandle(workflowIds.dispatcher()).terminate('test over').catch(() => undefined);
    await t?.close();
  });

  it('queued items start at once, one after the other per test system, under one dispatcher workflow', async () => {
    expect(await ensureTestDispatcher(t.tw.client, t.tw.config)).toBe('running');
    const picks = [
      ...t.lab.fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false, relevantTo: 'test' }, 2),
      t.erratum({ os: 'ubuntu', personality: 'none', rebootSuggested: false, kernel: false }),
    ];
    const queuedAt = Date.now();
    const ids = [];
    for (const e of picks) ids.push(await t.queue(e));
    const startedAt = new Map<number, number>();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const rows = await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status']).where('id', 'in', ids).execute();
      for (const r of rows) if (r.status !== 'queued' && !startedAt.has(r.id)) startedAt.set(r.id, Date.now());
      if (rows.every((r) => ['pending_approval', 'passed'].includes(r.status))) break;
      expect(Date.now(), `still waiting: ${JSON.stringify(rows)}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
    // event-driven: the first test of each OS started within seconds of being queued, not at a sweep
    expect(startedAt.get(ids[0]!)! - queuedAt).toBeLessThan(10_000);
    expect(startedAt.get(ids[2]!)! - queuedAt).toBeLessThan(10_000);
    // the second rhel item waited for the one rhel test system, and was started when it was freed
    expect(startedAt.get(ids[1]!)!).toBeGreaterThan(startedAt.get(ids[0]!)!);

    const status = await t.tw.client.workflow.getHandle(workflowIds.dispatcher()).query(dispatcherStatusQuery);
    expect(status.rounds, JSON.stringify(status)).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 20 && (await count(`WorkflowType="patchTest" AND TaskQueue="${t.tw.taskQueue}"`)) < 3; i++) await new Promise((r) => setTimeout(r, 250));
    expect(await count(`WorkflowType="patchTest" AND TaskQueue="${t.tw.taskQueue}"`)).toBe(3);
    expect(await count(`WorkflowType="testDispatcher"`), 'one dispatcher workflow, not a run per round').toBe(1);
    expect(await count(`WorkflowId STARTS_WITH "test-dispatch-"`), 'no per-tick dispatch runs').toBe(0);

    // TEST_AUTO_DISPATCH off: the worker's start tells it to stop, and it ends
    expect(await ensureTestDispatcher(t.tw.client, { ...t.tw.config, test: { ...t.tw.config.test, autoDispatch: false } })).toBe('stopped');
    await t.tw.client.workflow.getHandle(workflowIds.dispatcher()).result();
  });
});
