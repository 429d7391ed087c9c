import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { Value } from '@sinclair/typebox/value';
import type { AttemptStatus, Database, DeliveryStatus } from '../database.js';
import { json } from '../json.js';
import { EVENT_DATA, type EventData, type EventType } from '../../domain/notification-events.js';
import { eventSubject } from '../../domain/notification-render.js';
import { chunk } from '../../domain/chunks.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** The PostgreSQL channel the worker LISTENs on: '*' = new events in the outbox, else endpoint ids to wake. */
export const NOTIFY_CHANNEL = 'spm_notifications';

/** A new event id (the webhook-id): `msg_` and 24 random bytes in base32-ish hex. */
export function newEventId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** An event's data as a caller gives it: advisory and os may be left out when queue_id names the item. */
export type EventInput<T extends EventType> = Omit<EventData<T>, 'advisory' | 'os'> & { advisory?: string | null; os?: string | null };

export interface RecordOptions {
  /** Makes the write idempotent: a retried activity that records the same event again writes nothing. */
  dedupeKey?: string;
  /** The Temporal workflow the event is about (its link in the Web UI). */
  workflowId?: string | null;
  /** A test event: delivered to this endpoint only. */
  onlyEndpointId?: number;
}

/**
 * THE way to raise a notification: writes the event into the outbox (orchestrator_notifications) on the
 * caller's transaction — the one of the state change it reports — so an event exists exactly when its change
 * committed. Delivery (workflows/notify.ts) picks it up after the commit (pg_notify wakes the worker at once;
 * a sweep finds it otherwise). The data is checked against the event type's schema (a mismatch is a bug and
 * throws, rolling the change back with it). Returns the event id, or null when dedupeKey was already recorded.
 */
export async function recordEvent<T extends EventType>(trx: Executor, type: T, input: EventInput<T>, opts: RecordOptions = {}): Promise<string | null> {
  const data = { ...input } as Record<string, unknown>;
  const queueId = data.queue_id as number | null;
  if (queueId !== null && (data.advisory === undefined || data.os === undefined)) {
    const item = await trx.selectFrom('patch_test_queue').select(['advisory_name', 'target_os']).where('id', '=', queueId).executeTakeFirst();
    data.advisory ??= item?.advisory_name ?? null;
    data.os ??= item?.target_os ?? null;
  }
  data.advisory ??= null;
  data.os ??= null;
  const schema = EVENT_DATA[type];
  if (!Value.Check(schema, data)) {
    const e = Value.Errors(schema, data).First();
    throw new InvalidEventError(`event ${type} does not match its schema: ${e?.path || '/'} ${e?.message ?? ''}`);
  }
  const eventId = newEventId();
  const row = await trx
    .insertInto('orchestrator_notifications')
    .values({
      event_id: eventId,
      event_type: type,
      channel: 'outbox',
      subject: eventSubject(type, data).slice(0, 500),
      payload: json(data),
      queue_id: queueId,
      dedupe_key: opts.dedupeKey ?? eventId,
      workflow_id: opts.workflowId ?? null,
      only_endpoint_id: opts.onlyEndpointId ?? null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    // The doorbell in the same statement (one round trip per event, not two): evaluated only for a row
    // written, and delivered to listeners only when (and if) the transaction commits.
    .returning(['event_id', sql<string>`pg_notify(${NOTIFY_CHANNEL}, '*')`.as('notified')])
    .executeTakeFirst();
  return row ? row.event_id : null;
}

// --- fan-out and claiming (the delivery workflow's activities) --------------------------------------------

/**
 * Turns pending outbox events into one delivery per subscribed endpoint (enabled, created before the event,
 * its filter matching), in one transaction; the events become `dispatched`. SKIP LOCKED: several fan-outs at
 * once never take the same event. Returns the endpoints that got new deliveries (they are woken).
 */
export async function fanOutEvents(db: Kysely<Database>, limit = 1000): Promise<{ events: number; endpoints: number[] }> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ events: number; endpoints: number[] | null }>`
      with ev as (
        select id, event_type, created_at, only_endpoint_id from orchestrator_notifications
        where status = 'pending' order by id limit ${limit} for update skip locked
      ), ins as (
        insert into notification_deliveries (notification_id, endpoint_id)
        select ev.id, e.id from ev join notification_endpoints e on e.deleted_at is null and (
          ev.only_endpoint_id = e.id or (
            ev.only_endpoint_id is null and e.enabled and e.created_at <= ev.created_at and (
              '*' = any(e.event_types) or ev.event_type = any(e.event_types) or (split_part(ev.event_type, '.', 1) || '.*') = any(e.event_types))))
        on conflict do nothing
        returning endpoint_id
      ), upd as (
        update orchestrator_notifications n set status = 'dispatched', dispatched_at = now() from ev where n.id = ev.id returning n.id
      )
      select (select count(*)::integer from upd) as events, (select array_agg(distinct endpoint_id) from ins) as endpoints`.execute(trx);
    const endpoints = rows[0]?.endpoints ?? [];
    if (endpoints.length) await sql`select pg_notify(${NOTIFY_CHANNEL}, ${endpoints.join(',')})`.execute(trx);
    return { events: rows[0]?.events ?? 0, endpoints };
  });
}

