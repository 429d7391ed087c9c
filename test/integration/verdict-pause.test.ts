import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerdictDecisionActivities } from '../../activities/verdict/decision.js';
import type { Db } from '../../db/connection.js';
import { recordVerdict, verdictById } from '../../db/queries/verdicts.js';
import { judge, type JudgeSettings, type MetricInput } from '../../domain/judge.js';
import { verdictDecideUpdate, type VerdictDecisionInput } from '../../workflows/messages.js';
import { isolatedDatabase, nativeConnection, testConfig, testDb, uniqueTaskQueue } from '../support/context.js';
import { pauseViewQuery, stopSignal, type verdictPauseProbe } from '../support/workflows/verdict-pause-probe.js';

// The marginal pause on the real Temporal server and PostgreSQL: the rollout waits, reminds on a timer, refuses
// decisions that do not fit (wrong verdict, no person, one that cannot be recorded) and goes on only after the
// person's decision is in the verdicts row.

const SETTINGS: JudgeSettings = { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 50, nodataPolicy: 'marginal' };
const flat = (level: number, n = 12) => Array.from({ length: n }, (_, i) => level + (i % 3) * 0.1);

let db: Db;
let client: Client;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let queueId: number;

async function marginalVerdict(wave: number): Promise<number> {
  const inputs: MetricInput[] = [
    { spec: { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 }, control: flat(10), experiment: flat(50) },
    { spec: { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 }, control: flat(40), experiment: flat(40) },
  ];
  const verdict = judge(inputs, SETTINGS);
  expect(verdict).toMatchObject({ verdict: 'marginal', decision: 'pause', score: 50 });
  const at = new Date();
  const { id } = await recordVerdict(db, {
    scope: 'wave', idempotencyKey: `probe:${queueId}:${wave}`, queueId, wave, groupName: 'prod-rhel9', experimentSystems: [1], controlSystems: [2, 3],
    controlWindow: { from: at, to: at }, experimentWindow: { from: at, to: at }, settings: SETTINGS, inputs, verdict,
  });
  return id;
}

