import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIds } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// UYUNI refuses to schedule an erratum already scheduled on a system (fault 2600). The product then adopts
// the action UYUNI already has — in a test and in a production rollout — instead of failing, and applies the
// patch once. (Issue 10: "adoption of an already-scheduled action always refusing" must fail a test.)
describe('an erratum already scheduled in UYUNI is adopted, not refused', { timeout: 240_000 }, () => {
  let t: TestEngine;

  beforeAll(async () => {
    t = await startTestEngine('adopt');
    for (const [k, v] of [['deploy.soak_minutes', 0], ['deploy.canary_size', 1], ['deploy.wave_size', 20], ['test.settle_seconds', 5]] as const) {
      expect((await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${k}`, headers: bearer('admin'), payload: { value: v } })).statusCode).toBe(200);
    }
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the test and every production system adopt the pending action; each applied once', async () => {
    const e = t.lab.fleet
      .findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false, relevantTo: 'test' }, 50)
      .find((x) => t.lab.fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length >= 2)!;
    const testSystem = t.systemOf('rhel');
    // someone (or an earlier attempt) scheduled it in UYUNI already; it runs in 20 s
    const [early] = t.lab.fleet.scheduleApplyErrata([testSystem.id], [e.id], { earliestMs: Date.now() + 20_000 });
    const queueId = await t.queue(e);
    const started = await t.api.app.inject({ method: 'POST', url: '/api/v1/tests/start', headers: bearer('operator'), payload: { queue_id: queueId } });
    expect(started.statusCode, started.body).toBe(202);
    await t.untilStatus(workflowIds.patchTest(queueId), 'pending_approval');
    const test = await t.tw.db.selectFrom('patch_tests').select(['uyuni_action_id', 'status']).where('queue_id', '=', queueId).executeTakeFirstOrThrow();
    expect(test).toEqual({ uyuni_action_id: early, status: 'passed' });
    expect(t.lab.fleet.applyCount(testSystem.id, e.id)).toBe(1);

    const prod = t.lab.fleet.affectedSystems(e.id).filter((s) => s.stage === 'prod');
    const pending = new Map(prod.map((s) => [s.id, t.lab.fleet.scheduleApplyErrata([s.id], [e.id], { earliestMs: Date.now() + 15_000 })[0]]));
    expect((await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${queueId}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } })).statusCode).toBe(200);
    expect((await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: queueId } })).statusCode).toBe(202);
    const result = await t.tw.client.workflow.getHandle(workflowIds.patchTest(queueId)).result();
    expect(result.deployment, JSON.stringify(result.deployment)).toMatchObject({ status: 'completed', failed: 0 });
    const rows = await t.tw.db.selectFrom('patch_deployments').select(['system_id', 'status', 'uyuni_action_id']).where('queue_id', '=', queueId).execute();
    for (const r of rows) {
      expect(r, `system ${r.system_id}`).toEqual({ system_id: r.system_id, status: 'applied', uyuni_action_id: pending.get(r.system_id) });
      expect(t.lab.fleet.applyCount(r.system_id, e.id)).toBe(1);
    }
  });
});