export interface Claim {
  state: 'active' | 'disabled' | 'gone';
  concurrency: number;
  /** Deliveries due now, oldest due first (without those the caller has in flight). */
  due: number[];
  /** When the next delivery not in `due` is due (ISO), or null. */
  nextDueAt: string | null;
}

export async function claimDueDeliveries(db: Executor, endpointId: number, exclude: readonly number[], limit: number): Promise<Claim> {
  const ep = await db.selectFrom('notification_endpoints').select(['enabled', 'deleted_at', 'max_concurrency']).where('id', '=', endpointId).executeTakeFirst();
  if (!ep || ep.deleted_at) return { state: 'gone', concurrency: 1, due: [], nextDueAt: null };
  if (!ep.enabled) return { state: 'disabled', concurrency: ep.max_concurrency, due: [], nextDueAt: null };
  const ex = exclude.length ? exclude : [0];
  const due = await db
    .selectFrom('notification_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['pending', 'retrying'])
    .where('next_attempt_at', '<=', sql<Date>`now()`)
    .where('id', 'not in', ex)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  const ids = due.map((r) => r.id);
  const next = await db
    .selectFrom('notification_deliveries')
    .select(sql<string | null>`to_char(min(next_attempt_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('at'))
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['pending', 'retrying'])
    .where('id', 'not in', [...ex, ...ids])
    .executeTakeFirst();
  return { state: 'active', concurrency: ep.max_concurrency, due: ids, nextDueAt: next?.at ?? null };
}

/** Enabled endpoints (the worker wakes their delivery workflows at start and on new events). */
export async function activeEndpointIds(db: Executor): Promise<number[]> {
  const rows = await db.selectFrom('notification_endpoints').select('id').where('enabled', '=', true).where('deleted_at', 'is', null).orderBy('id').execute();
  return rows.map((r) => r.id);
}

// --- one attempt --------------------------------------------------------------------------------------------

export interface AttemptContext {
  deliveryId: number;
  attemptId: number;
  attempt: number;
  scheduleStep: number;
  event: { id: number; eventId: string; type: EventType; payload: Record<string, unknown>; createdAt: Date; workflowId: string | null; queueId: number | null };
  endpoint: {
    id: number; name: string; kind: 'webhook' | 'email'; url: string | null; recipients: string[];
    secrets: string[];
  };
}

/**
 * Starts attempt N of a delivery: a `sending` attempt row before anything is sent, so an attempt whose worker
 * died after sending is visible (`lost`) instead of silently missing. Null when the delivery is no longer due
 * (finished, or rescheduled: a duplicate activity).
 */
export async function beginAttempt(db: Kysely<Database>, deliveryId: number, worker: string): Promise<AttemptContext | { skipped: DeliveryStatus; nextAttemptAt: string | null }> {
  // One statement (one round trip, atomic): lock the delivery, mark an attempt left `sending` by a lost
  // worker, start attempt N+1 when the delivery is still due, and read what the send needs.
  const { rows } = await sql<{
    status: DeliveryStatus; schedule_step: number; next_attempt_at: Date | null; attempt_id: number | null; attempt: number | null;
    nid: number; event_id: string; event_type: string; payload: Record<string, unknown>; event_created_at: Date; workflow_id: string | null; queue_id: number | null;
    eid: number; name: string; kind: 'webhook' | 'email'; url: string | null; recipients: string[]; secret: string | null; previous_secret: string | null;
    previous_secret_expires_at: Date | null;
  }>`
    with d as (
      select id, status, attempts, schedule_step, next_attempt_at, notification_id, endpoint_id,
             status in ('pending', 'retrying') and next_attempt_at <= now() + interval '1 second' as go
      from notification_deliveries where id = ${deliveryId} for update
    ), lost as (
      update notification_attempts a set status = 'lost', finished_at = now(),
             error = 'the worker stopped after starting this attempt and before recording its outcome; the receiver may have it (the retry carries the same webhook-id)'
      from d where d.go and a.delivery_id = d.id and a.status = 'sending'
      returning a.id
    ), ins as (
      insert into notification_attempts (delivery_id, attempt, worker)
      select d.id, d.attempts + 1, ${worker} from d where d.go
      returning id, attempt
    ), upd as (
      update notification_deliveries x set attempts = ins.attempt from ins where x.id = ${deliveryId} returning x.id
    )
    select d.status, d.schedule_step, d.next_attempt_at, ins.id as attempt_id, ins.attempt,
           n.id as nid, n.event_id, n.event_type, n.payload, n.created_at as event_created_at, n.workflow_id, n.queue_id,
           e.id as eid, e.name, e.kind, e.url, e.recipients, e.secret, e.previous_secret, e.previous_secret_expires_at,
           (select count(*) from lost) + (select count(*) from upd) as touched
    from d join orchestrator_notifications n on n.id = d.notification_id join notification_endpoints e on e.id = d.endpoint_id
    left join ins on true`.execute(db);
  const r = rows[0];
  if (!r) throw new Error(`delivery ${deliveryId} does not exist`);
  if (r.attempt_id === null || r.attempt === null) return { skipped: r.status, nextAttemptAt: r.next_attempt_at?.toISOString() ?? null };
  const secrets = [r.secret, r.previous_secret && r.previous_secret_expires_at && r.previous_secret_expires_at > new Date() ? r.previous_secret : null].filter(
    (x): x is string => !!x,
  );
  return {
    deliveryId,
    attemptId: r.attempt_id,
    attempt: r.attempt,
    scheduleStep: r.schedule_step,
    event: { id: r.nid, eventId: r.event_id, type: r.event_type as EventType, payload: r.payload, createdAt: r.event_created_at, workflowId: r.workflow_id, queueId: r.queue_id },
    endpoint: { id: r.eid, name: r.name, kind: r.kind, url: r.url, recipients: r.recipients, secrets },
  };
}

// --- attempts in bulk (the batch delivery activity) -------------------------------------------------------

/** An endpoint as the delivery activity needs it: its state, bound and what a send needs (secrets stay here). */
export interface DeliveryEndpoint {
  state: 'active' | 'disabled' | 'gone';
  concurrency: number;
  endpoint: AttemptContext['endpoint'] | null;
}

/** The endpoint's state, max_concurrency and send details (the active secrets: two during a rotation). */
export async function deliveryEndpoint(db: Executor, endpointId: number): Promise<DeliveryEndpoint> {
  const e = await db
    .selectFrom('notification_endpoints')
    .select(['id', 'name', 'kind', 'url', 'recipients', 'enabled', 'deleted_at', 'max_concurrency', 'secret', 'previous_secret', 'previous_secret_expires_at'])
    .where('id', '=', endpointId)
    .executeTakeFirst();
  if (!e || e.deleted_at) return { state: 'gone', concurrency: 1, endpoint: null };
  if (!e.enabled) return { state: 'disabled', concurrency: e.max_concurrency, endpoint: null };
  const secrets = [e.secret, e.previous_secret && e.previous_secret_expires_at && e.previous_secret_expires_at > new Date() ? e.previous_secret : null].filter(
    (x): x is string => !!x,
  );
  return {
    state: 'active',
    concurrency: e.max_concurrency,
    endpoint: { id: e.id, name: e.name, kind: e.kind as 'webhook' | 'email', url: e.url, recipients: e.recipients, secrets },
  };
}

const LOST_ERROR =
  'the worker stopped after starting this attempt and before recording its outcome; the receiver may have it (the retry carries the same webhook-id)';

/**
 * Starts the next attempt of up to `limit` of the endpoint's due deliveries (oldest due first, not those in
 * `exclude`: the caller's own unrecorded ones), in ONE statement: the deliveries are locked (SKIP LOCKED: a
 * second claimer never takes the same ones), an attempt a lost worker left `sending` becomes `lost`, and a
 * `sending` attempt row N+1 is written for each before anything is sent. Returns what each send needs.
 */
export async function beginAttempts(
  db: Kysely<Database>, ep: NonNullable<DeliveryEndpoint['endpoint']>, worker: string, exclude: readonly number[], limit: number,
): Promise<AttemptContext[]> {
  if (limit < 1) return [];
  const { rows } = await sql<{
    delivery_id: number; attempt_id: number; attempt: number; schedule_step: number;
    nid: number; event_id: string; event_type: string; payload: Record<string, unknown>; event_created_at: Date; workflow_id: string | null; queue_id: number | null;
  }>`
    with d as (
      select id, attempts, schedule_step, next_attempt_at, notification_id from notification_deliveries
      where endpoint_id = ${ep.id} and status in ('pending', 'retrying') and next_attempt_at <= now() and id <> all(${[...exclude]}::integer[])
      order by next_attempt_at, id limit ${limit} for update skip locked
    ), lost as (
      update notification_attempts a set status = 'lost', finished_at = now(), error = ${LOST_ERROR}
      from d where a.delivery_id = d.id and a.status = 'sending'
      returning a.id
    ), ins as (
      insert into notification_attempts (delivery_id, attempt, worker)
      select d.id, d.attempts + 1, ${worker} from d
      returning id, delivery_id, attempt
    ), upd as (
      update notification_deliveries x set attempts = ins.attempt from ins where x.id = ins.delivery_id returning x.id
    )
    select d.id as delivery_id, ins.id as attempt_id, ins.attempt, d.schedule_step,
           n.id as nid, n.event_id, n.event_type, n.payload, n.created_at as event_created_at, n.workflow_id, n.queue_id
    from d join ins on ins.delivery_id = d.id join orchestrator_notifications n on n.id = d.notification_id
    order by d.next_attempt_at, d.id`.execute(db);
  return rows.map((r) => ({
    deliveryId: r.delivery_id,
    attemptId: r.attempt_id,
    attempt: r.attempt,
    scheduleStep: r.schedule_step,
    event: { id: r.nid, eventId: r.event_id, type: r.event_type as EventType, payload: r.payload, createdAt: r.event_created_at, workflowId: r.workflow_id, queueId: r.queue_id },
    endpoint: ep,
  }));
}

/** The delivery status an attempt's outcome leads to. */
export function deliveryStatusAfter(o: Pick<AttemptOutcome, 'status' | 'nextAttemptAt'>): DeliveryStatus {
  return o.status === 'succeeded' ? 'delivered' : o.nextAttemptAt ? 'retrying' : 'failed';
}

/** Attempts recorded per statement (nine array parameters each, whatever the count: far below the limit). */
const FINISH_CHUNK = 1000;

/**
 * Records the outcomes of many attempts (none with disableEndpoint: finishAttempt does those, in a
 * transaction with the endpoint) in one statement per FINISH_CHUNK: each attempt's status, code, response,
 * error, duration and next attempt, and its delivery's state with it. An attempt no longer `sending` (marked
 * `lost` by another worker, which sent again) is left alone, and so is its delivery. Returns how many were
 * recorded.
 */
export async function finishAttempts(db: Kysely<Database>, items: readonly { attemptId: number; deliveryId: number; outcome: AttemptOutcome }[]): Promise<number> {
  let recorded = 0;
  for (const part of chunk(items, FINISH_CHUNK)) {
    const col = <T>(f: (o: AttemptOutcome) => T) => part.map((i) => f(i.outcome));
    const { rows } = await sql<{ n: number }>`
      with v as (
        select * from unnest(
          ${part.map((i) => i.attemptId)}::integer[], ${part.map((i) => i.deliveryId)}::integer[], ${col((o) => o.status)}::text[],
          ${col((o) => o.statusCode)}::integer[], ${col((o) => o.response)}::text[], ${col((o) => o.error)}::text[],
          ${col((o) => o.nextAttemptAt?.toISOString() ?? null)}::timestamptz[], ${col((o) => Math.round(o.durationMs))}::integer[],
          ${col((o) => deliveryStatusAfter(o))}::text[]
        ) as v(attempt_id, delivery_id, status, status_code, response, error, next_attempt_at, duration_ms, delivery_status)
      ), a as (
        update notification_attempts a set status = v.status, status_code = v.status_code, response = v.response, error = v.error,
               next_attempt_at = v.next_attempt_at, finished_at = now(), duration_ms = v.duration_ms
        from v where a.id = v.attempt_id and a.status = 'sending'
        returning a.id
      ), d as (
        update notification_deliveries x set status = v.delivery_status,
               schedule_step = x.schedule_step + case when v.status = 'succeeded' then 0 else 1 end,
               next_attempt_at = case when v.delivery_status = 'retrying' then v.next_attempt_at end,
               last_status_code = v.status_code, last_response = v.response, last_error = v.error,
               delivered_at = case when v.delivery_status = 'delivered' then now() end
        from v join a on a.id = v.attempt_id where x.id = v.delivery_id
        returning x.id
      )
      select count(*)::integer as n from d`.execute(db);
    recorded += rows[0]?.n ?? 0;
  }
  return recorded;
}

/** When the endpoint's next waiting delivery is due (ISO), or null. */
export async function nextDueAt(db: Executor, endpointId: number): Promise<string | null> {
  const r = await db
    .selectFrom('notification_deliveries')
    .select(sql<string | null>`to_char(min(next_attempt_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('at'))
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['pending', 'retrying'])
    .executeTakeFirst();
  return r?.at ?? null;
}

export interface AttemptOutcome {
  status: Exclude<AttemptStatus, 'sending' | 'lost'>;
  statusCode: number | null;
  response: string | null;
  error: string | null;
  durationMs: number;
  /** After a failure: when to try again (null: the delivery has failed for good). */
  nextAttemptAt: Date | null;
  /** 410 Gone: the endpoint is disabled. */
  disableEndpoint: string | null;
}

/** Records the outcome of an attempt and what follows (delivered, retry at, failed), in one transaction. */
export async function finishAttempt(db: Kysely<Database>, ctx: Pick<AttemptContext, 'deliveryId' | 'attemptId' | 'endpoint'>, o: AttemptOutcome): Promise<DeliveryStatus> {
  const status = deliveryStatusAfter(o);
  const record = async (trx: Executor) => {
    // one statement: the attempt's outcome and the delivery's state move together
    await sql`
      with a as (
        update notification_attempts set status = ${o.status}, status_code = ${o.statusCode}, response = ${o.response}, error = ${o.error},
               next_attempt_at = ${o.nextAttemptAt}, finished_at = now(), duration_ms = ${Math.round(o.durationMs)}
        where id = ${ctx.attemptId} returning id
      )
      update notification_deliveries set status = ${status},
             schedule_step = schedule_step + ${o.status === 'succeeded' ? 0 : 1},
             next_attempt_at = ${status === 'retrying' ? o.nextAttemptAt : null},
             last_status_code = ${o.statusCode}, last_response = ${o.response}, last_error = ${o.error},
             delivered_at = ${status === 'delivered' ? sql`now()` : null}
      where id = ${ctx.deliveryId} and exists (select 1 from a)`.execute(trx);
  };
  if (o.disableEndpoint) {
    await db.transaction().execute(async (trx) => {
      await record(trx);
      await disableEndpoint(trx, ctx.endpoint.id, o.disableEndpoint!);
    });
  } else {
    await record(db);
  }
  return status;
}

/** Disables an endpoint (410 Gone): its deliveries still waiting fail with the reason (redeliverable later). */
export async function disableEndpoint(trx: Executor, endpointId: number, reason: string): Promise<void> {
  await trx.updateTable('notification_endpoints').set({ enabled: false, disabled_reason: reason, disabled_at: new Date() }).where('id', '=', endpointId).execute();
  await trx
    .updateTable('notification_deliveries')
    .set({ status: 'failed', next_attempt_at: null, last_error: `endpoint disabled: ${reason}` })
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['pending', 'retrying'])
    .execute();
}

// --- the API's reads and actions ------------------------------------------------------------------------------

export interface DeliveryFilter {
  eventType?: string;
  status?: DeliveryStatus;
  endpointId?: number;
  queueId?: number;
}

const ISO = (col: string) => sql<string | null>`to_char(${sql.ref(col)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function listDeliveries(db: Executor, f: DeliveryFilter, page: { limit: number; offset: number }) {
  let q = db
    .selectFrom('notification_deliveries as d')
    .innerJoin('orchestrator_notifications as n', 'n.id', 'd.notification_id')
    .innerJoin('notification_endpoints as e', 'e.id', 'd.endpoint_id');
  if (f.eventType) q = q.where('n.event_type', '=', f.eventType);
  if (f.status) q = q.where('d.status', '=', f.status);
  if (f.endpointId !== undefined) q = q.where('d.endpoint_id', '=', f.endpointId);
  if (f.queueId !== undefined) q = q.where('n.queue_id', '=', f.queueId);
  const [items, total] = await Promise.all([
    q
      .select([
        'd.id', 'd.status', 'd.attempts', 'd.last_status_code', 'd.last_response', 'd.last_error', 'd.endpoint_id',
        'e.name as endpoint_name', 'e.kind as endpoint_kind', 'n.event_id', 'n.event_type', 'n.subject', 'n.queue_id',
      ])
      .select([ISO('d.next_attempt_at').as('next_attempt_at'), ISO('d.delivered_at').as('delivered_at'), ISO('d.created_at').as('created_at'), ISO('n.created_at').as('event_created_at')])
      .orderBy('d.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    q.select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { total: total.n, items };
}

export async function getDelivery(db: Executor, id: number) {
  const d = await db
    .selectFrom('notification_deliveries as d')
    .innerJoin('orchestrator_notifications as n', 'n.id', 'd.notification_id')
    .innerJoin('notification_endpoints as e', 'e.id', 'd.endpoint_id')
    .select([
      'd.id', 'd.status', 'd.attempts', 'd.last_status_code', 'd.last_response', 'd.last_error', 'd.endpoint_id',
      'e.name as endpoint_name', 'e.kind as endpoint_kind', 'n.event_id', 'n.event_type', 'n.subject', 'n.queue_id', 'n.payload',
    ])
    .select([ISO('d.next_attempt_at').as('next_attempt_at'), ISO('d.delivered_at').as('delivered_at'), ISO('d.created_at').as('created_at'), ISO('n.created_at').as('event_created_at')])
    .where('d.id', '=', id)
    .executeTakeFirst();
  if (!d) return undefined;
  const attempts = await db
    .selectFrom('notification_attempts')
    .select(['attempt', 'status', 'status_code', 'response', 'error', 'worker', 'duration_ms'])
    .select([ISO('started_at').as('started_at'), ISO('finished_at').as('finished_at'), ISO('next_attempt_at').as('next_attempt_at')])
    .where('delivery_id', '=', id)
    .orderBy('attempt')
    .execute();
  return { ...d, attempts };
}

/** A failed delivery goes again (a new round of the schedule, the same webhook-id). */
export async function redeliver(db: Kysely<Database>, id: number): Promise<'ok' | 'missing' | { refused: string }> {
  return db.transaction().execute(async (trx) => {
    const d = await trx
      .selectFrom('notification_deliveries as d')
      .innerJoin('notification_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.status', 'd.endpoint_id', 'e.enabled', 'e.deleted_at'])
      .where('d.id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!d) return 'missing';
    if (d.status !== 'failed') return { refused: `delivery ${id} is ${d.status}; only a failed delivery is redelivered` };
    if (d.deleted_at) return { refused: `its endpoint ${d.endpoint_id} was deleted` };
    if (!d.enabled) return { refused: `its endpoint ${d.endpoint_id} is disabled; enable it first (PATCH enabled=true)` };
    await trx.updateTable('notification_deliveries').set({ status: 'pending', schedule_step: 0, next_attempt_at: new Date(), last_error: null }).where('id', '=', id).execute();
    await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(d.endpoint_id)})`.execute(trx);
    return 'ok';
  });
}

