import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Erratum } from '../../lab/fleet/index.js';
import { recheckTestability } from '../../db/queries/dispatch.js';
import type { uyuniSync } from '../../workflows/index.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 9 "queue items never wait forever" and "inconclusive": a queued item no test system can test any
// more becomes `untestable` with the reason after the next sync, and queued again once it is relevant again;
// a test system that does not come to rest makes a test inconclusive (nothing applied, no verdict, not the
// patch's failure), and the item is queued again later.
describe('queue items never wait forever', { timeout: 240_000 }, () => {
  let t: TestEngine;
  let syncs = 0;
  const sync = () =>
    t.tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: t.tw.taskQueue, workflowId: `nw-sync-${t.tw.taskQueue}-${syncs++}`, args: [{ trigger: 'manual' }] });
  const item = (id: number) => t.tw.db.selectFrom('patch_test_queue').select(['status', 'status_reason']).where('id', '=', id).executeTakeFirstOrThrow();
  /** Installs the erratum's builds on the lab host behind the product's back (as a person with ssh would). */
  const installOutOfBand = (systemId: number, e: Erratum) => {
    const before = t.lab.fleet.packagesOf(e).map((p) => t.lab.fleet.installedBuild(systemId, p.family));
    t.lab.fleet.installPackages(systemId, t.lab.fleet.packagesOf(e));
    return () => t.lab.fleet.installPackages(systemId, before);
  };

  beforeAll(async () => {
    // a 6 s window: the lab's leak climbs 1 pp/s, so a window at rest moves at most 3 pp (the default spread)
    t = await startTestEngine('neverwait', { env: { TEST_BASELINE_TIMEOUT_SECONDS: '10', TEST_METRICS_RANGE_SECONDS: '6' } });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('an item that became irrelevant to every test system is untestable with the reason, and queued again when relevant again', async () => {
    const system = t.systemOf('rhel');
    const e = t.erratum({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false });
    const queueId = await t.queue(e);
    const undo = installOutOfBand(system.id, e);
    expect(t.lab.fleet.isRelevant(system.id, e.id)).toBe(false);
    await sync();
    expect(await item(queueId)).toEqual({ status: 'untestable', status_reason: expect.stringMatching(/no rhel test system .*relevant|relevant to no|not relevant/i) });
    const start = await t.api.app.inject({ method: 'POST', url: '/api/v1/tests/start', headers: bearer('operator'), payload: { queue_id: queueId } });
    expect(start.statusCode, start.body).toBe(409);
    expect(start.json().message).toMatch(/untestable/);
    expect(start.json().message).not.toMatch(/leased or quarantined/);

    undo();
    expect(t.lab.fleet.isRelevant(system.id, e.id)).toBe(true);
    await sync();
    expect((await item(queueId)).status).toBe('queued');
  });

  it('a test system that does not come to rest: inconclusive with the reason, nothing applied, not blamed on the patch; retried later', async () => {
    const system = t.systemOf('ubuntu');
    // a memory leak the product did not cause: memory climbs all the time, so no window is at rest
    const leak = t.erratum({ os: 'ubuntu', personality: 'memory_leak' });
    const heal = installOutOfBand(system.id, leak);
    // the leak has been running for a while when the test comes (Prometheus has scraped it)
    await new Promise((r) => setTimeout(r, 4_000));
    const e = t.erratum({ os: 'ubuntu', personality: 'none', rebootSuggested: false, kernel: false });
    const queueId = await t.queue(e);
    const result = await t.runTest(queueId);
    expect(result).toMatchObject({ status: 'inconclusive', failure: { phase: 'snapshot' }, rollbackType: null, rollbackVerified: null });
    expect(result.failure?.reason).toMatch(/did not come to rest within 10 s: .*memory (moved|is at)/);
    expect(t.lab.fleet.applyCount(system.id, e.id), 'nothing was applied').toBe(0);
    const row = await t.testRow(result.testId);
    expect(row).toMatchObject({ status: 'inconclusive', failure_cause: 'test_system' });
    expect((row.metrics_before as { settle?: { settled: boolean; reasons: string[] } }).settle).toMatchObject({ settled: false });
    expect(await item(queueId)).toMatchObject({ status: 'inconclusive', status_reason: expect.stringMatching(/did not come to rest/) });
    const sys = await t.tw.db.selectFrom('test_systems').select(['leased_by', 'quarantined']).where('system_id', '=', system.id).executeTakeFirstOrThrow();
    expect(sys).toEqual({ leased_by: null, quarantined: false });

    // retried once its wait is over (not before), at most maxRetries times
    expect(await recheckTestability(t.tw.db, { retryAfterSeconds: 3600, maxRetries: 3 })).not.toHaveProperty('queued');
    expect((await item(queueId)).status).toBe('inconclusive');
    expect(await recheckTestability(t.tw.db, { retryAfterSeconds: 0, maxRetries: 3 })).toMatchObject({ queued: 1 });
    expect((await item(queueId)).status).toBe('queued');

    heal();
    const again = await t.runTest(queueId);
    expect(again.status, JSON.stringify(again)).toBe('passed');
  });
});
