import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { decideUpdate, rejectSignal, testStatusQuery, workflowIds, type ApprovalPolicy } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

// A passed test waits for a person: approve / reject / snooze through the API (an Update, refused unless
// waiting) or `temporal workflow signal`, with reminders and an expiry; every decision is recorded.
const TIMING = {
  TEST_SETTLE_SECONDS: '1', TEST_METRICS_RANGE_SECONDS: '6', TEST_METRICS_WINDOW_SECONDS: '3', TEST_POLL_SECONDS: '0.3', TEST_LEASE_WAIT_SECONDS: '1',
};
const PATIENT: ApprovalPolicy = { reminderSeconds: 3600, expirySeconds: 7 * 86400 };

describe('approval of a passed test', () => {
  let lab: FullLab;
  let tw: TestWorker;
  let api: TestApi;
  let used = 0;

  const passedTest = async (os: 'ubuntu' | 'rhel', approval: ApprovalPolicy = PATIENT) => {
    const e = lab.fleet.findErrata({ os, personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 30)[used++]!;
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
    expect(res.statusCode, res.body).toBe(201);
    const queueId: number = res.json().items[0].id;
    const handle: WorkflowHandle<typeof patchTest> = await tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: tw.taskQueue, workflowId: workflowIds.patchTest(queueId), args: [{ queueId, requestedBy: 'test', timing: testTiming(tw.config), approval }],
    });
    const v = await until(handle, (x) => ['pending_approval', 'failed', 'rolled_back'].includes(x.status));
    if (v.status !== 'pending_approval') throw new Error(`the test did not pass: ${JSON.stringify(v.failure)} ${JSON.stringify(v.phases)}`);
    return { queueId, handle };
  };
  const until = async (handle: WorkflowHandle<typeof patchTest>, ok: (v: Awaited<ReturnType<typeof view>>) => boolean) => {
    for (let i = 0; i < 600; i++) {
      const v = await view(handle);
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('state not reached');
  };
  const view = (handle: WorkflowHandle<typeof patchTest>) => handle.query(testStatusQuery);
  const decide = (queueId: number, decision: string, payload: Record<string, unknown> = {}, role: 'approver' | 'operator' = 'approver') =>
    api.app.inject({ method: 'POST', url: `/api/v1/approvals/${queueId}/${decision}`, headers: bearer(role), payload });
  const queueStatus = async (id: number) => (await tw.db.selectFrom('patch_test_queue').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  beforeAll(async () => {
    lab = await startFullLab();
    const DB_NAME = await isolatedDatabase('approval');
    tw = await startTestWorker(testConfig({ DB_NAME, ...lab.env, ...TIMING }), 'approval');
    api = await startTestApi({ DB_NAME, ...lab.env, ...TIMING, TEMPORAL_TASK_QUEUE: tw.taskQueue });
    await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: tw.taskQueue, workflowId: `ap-sync-${tw.taskQueue}`, args: [{ trigger: 'manual' }] });
    await new Promise((r) => setTimeout(r, 6_000)); // Prometheus scrapes the new exporters a few times
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await tw?.close();
    await lab?.close();
  });

  it('approve: listed as pending with the evidence, decided by the approver, recorded; a second decision is 409', async () => {
    const { queueId, handle } = await passedTest('rhel');
    const pending = await api.app.inject({ method: 'GET', url: '/api/v1/approvals/pending', headers: bearer('viewer') });
    const item = pending.json().items.find((i: { queue_id: number }) => i.queue_id === queueId);
    expect(item).toMatchObject({ status: 'pending_approval', hours_pending: expect.any(Number), evidence: { cpu_delta: expect.any(Number), test_system: expect.any(String) } });
    expect((await decide(queueId, 'approve', {}, 'operator')).statusCode).toBe(403);

    const [first, second] = await Promise.all([decide(queueId, 'approve', { reason: 'tested clean' }), decide(queueId, 'approve', { reason: 'me too' })]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([200, 409]);
    // approved: the test now waits for POST /api/v1/deployments (see deployment.test.ts)
    await until(handle, (v) => v.status === 'approved');
    expect(await queueStatus(queueId)).toBe('approved');
    const rows = await tw.db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', queueId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ decision: 'approve', decided_by: 'anna-approver', source: 'api' });
    expect(rows[0]!.evidence).toMatchObject({ cpu_delta: expect.any(Number), services: expect.any(Object) });
    expect((await decide(queueId, 'reject')).statusCode).toBe(409);
  });

  it('reject with `temporal workflow signal` (a signal): recorded like the API’s', async () => {
    const { queueId, handle } = await passedTest('ubuntu');
    await handle.signal(rejectSignal, { by: 'sre-on-call', reason: 'breaks our nginx config' });
    expect((await handle.result()).status).toBe('rejected');
    expect(await queueStatus(queueId)).toBe('rejected');
    const row = await tw.db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', queueId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ decision: 'reject', decided_by: 'sre-on-call', reason: 'breaks our nginx config', source: 'cli' });
  });

  it('snooze: 400 without a future `until`; sleeps until then, is pending again with a reminder, then can be approved', async () => {
    const { queueId, handle } = await passedTest('rhel');
    const past = await decide(queueId, 'snooze', { until: new Date(Date.now() - 1000).toISOString() });
    expect(past.statusCode).toBe(400);
    expect(past.json().field).toBe('until');
    expect((await decide(queueId, 'snooze', {})).json().field).toBe('until');

    const snoozed = await decide(queueId, 'snooze', { until: new Date(Date.now() + 3_000).toISOString(), reason: 'after the freeze' });
    expect(snoozed.statusCode, snoozed.body).toBe(200);
    expect(await queueStatus(queueId)).toBe('snoozed');
    await until(handle, (v) => v.status === 'pending_approval' && (v.approval?.reminders ?? 0) >= 1);
    expect(await queueStatus(queueId)).toBe('pending_approval');
    const reminders = await tw.db.selectFrom('orchestrator_notifications').selectAll().where('queue_id', '=', queueId).where('event_type', '=', 'approval.reminder').execute();
    expect(reminders.length).toBeGreaterThanOrEqual(1);
    expect((await decide(queueId, 'approve')).statusCode).toBe(200);
    await until(handle, (v) => v.status === 'approved');
    expect(await queueStatus(queueId)).toBe('approved');
  });

  it('reminders while pending, then expiry', async () => {
    const { queueId, handle } = await passedTest('ubuntu', { reminderSeconds: 1, expirySeconds: 4 });
    expect((await handle.result()).status).toBe('expired');
    expect(await queueStatus(queueId)).toBe('expired');
    const reminders = await tw.db.selectFrom('orchestrator_notifications').select('id').where('queue_id', '=', queueId).where('event_type', '=', 'approval.reminder').execute();
    expect(reminders.length).toBeGreaterThanOrEqual(2);
    expect(await tw.db.selectFrom('patch_approvals').select('decision').where('queue_id', '=', queueId).executeTakeFirstOrThrow()).toEqual({ decision: 'expire' });
  });

  it('approve and reject at once: exactly one is taken and recorded; the other is refused as not waiting (409, not 503)', async () => {
    const { queueId, handle } = await passedTest('ubuntu');
    const [a, r] = await Promise.all([decide(queueId, 'approve', { reason: 'go' }), decide(queueId, 'reject', { reason: 'stop' })]);
    const answers = [a, r].map((x) => x.statusCode).sort();
    expect(answers, `${a.body} / ${r.body}`).toEqual([200, 409]);
    const loser = a.statusCode === 409 ? a : r;
    expect(loser.json().message).toMatch(/not waiting for a decision|another decision on queue item \d+ is being recorded/);
    const rows = await tw.db.selectFrom('patch_approvals').select('decision').where('queue_id', '=', queueId).execute();
    expect(rows).toHaveLength(1);
    const winner = a.statusCode === 200 ? 'approve' : 'reject';
    expect(rows[0]!.decision).toBe(winner);
    expect(await queueStatus(queueId)).toBe(winner === 'approve' ? 'approved' : 'rejected');
    expect((await view(handle)).status).toBe(winner === 'approve' ? 'approved' : 'rejected');
    // The workflow itself refuses a decision once decided (its validator), before anything is recorded — not
    // the database guard behind it: straight to the Update, past the API's own check.
    const late = await handle
      .executeUpdate(decideUpdate, { args: [{ decision: winner === 'approve' ? 'reject' : 'approve', by: 'late-larry', requestId: `late-${queueId}` }] })
      .then(() => null, (err: Error & { cause?: Error & { type?: string } }) => err.cause);
    expect(late?.type, String(late?.message)).toBe('DecisionRefused');
    expect(late?.message).toMatch(new RegExp(`queue item ${queueId} is not waiting for a decision`));
    expect(await tw.db.selectFrom('patch_approvals').select('decision').where('queue_id', '=', queueId).execute()).toHaveLength(1);
  });

  it('404 for an unknown item', async () => {
    expect((await decide(999_999, 'approve')).statusCode).toBe(404);
  });
});