/** Wakes one endpoint's delivery (after it was created or enabled), on the caller's transaction. */
export async function wakeEndpoint(trx: Executor, endpointId: number): Promise<void> {
  await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(endpointId)})`.execute(trx);
}

export const ENDPOINT_COLUMNS = [
  'id', 'name', 'kind', 'url', 'recipients', 'event_types', 'enabled', 'disabled_reason', 'max_concurrency', 'created_by',
] as const;

/** An endpoint as the API shows it: never a secret, only whether one (or a second, during a rotation) is set. */
export async function listEndpoints(db: Executor, id?: number) {
  let q = db
    .selectFrom('notification_endpoints')
    .select(ENDPOINT_COLUMNS)
    .select([
      ISO('disabled_at').as('disabled_at'), ISO('created_at').as('created_at'), ISO('updated_at').as('updated_at'),
      ISO('previous_secret_expires_at').as('previous_secret_expires_at'),
      sql<number>`(case when secret is null then 0 else 1 end + case when previous_secret is not null and previous_secret_expires_at > now() then 1 else 0 end)`.as('active_secrets'),
    ])
    .where('deleted_at', 'is', null);
  if (id !== undefined) q = q.where('id', '=', id);
  return q.orderBy('id').execute();
}

/**
 * NOTIFY_EMAIL_RECIPIENTS as email endpoints named `env:<filter>`: added or updated to match, and those no
 * longer listed disabled (their log is kept). Run by the worker at start; idempotent.
 */
export async function syncEnvEmailEndpoints(db: Kysely<Database>, entries: readonly { filter: string[]; recipients: string[] }[]): Promise<number[]> {
  return db.transaction().execute(async (trx) => {
    const names = entries.map((e) => `env:${e.filter.join('|')}`);
    const ids: number[] = [];
    for (const [i, e] of entries.entries()) {
      const name = names[i]!;
      const found = await trx.selectFrom('notification_endpoints').select('id').where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
      const id = found
        ? (await trx.updateTable('notification_endpoints').set({ recipients: e.recipients, event_types: e.filter, enabled: true, disabled_reason: null, disabled_at: null })
            .where('id', '=', found.id).returning('id').executeTakeFirstOrThrow()).id
        : (await trx.insertInto('notification_endpoints').values({ name, kind: 'email', recipients: e.recipients, event_types: e.filter, created_by: 'NOTIFY_EMAIL_RECIPIENTS' })
            .returning('id').executeTakeFirstOrThrow()).id;
      ids.push(id);
      await wakeEndpoint(trx, id);
    }
    let stale = trx.updateTable('notification_endpoints')
      .set({ enabled: false, disabled_reason: 'no longer in NOTIFY_EMAIL_RECIPIENTS', disabled_at: new Date() })
      .where('name', 'like', 'env:%').where('deleted_at', 'is', null).where('enabled', '=', true);
    if (names.length) stale = stale.where('name', 'not in', names);
    await stale.execute();
    return ids;
  });
}
