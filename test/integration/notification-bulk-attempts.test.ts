import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import {
  beginAttempts, deliveryEndpoint, fanOutEvents, finishAttempts, nextDueAt, type AttemptContext, type AttemptOutcome,
} from '../../db/queries/notifications.js';
import { isolatedDatabase, testConfig, testDb } from '../support/context.js';

// The batch delivery's statements on the real schema (activities/notify: notifyDeliver): claiming due
// deliveries with their `sending` attempt rows in one statement, recording many outcomes in chunked bulk
// statements, and what a lost worker's attempts become.

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('notification attempts in bulk (beginAttempts, finishAttempts)', () => {
  let db: Db;

  beforeAll(async () => {
    db = testDb(testConfig({ DB_NAME: await isolatedDatabase('notify_bulk') }));
  });
  afterAll(async () => {
    await db?.destroy();
  });

  /** An endpoint with `n` due deliveries (test events to it only, fanned out), oldest first. */
  const endpointWith = async (name: string, n: number) => {
    const ep = await db.insertInto('notification_endpoints')
      .values({ name, kind: 'webhook', url: `http://127.0.0.1:1/${name}`, secret: SECRET, event_types: ['*'], max_concurrency: 10, created_by: 'test' })
      .returning('id').executeTakeFirstOrThrow();
    await sql`
      insert into orchestrator_notifications (event_id, event_type, channel, subject, payload, dedupe_key, only_endpoint_id)
      select 'msg_' || ${name} || '_' || i, 'notification.test', 'outbox', 'test ' || i,
             jsonb_build_object('queue_id', null, 'advisory', null, 'os', null, 'endpoint_id', ${ep.id}::integer, 'requested_by', 'test', 'message', 'm' || i),
             ${name} || '_' || i, ${ep.id}::integer
      from generate_series(1, ${n}::integer) i`.execute(db);
    while ((await fanOutEvents(db, 1000)).events > 0);
    const e = await deliveryEndpoint(db, ep.id);
    expect(e.state).toBe('active');
    return e.endpoint!;
  };
  const deliveriesOf = (endpointId: number) =>
    db.selectFrom('notification_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id').execute();
  const outcome = (o: Partial<AttemptOutcome>): AttemptOutcome => ({
    status: 'succeeded', statusCode: 200, response: 'ok', error: null, durationMs: 21.4, nextAttemptAt: null, disableEndpoint: null, ...o,
  });

  it('claims at most `limit` due deliveries oldest first, each with a `sending` attempt row, and never the excluded ones', async () => {
    const ep = await endpointWith('claims', 1200);
    expect(ep.secrets).toEqual([SECRET]);
    const first = await beginAttempts(db, ep, 'w1', [], 500);
    const all = await deliveriesOf(ep.id);
    expect(first.map((a) => a.deliveryId)).toEqual(all.slice(0, 500).map((d) => d.id));
    expect(first.every((a) => a.attempt === 1 && a.event.type === 'notification.test' && a.event.eventId.startsWith('msg_claims_'))).toBe(true);
    const rest = await beginAttempts(db, ep, 'w1', first.map((a) => a.deliveryId), 1000);
    expect(rest.map((a) => a.deliveryId)).toEqual(all.slice(500).map((d) => d.id));
    expect(await beginAttempts(db, ep, 'w1', [...first, ...rest].map((a) => a.deliveryId), 10)).toEqual([]);
    const sending = await db.selectFrom('notification_attempts as a').innerJoin('notification_deliveries as d', 'd.id', 'a.delivery_id')
      .select(['a.status', 'a.worker', 'd.attempts']).where('d.endpoint_id', '=', ep.id).execute();
    expect(sending).toHaveLength(1200);
    expect(sending.every((s) => s.status === 'sending' && s.worker === 'w1' && s.attempts === 1)).toBe(true);

    // 1200 outcomes: more than one statement's chunk (1000)
    const later = new Date(Date.now() + 3_600_000);
    const items = [...first, ...rest].map((a: AttemptContext, i) => ({
      attemptId: a.attemptId, deliveryId: a.deliveryId,
      outcome: i % 3 === 0 ? outcome({}) : i % 3 === 1 ? outcome({ status: 'failed', statusCode: 503, error: 'HTTP 503', nextAttemptAt: later }) : outcome({ status: 'failed', statusCode: 302, error: 'HTTP 302', nextAttemptAt: null }),
    }));
    expect(await finishAttempts(db, items)).toBe(1200);
    const after = await deliveriesOf(ep.id);
    const by = (s: string) => after.filter((d) => d.status === s);
    expect([by('delivered').length, by('retrying').length, by('failed').length]).toEqual([400, 400, 400]);
    expect(by('delivered').every((d) => d.delivered_at !== null && d.next_attempt_at === null && d.schedule_step === 0 && d.last_status_code === 200)).toBe(true);
    expect(by('retrying').every((d) => d.next_attempt_at?.getTime() === later.getTime() && d.schedule_step === 1 && d.last_error === 'HTTP 503')).toBe(true);
    expect(by('failed').every((d) => d.next_attempt_at === null && d.last_status_code === 302)).toBe(true);
    const finished = await db.selectFrom('notification_attempts as a').innerJoin('notification_deliveries as d', 'd.id', 'a.delivery_id')
      .select(['a.status', 'a.status_code', 'a.duration_ms', 'a.finished_at']).where('d.endpoint_id', '=', ep.id).execute();
    expect(finished.filter((a) => a.status === 'succeeded')).toHaveLength(400);
    expect(finished.every((a) => a.status !== 'sending' && a.finished_at !== null && a.duration_ms === 21)).toBe(true);
    // the retries are not due yet: nothing to claim, and the next one is due when they were scheduled
    expect(await beginAttempts(db, ep, 'w1', [], 10)).toEqual([]);
    expect(Date.parse((await nextDueAt(db, ep.id))!)).toBe(later.getTime());
  });

  it("a lost worker's attempt: claimed again it becomes `lost`, and its late record changes nothing", async () => {
    const ep = await endpointWith('lost', 1);
    const [a1] = await beginAttempts(db, ep, 'dead-worker', [], 10);
    // the run that sent a1 died before recording it; the next run (no exclusions of its own) takes it again
    const [a2] = await beginAttempts(db, ep, 'w2', [], 10);
    expect(a2!.deliveryId).toBe(a1!.deliveryId);
    expect(a2!.attempt).toBe(2);
    expect(a2!.event.eventId).toBe(a1!.event.eventId); // the same webhook-id
    const rows = () => db.selectFrom('notification_attempts').select(['attempt', 'status', 'worker', 'error']).where('delivery_id', '=', a1!.deliveryId).orderBy('attempt').execute();
    expect((await rows()).map((r) => [r.attempt, r.status, r.worker])).toEqual([[1, 'lost', 'dead-worker'], [2, 'sending', 'w2']]);
    expect((await rows())[0]!.error).toMatch(/same webhook-id/);
    // the dead worker's answer arriving late is not recorded over the new attempt
    expect(await finishAttempts(db, [{ attemptId: a1!.attemptId, deliveryId: a1!.deliveryId, outcome: outcome({ status: 'failed', statusCode: 500, error: 'late', nextAttemptAt: null }) }])).toBe(0);
    expect((await deliveriesOf(ep.id))[0]).toMatchObject({ status: 'pending', attempts: 2, last_error: null });
    expect(await finishAttempts(db, [{ attemptId: a2!.attemptId, deliveryId: a2!.deliveryId, outcome: outcome({}) }])).toBe(1);
    expect((await deliveriesOf(ep.id))[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    expect((await rows()).map((r) => r.status)).toEqual(['lost', 'succeeded']);
    expect(await nextDueAt(db, ep.id)).toBeNull();
  });

  it('a disabled or deleted endpoint is not delivered to', async () => {
    const ep = await endpointWith('off', 0);
    await db.updateTable('notification_endpoints').set({ enabled: false }).where('id', '=', ep.id).execute();
    expect(await deliveryEndpoint(db, ep.id)).toEqual({ state: 'disabled', concurrency: 10, endpoint: null });
    await db.updateTable('notification_endpoints').set({ deleted_at: new Date() }).where('id', '=', ep.id).execute();
    expect((await deliveryEndpoint(db, ep.id)).state).toBe('gone');
    expect((await deliveryEndpoint(db, 987_654_321)).state).toBe('gone');
  });
});
