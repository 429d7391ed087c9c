import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findTemporalBinary } from '../../lab/temporal-dev-server.js';
import { testStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

const run = promisify(execFile);

// Issue 10 "the runbook tells the truth", through the real `temporal` CLI an SRE uses: every workflow of a
// queue item is found by `QueueId=<id>` and carries AdvisoryName, TargetOs and a PatchStatus that is true at
// its end (nothing left at `approved` after the rollout was rolled back); a signal the workflow refuses is
// recorded with who, what and why, and readable through the status query.
describe('the temporal CLI runbook', { timeout: 240_000 }, () => {
  let t: TestEngine;
  let queueId: number;
  let advisory: string;
  const temporal = (...args: string[]) => run(findTemporalBinary(), [...args, '--address', inject('temporalAddress')], { timeout: 30_000 });
  const post = (url: string, payload: Record<string, unknown>, role: 'approver' | 'operator') => t.api.app.inject({ method: 'POST', url, headers: bearer(role), payload });
  const patchTestId = () => workflowIds.patchTest(queueId);

  beforeAll(async () => {
    t = await startTestEngine('runbook');
    for (const [k, v] of [['deploy.soak_minutes', 0], ['deploy.canary_size', 1], ['deploy.wave_size', 20]] as const) {
      expect((await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${k}`, headers: bearer('admin'), payload: { value: v } })).statusCode).toBe(200);
    }
    const e = t.lab.fleet
      .findErrata({ os: 'ubuntu', personality: 'none', rebootSuggested: false, kernel: false, relevantTo: 'test' }, 50)
      .find((x) => t.lab.fleet.affectedSystems(x.id).some((s) => s.stage === 'prod'))!;
    advisory = e.advisoryName;
    queueId = await t.queue(e);
    expect((await post('/api/v1/tests/start', { queue_id: queueId }, 'operator')).statusCode).toBe(202);
    await t.untilStatus(patchTestId(), 'pending_approval');
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a refused CLI signal leaves a trace: recorded with who and why, and in the status query', async () => {
    // snooze without `until`: the CLI says it sent the signal; the workflow refuses it
    await temporal('workflow', 'signal', '--workflow-id', patchTestId(), '--name', 'snooze', '--input', JSON.stringify({ by: 'sre-sam', reason: 'later' }));
    let refusals: { action: string; by: string; why: string }[] = [];
    for (let i = 0; i < 50 && refusals.length === 0; i++) {
      refusals = (await t.tw.client.workflow.getHandle(patchTestId()).query(testStatusQuery)).refusals as typeof refusals;
      if (!refusals.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(refusals[0]).toMatchObject({ action: 'snooze', by: 'sre-sam', why: expect.stringMatching(/until/) });
    const rows = await t.tw.db.selectFrom('operator_actions').select(['action', 'actor', 'status', 'refusal', 'source']).where('queue_id', '=', queueId).where('status', '=', 'refused').execute();
    expect(rows).toEqual([{ action: 'snooze', actor: 'sre-sam', status: 'refused', refusal: expect.stringMatching(/until/), source: 'cli' }]);
    expect(await t.queueStatus(queueId)).toBe('pending_approval');

    // approve by CLI signal works and is recorded as from the CLI; a second approve is refused and recorded
    await temporal('workflow', 'signal', '--workflow-id', patchTestId(), '--name', 'approve', '--input', JSON.stringify({ by: 'sre-sam', reason: 'ok' }));
    for (let i = 0; i < 50 && (await t.queueStatus(queueId)) !== 'approved'; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await t.queueStatus(queueId)).toBe('approved');
    await temporal('workflow', 'signal', '--workflow-id', patchTestId(), '--name', 'approve', '--input', JSON.stringify({ by: 'sre-kim' }));
    for (let i = 0; i < 50 && refusals.length < 2; i++) {
      refusals = (await t.tw.client.workflow.getHandle(patchTestId()).query(testStatusQuery)).refusals as typeof refusals;
      if (refusals.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(refusals[1]).toMatchObject({ action: 'approve', by: 'sre-kim', why: expect.stringMatching(/approved/) });
    expect(await t.tw.db.selectFrom('patch_approvals').select('decided_by').where('queue_id', '=', queueId).execute()).toEqual([{ decided_by: 'sre-sam' }]);
  });

  it('QueueId=<id> finds every workflow of the item, each with a true PatchStatus at its end', async () => {
    expect((await post('/api/v1/deployments', { queue_id: queueId }, 'operator')).statusCode).toBe(202);
    await t.tw.client.workflow.getHandle(patchTestId()).result();
    expect((await post(`/api/v1/deployments/${queueId}/rollback`, { reason: 'runbook' }, 'operator')).statusCode).toBe(202);
    await t.tw.client.workflow.getHandle(workflowIds.deploymentRollback(queueId)).result();
    expect(await t.queueStatus(queueId)).toBe('prod_rolled_back');

    type Row = { WorkflowType: string; PatchStatus?: string; AdvisoryName?: string; TargetOs?: string; TestPhase?: string };
    let rows: Row[] = [];
    for (let i = 0; i < 50; i++) {
      const { stdout } = await temporal('workflow', 'list', '--query', `QueueId=${queueId}`, '--output', 'json');
      rows = (JSON.parse(stdout || '[]') as { type: { name: string }; searchAttributes?: { indexedFields?: Record<string, { data: string }> } }[]).map((w) => {
        const f = w.searchAttributes?.indexedFields ?? {};
        const val = (k: string) => (f[k] ? (JSON.parse(Buffer.from(f[k].data, 'base64').toString()) as string) : undefined);
        return { WorkflowType: w.type.name, PatchStatus: val('PatchStatus'), AdvisoryName: val('AdvisoryName'), TargetOs: val('TargetOs'), TestPhase: val('TestPhase') };
      });
      if (rows.length >= 3 && rows.every((r) => r.PatchStatus !== 'rolling_back')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const byType = Object.fromEntries(rows.map((r) => [r.WorkflowType, r]));
    expect(Object.keys(byType).sort()).toEqual(['deploymentRollback', 'patchTest', 'productionDeployment']);
    for (const r of rows) expect(r, r.WorkflowType).toMatchObject({ AdvisoryName: advisory, TargetOs: 'ubuntu' });
    expect(byType.patchTest).toMatchObject({ PatchStatus: 'completed', TestPhase: 'done' });
    expect(byType.productionDeployment!.PatchStatus).toBe('completed');
    expect(byType.deploymentRollback!.PatchStatus).toBe('prod_rolled_back');
  });
});
