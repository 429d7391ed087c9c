import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 10 "recorded before it takes effect": a persistent database failure at each recording step — the
// approval decision, the deployment request, the production rollback request — refuses the action within
// seconds, and afterwards Temporal and PostgreSQL agree that nothing happened. The failure is real: a
// PostgreSQL trigger that raises on every insert into the table the step writes, until it is dropped.
describe('a human action whose record cannot be written does not take effect', { timeout: 240_000 }, () => {
  let t: TestEngine;
  let queueId: number;

  const refuseInserts = async (table: string) => {
    await sql`create or replace function spm_injected_failure() returns trigger language plpgsql as $$
      begin raise exception 'injected failure: could not extend file (No space left on device)'; end $$`.execute(t.tw.db);
    await sql`create trigger spm_injected_failure before insert on ${sql.table(table)} for each row execute function spm_injected_failure()`.execute(t.tw.db);
  };
  const heal = (table: string) => sql`drop trigger if exists spm_injected_failure on ${sql.table(table)}`.execute(t.tw.db);
  const post = (url: string, payload: unknown, role: 'approver' | 'operator') =>
    t.api.app.inject({ method: 'POST', url, headers: bearer(role), payload: payload as Record<string, unknown> });
  const count = async (table: 'patch_approvals' | 'deployments' | 'operator_actions' | 'patch_rollbacks') =>
    Number((await t.tw.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).where('queue_id', '=', queueId).executeTakeFirstOrThrow()).n);
  const workflowExists = (id: string) => t.tw.client.workflow.getHandle(id).describe().then(() => true, () => false);
  const status = () => t.tw.client.workflow.getHandle(workflowIds.patchTest(queueId)).query(testStatusQuery);

  beforeAll(async () => {
    t = await startTestEngine('record');
    for (const [k, v] of [['deploy.soak_minutes', 0], ['deploy.canary_size', 1], ['deploy.wave_size', 20]] as const) {
      const res = await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${k}`, headers: bearer('admin'), payload: { value: v } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const both = t.lab.fleet
      .findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false, relevantTo: 'test' }, 50)
      .find((e) => t.lab.fleet.affectedSystems(e.id).some((s) => s.stage === 'prod'));
    expect(both, 'an erratum relevant to the test system and to production').toBeDefined();
    queueId = await t.queue(both!);
    const started = await post('/api/v1/tests/start', { queue_id: queueId }, 'operator');
    expect(started.statusCode, started.body).toBe(202);
    await t.untilStatus(workflowIds.patchTest(queueId), 'pending_approval');
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a decision: 503 within seconds, the item still waits, no row; once healed the same decision is taken', async () => {
    await refuseInserts('patch_approvals');
    const began = Date.now();
    const refused = await post(`/api/v1/approvals/${queueId}/approve`, { reason: 'looks fine' }, 'approver');
    const seconds = (Date.now() - began) / 1000;
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json().message).toMatch(/could not be recorded.*No space left on device/);
    expect(seconds, 'answered within seconds').toBeLessThan(15);
    expect((await status()).status).toBe('pending_approval');
    expect(await t.queueStatus(queueId)).toBe('pending_approval');
    expect(await count('patch_approvals')).toBe(0);
    expect((await t.tw.db.selectFrom('operator_actions').select('action').where('queue_id', '=', queueId).where('action', '=', 'approve').execute())).toEqual([]);

    await heal('patch_approvals');
    const approved = await post(`/api/v1/approvals/${queueId}/approve`, { reason: 'looks fine' }, 'approver');
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await status()).status).toBe('approved');
    expect(await t.queueStatus(queueId)).toBe('approved');
    expect(await count('patch_approvals')).toBe(1);
  });

  it('a deployment request: 503, no rollout started, still approved; once healed it starts', async () => {
    await refuseInserts('deployments');
    const refused = await post('/api/v1/deployments', { queue_id: queueId }, 'operator');
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json().message).toMatch(/could not be recorded, so nothing was started/);
    expect(await workflowExists(workflowIds.deployment(queueId))).toBe(false);
    expect((await status()).status).toBe('approved');
    expect(await t.queueStatus(queueId)).toBe('approved');
    expect(await count('deployments')).toBe(0);

    await heal('deployments');
    const started = await post('/api/v1/deployments', { queue_id: queueId }, 'operator');
    expect(started.statusCode, started.body).toBe(202);
    expect(await count('deployments')).toBe(1);
    // The Update answers once the request is recorded; the child rollout starts right after it.
    for (let i = 0; i < 100 && !(await workflowExists(workflowIds.deployment(queueId))); i++) await new Promise((r) => setTimeout(r, 100));
    await t.tw.client.workflow.getHandle(workflowIds.deployment(queueId)).result();
    expect(await t.queueStatus(queueId)).toBe('completed');
  });

  it('a production rollback request: 503, no rollback workflow, nothing rolled back; once healed it runs', async () => {
    await refuseInserts('operator_actions');
    const refused = await post(`/api/v1/deployments/${queueId}/rollback`, { reason: 'undo' }, 'operator');
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json().message).toMatch(/could not be recorded, so nothing was started/);
    expect(await workflowExists(workflowIds.deploymentRollback(queueId))).toBe(false);
    expect(await t.queueStatus(queueId)).toBe('completed');
    expect(await count('patch_rollbacks')).toBe(0);

    await heal('operator_actions');
    const started = await post(`/api/v1/deployments/${queueId}/rollback`, { reason: 'undo' }, 'operator');
    expect(started.statusCode, started.body).toBe(202);
    await t.tw.client.workflow.getHandle(workflowIds.deploymentRollback(queueId)).result();
    expect(await t.queueStatus(queueId)).toBe('prod_rolled_back');
    expect((await t.tw.db.selectFrom('operator_actions').select('status').where('queue_id', '=', queueId).where('action', '=', 'rollback_deployment').execute())).toEqual([
      { status: 'recorded' },
    ]);
  });
});