async function notices(verdictId: number): Promise<number[]> {
  const rows = await db.selectFrom('orchestrator_notifications').select('payload').where('event_type', '=', 'deployment.verdict_paused').where('queue_id', '=', queueId).execute();
  return rows.map((r) => r.payload as { verdict_id: number; reminder: number }).filter((d) => d.verdict_id === verdictId).map((d) => d.reminder).sort((a, b) => a - b);
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached (last ${JSON.stringify(v)})`);
    await sleep(250);
  }
}

beforeAll(async () => {
  const name = await isolatedDatabase('verdict_pause');
  const config = testConfig({ DB_NAME: name });
  db = testDb(config);
  await db.insertInto('errata_cache').values({ advisory_name: 'RHSA-2026:1515', advisory_type: 'Security Advisory', severity: 'High' }).execute();
  ({ id: queueId } = await db.insertInto('patch_test_queue').values({ advisory_name: 'RHSA-2026:1515', target_os: 'rhel' }).returning('id').executeTakeFirstOrThrow());
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  native = await nativeConnection();
  taskQueue = uniqueTaskQueue('verdict-pause');
  worker = await Worker.create({
    connection: native, namespace: config.temporal.namespace, taskQueue,
    workflowsPath: fileURLToPath(new URL('../support/workflows/verdict-pause-probe.ts', import.meta.url)),
    activities: createVerdictDecisionActivities({ db }),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await connection?.close();
  await native?.close();
  await db?.destroy();
});

describe('the marginal pause (workflows/verdict-pause.ts)', () => {
  it('waits and reminds until a person continues; wrong or anonymous decisions are refused; the decision is recorded before it takes effect', async () => {
    const verdictId = await marginalVerdict(0);
    const handle = await client.workflow.start<typeof verdictPauseProbe>('verdictPauseProbe', {
      taskQueue, workflowId: `verdict-pause-${verdictId}`, args: [{ verdictId, queueId, reminderSeconds: 1 }],
    });
    // the first notice at once, then a reminder every second while nobody decides
    await until('two reminders', () => notices(verdictId), (n) => n.length >= 3);
    expect((await notices(verdictId)).slice(0, 3)).toEqual([0, 1, 2]);
    expect(await handle.query(pauseViewQuery)).toMatchObject({ verdictId, waiting: true, decision: null });

    const refused = async (input: VerdictDecisionInput) => {
      const err = await handle.executeUpdate(verdictDecideUpdate, { args: [input] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      return String((err as WorkflowUpdateFailedError).cause?.message);
    };
    expect(await refused({ verdictId: verdictId + 1000, decision: 'continue', by: 'alice' })).toBe(`verdict ${verdictId + 1000} does not wait for a decision (verdict ${verdictId} does)`);
    expect(await refused({ verdictId, decision: 'continue', by: '  ' })).toBe('a decision needs `by`, the person who takes it');
    expect(await refused({ verdictId, decision: 'maybe' as never, by: 'alice' })).toBe('decision must be continue or halt');
    expect((await verdictById(db, verdictId))?.decided).toBeNull();

    const result = await handle.executeUpdate(verdictDecideUpdate, { args: [{ verdictId, decision: 'continue', by: 'alice', reason: 'the CPU rise is the new cache warming', requestId: 'req-1' }] });
    expect(result).toEqual({ verdictId, decision: 'continue', by: 'alice' });
    expect(await handle.result()).toEqual({ decision: 'continue', by: 'alice', reason: 'the CPU rise is the new cache warming' });
    const row = await verdictById(db, verdictId);
    expect(row).toMatchObject({ decided: 'continue', decided_by: 'alice', decided_reason: 'the CPU rise is the new cache warming', decided_source: 'api', decided_request_id: 'req-1' });
    expect(row!.reminders).toBeGreaterThanOrEqual(2);
    expect(row!.decided_at!.getTime()).toBeLessThanOrEqual(Date.now());
  }, 120_000);

  it('a decision that cannot be recorded is not taken: the rollout keeps waiting; then halt', async () => {
    const verdictId = await marginalVerdict(1);
    const handle = await client.workflow.start<typeof verdictPauseProbe>('verdictPauseProbe', {
      taskQueue, workflowId: `verdict-pause-${verdictId}`, args: [{ verdictId, queueId, reminderSeconds: 3600 }],
    });
    await until('the first notice', () => notices(verdictId), (n) => n.length === 1);
    // someone decided it behind the workflow's back (another rollout, a stale dashboard): the record refuses
    await sql`update verdicts set decided = 'halt', decided_by = 'bob', decided_at = now() where id = ${verdictId}`.execute(db);
    const err = await handle.executeUpdate(verdictDecideUpdate, { args: [{ verdictId, decision: 'continue', by: 'alice' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toMatch(/^the continue decision could not be recorded, so it was not taken: .*already decided \(halt by bob\)/);
    expect(await handle.query(pauseViewQuery)).toMatchObject({ verdictId, waiting: true, decision: null });

    await sql`update verdicts set decided = null, decided_by = null, decided_at = null where id = ${verdictId}`.execute(db);
    expect(await handle.executeUpdate(verdictDecideUpdate, { args: [{ verdictId, decision: 'halt', by: 'carol', source: 'dashboard' }] })).toEqual({ verdictId, decision: 'halt', by: 'carol' });
    expect(await handle.result()).toEqual({ decision: 'halt', by: 'carol', reason: null });
    expect(await verdictById(db, verdictId)).toMatchObject({ decided: 'halt', decided_by: 'carol', decided_source: 'dashboard' });
  }, 120_000);

  it('a halt of the rollout ends the pause without a decision: the verdict stays undecided', async () => {
    const verdictId = await marginalVerdict(2);
    const handle = await client.workflow.start<typeof verdictPauseProbe>('verdictPauseProbe', {
      taskQueue, workflowId: `verdict-pause-${verdictId}`, args: [{ verdictId, queueId, reminderSeconds: 3600 }],
    });
    await until('the first notice', () => notices(verdictId), (n) => n.length === 1);
    await handle.signal(stopSignal);
    expect(await handle.result()).toBeNull();
    expect(await verdictById(db, verdictId)).toMatchObject({ decided: null, decided_by: null });
  }, 120_000);

  it('the record refuses a verdict that waits for nothing (a pass), and repeats of the same request are idempotent', async () => {
    const { recordVerdictDecision } = createVerdictDecisionActivities({ db });
    const passInputs: MetricInput[] = [{ spec: { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1 }, control: flat(10), experiment: flat(10) }];
    const at = new Date();
    const { id } = await recordVerdict(db, {
      scope: 'wave', idempotencyKey: `probe:${queueId}:pass`, queueId, wave: 5, controlWindow: { from: at, to: at }, experimentWindow: { from: at, to: at },
      settings: SETTINGS, inputs: passInputs, verdict: judge(passInputs, SETTINGS),
    });
    await expect(recordVerdictDecision({ verdictId: id, decision: 'continue', by: 'alice', reason: null, source: 'api', requestId: 'r' }))
      .rejects.toMatchObject({ type: 'VerdictDecisionRefused', nonRetryable: true, message: `verdict ${id} is a wave verdict pass: it waits for no decision` });
    const marginal = await marginalVerdict(6);
    const decide = { verdictId: marginal, decision: 'halt' as const, by: 'dora', reason: null, source: 'api', requestId: 'same' };
    await recordVerdictDecision(decide);
    await recordVerdictDecision(decide); // a retried activity
    await expect(recordVerdictDecision({ ...decide, requestId: 'other' })).rejects.toThrow(`verdict ${marginal} was already decided (halt by dora)`);
  });
});
