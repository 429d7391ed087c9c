import { randomBytes } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getDelivery, listDeliveries, listEndpoints, recordEvent, redeliver, wakeEndpoint } from '../../../db/queries/notifications.js';
import type { DeliveryStatus } from '../../../db/database.js';
import { checkEventFilter, envelopeSchema, EVENT_DATA, EVENT_TYPES } from '../../../domain/notification-events.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { errorResponses, Id, IdParams, Paging, SafeText } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';

// Notification endpoints (admin; webhook secrets are write-only: shown once when generated, never read back),
// the delivery log with each delivery's attempts, redelivery of a failed delivery, a test event to one
// endpoint, and the JSON schema of every event type.

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'retrying', 'delivered', 'failed'];
const Iso = Nullable(Type.String({ format: 'date-time' }));
const Str = Nullable(Type.String());
const Int = Nullable(Type.Integer());

const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$';
const SECRET = new RegExp(SECRET_PATTERN);
/** What an event filter may hold: "*", every family's "<family>.*", every event type. */
const FILTER_VALUES = ['*', ...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`)), ...EVENT_TYPES];
const EventFilter = Type.Array(StringEnum(FILTER_VALUES), { minItems: 1, maxItems: 50, description: '"*", "<family>.*" (e.g. "deployment.*") or event types' });
const Recipients = Type.Array(Type.String({ format: 'email', maxLength: 254, description: 'an email address' }), { minItems: 1, maxItems: 50 });
const Secret = Type.String({ pattern: SECRET_PATTERN, maxLength: 100, description: 'whsec_<base64 of 24 to 64 random bytes>; generated when left out (and shown once)' });
const WebUrl = Type.String({ pattern: '^https?://[^\\s\\u0000]+$', maxLength: 2000, description: 'http(s) URL the signed POST goes to (no credentials in it)' });

const Endpoint = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  kind: StringEnum(['webhook', 'email'] as const),
  url: Str,
  recipients: Type.Array(Type.String()),
  event_types: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: Str,
  disabled_at: Iso,
  max_concurrency: Type.Integer(),
  created_by: Type.String(),
  created_at: Iso,
  updated_at: Iso,
  active_secrets: Type.Integer({ description: 'webhook signing secrets in use: 2 during a rotation (their values are never shown)' }),
  previous_secret_expires_at: Iso,
});
const EndpointWithSecret = Type.Object({ endpoint: Endpoint, secret: Nullable(Type.String({ description: 'the new whsec_ secret: shown this once' })) });

const Delivery = Type.Object({
  id: Type.Integer(),
  status: StringEnum(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  last_status_code: Int,
  last_response: Str,
  last_error: Str,
  endpoint_id: Type.Integer(),
  endpoint_name: Type.String(),
  endpoint_kind: Type.String(),
  event_id: Type.String({ description: 'the webhook-id' }),
  event_type: Type.String(),
  subject: Type.String(),
  queue_id: Int,
  next_attempt_at: Iso,
  delivered_at: Iso,
  created_at: Iso,
  event_created_at: Iso,
});
const Attempt = Type.Object({
  attempt: Type.Integer(),
  status: StringEnum(['sending', 'succeeded', 'failed', 'lost'] as const),
  status_code: Int,
  response: Str,
  error: Str,
  worker: Str,
  duration_ms: Int,
  started_at: Iso,
  finished_at: Iso,
  next_attempt_at: Iso,
});

function checkSecret(secret: string, field: string): void {
  if (!SECRET.test(secret)) throw badRequest(field, 'must be whsec_ followed by base64');
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  if (bytes < 24 || bytes > 64) throw badRequest(field, `must hold 24 to 64 random bytes (has ${bytes})`);
}
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

function checkUrl(url: string, field: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badRequest(field, 'is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(field, 'must be an http:// or https:// URL');
  if (u.username || u.password) throw badRequest(field, 'must not carry credentials (the signature authenticates the sender)');
}

function checkFilter(filter: readonly string[] | undefined): void {
  if (filter === undefined) return;
  const problem = checkEventFilter(filter);
  if (problem) throw badRequest('event_types', problem);
}

export const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const one = async (id: number) => {
    const [e] = await listEndpoints(app.db, id);
    if (!e) throw notFound(`notification endpoint ${id}`);
    return e;
  };

  app.get(
    '/event-types',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['notifications'],
        summary: 'Every event type with the JSON schema of its envelope {type, timestamp, data}',
        response: { 200: Type.Array(Type.Object({ type: Type.String(), description: Type.String(), schema: Type.Unknown() })) },
      },
    },
    async () => EVENT_TYPES.map((type) => ({ type, description: EVENT_DATA[type].description ?? '', schema: envelopeSchema(type) })),
  );

  app.get(
    '/endpoints',
    { config: { auth: 'admin' }, schema: { tags: ['notifications'], summary: 'Notification endpoints (admin; no secrets)', response: { 200: Type.Array(Endpoint) } } },
    async () => listEndpoints(app.db),
  );

  app.get(
    '/endpoints/:id',
    {
      config: { auth: 'admin' },
      schema: { tags: ['notifications'], summary: 'One endpoint (admin; no secrets)', params: IdParams('endpoint id'), response: { 200: Endpoint, ...errorResponses(404) } },
    },
    async (request) => one(request.params.id),
  );

  app.post(
    '/endpoints',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['notifications'],
        summary: 'Add a webhook (url; a whsec_ secret, generated when omitted and shown once) or an email endpoint (recipients), with its event filter',
        body: Type.Object(
          {
            name: SafeText({ minLength: 1, maxLength: 100 }),
            kind: StringEnum(['webhook', 'email'] as const),
            url: Type.Optional(WebUrl),
            recipients: Type.Optional(Recipients),
            event_types: Type.Optional(EventFilter),
            secret: Type.Optional(Secret),
            max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'deliveries in flight at once (default NOTIFY_ENDPOINT_CONCURRENCY)' })),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: EndpointWithSecret, ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      checkFilter(b.event_types);
      let secret: string | null = null;
      let generated = false;
      if (b.kind === 'webhook') {
        if (!b.url) throw badRequest('url', 'is required for a webhook');
        if (b.recipients) throw badRequest('recipients', 'belong to an email endpoint');
        checkUrl(b.url, 'url');
        if (b.secret) checkSecret(b.secret, 'secret');
        secret = b.secret ?? newSecret();
        generated = !b.secret;
      } else {
        if (!b.recipients) throw badRequest('recipients', 'are required for an email endpoint');
        if (b.url) throw badRequest('url', 'belongs to a webhook');
        if (b.secret) throw badRequest('secret', 'belongs to a webhook');
      }
      const id = await app.db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('notification_endpoints').select('id').where('name', '=', b.name).where('deleted_at', 'is', null).executeTakeFirst();
        if (taken) throw conflict(`an endpoint named "${b.name}" exists (id ${taken.id})`, { id: taken.id });
        const row = await trx
          .insertInto('notification_endpoints')
          .values({
            name: b.name, kind: b.kind, url: b.url ?? null, recipients: b.recipients ?? [], event_types: b.event_types ?? ['*'], secret,
            max_concurrency: b.max_concurrency ?? app.config.notify.endpointConcurrency, enabled: b.enabled ?? true,
            created_by: request.actor?.name ?? 'api',
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await wakeEndpoint(trx, row.id);
        return row.id;
      });
      request.log.info({ endpointId: id, kind: b.kind, by: request.actor?.name }, 'notification endpoint added');
      return reply.code(201).send({ endpoint: await one(id), secret: generated ? secret : null });
    },
  );

  app.patch(
    '/endpoints/:id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['notifications'],
        summary: 'Change an endpoint: name, url, recipients, event filter, concurrency; enabled=true re-enables one a 410 disabled',
        params: IdParams('endpoint id'),
        body: Type.Object(
          {
            name: Type.Optional(SafeText({ minLength: 1, maxLength: 100 })),
            url: Type.Optional(WebUrl),
            recipients: Type.Optional(Recipients),
            event_types: Type.Optional(EventFilter),
            max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Endpoint, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const b = request.body;
      const e = await one(id);
      checkFilter(b.event_types);
      if (b.url !== undefined) {
        if (e.kind !== 'webhook') throw badRequest('url', 'belongs to a webhook');
        checkUrl(b.url, 'url');
      }
      if (b.recipients !== undefined) {
        if (e.kind !== 'email') throw badRequest('recipients', 'belong to an email endpoint');
      }
      await app.db.transaction().execute(async (trx) => {
        if (b.name !== undefined && b.name !== e.name) {
          const taken = await trx.selectFrom('notification_endpoints').select('id').where('name', '=', b.name).where('deleted_at', 'is', null).executeTakeFirst();
          if (taken) throw conflict(`an endpoint named "${b.name}" exists (id ${taken.id})`, { id: taken.id });
        }
        await trx
          .updateTable('notification_endpoints')
          .set({
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.url !== undefined ? { url: b.url } : {}),
            ...(b.recipients !== undefined ? { recipients: b.recipients } : {}),
            ...(b.event_types !== undefined ? { event_types: b.event_types } : {}),
            ...(b.max_concurrency !== undefined ? { max_concurrency: b.max_concurrency } : {}),
            ...(b.enabled === true ? { enabled: true, disabled_reason: null, disabled_at: null } : {}),
            ...(b.enabled === false ? { enabled: false, disabled_reason: `disabled by ${request.actor?.name ?? 'api'}`, disabled_at: new Date() } : {}),
          })
          .where('id', '=', id)
          .execute();
        await wakeEndpoint(trx, id);
      });
      return one(id);
    },
  );

  app.delete(
    '/endpoints/:id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['notifications'],
        summary: 'Remove an endpoint (its delivery log is kept; its waiting deliveries fail)',
        params: IdParams('endpoint id'),
        response: { 200: Type.Object({ id: Type.Integer(), deleted: Type.Literal(true) }), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await one(id);
      await app.db.transaction().execute(async (trx) => {
        await trx.updateTable('notification_endpoints').set({ deleted_at: new Date(), enabled: false, disabled_reason: 'deleted' }).where('id', '=', id).execute();
        await trx
          .updateTable('notification_deliveries')
          .set({ status: 'failed', next_attempt_at: null, last_error: 'endpoint deleted' })
          .where('endpoint_id', '=', id)
          .where('status', 'in', ['pending', 'retrying'])
          .execute();
        await wakeEndpoint(trx, id);
      });
      return reply.send({ id, deleted: true as const });
    },
  );

  app.post(
    '/endpoints/:id/rotate-secret',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['notifications'],
        summary: 'Rotate a webhook secret: the new one signs from now on, the old one too until overlap_hours pass (two signatures per request)',
        params: IdParams('endpoint id'),
        body: Type.Object(
          {
            secret: Type.Optional(Secret),
            overlap_hours: Type.Optional(Type.Number({ minimum: 0, maximum: 168, default: 24, description: 'how long the old secret still signs (0 = drop it now)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: EndpointWithSecret, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const e = await one(id);
      if (e.kind !== 'webhook') throw conflict(`endpoint ${id} is an email endpoint: it has no secret`);
      if (request.body.secret) checkSecret(request.body.secret, 'secret');
      const secret = request.body.secret ?? newSecret();
      const overlapMs = (request.body.overlap_hours ?? 24) * 3600_000;
      await app.db
        .updateTable('notification_endpoints')
        .set((eb) => ({
          previous_secret: overlapMs > 0 ? eb.ref('secret') : null,
          previous_secret_expires_at: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
          secret,
        }))
        .where('id', '=', id)
        .execute();
      request.log.info({ endpointId: id, by: request.actor?.name, overlapHours: overlapMs / 3600_000 }, 'webhook secret rotated');
      return { endpoint: await one(id), secret: request.body.secret ? null : secret };
    },
  );

  app.post(
    '/endpoints/:id/test',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['notifications'],
        summary: 'Send a notification.test event to this endpoint only (delivered like any event; follow it in /deliveries)',
        params: IdParams('endpoint id'),
        body: Type.Optional(Type.Object({ message: Type.Optional(SafeText({ maxLength: 500 })) }, { additionalProperties: false })),
        response: { 202: Type.Object({ event_id: Type.String(), endpoint_id: Type.Integer() }), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const e = await one(id);
      if (!e.enabled) throw conflict(`endpoint ${id} is disabled${e.disabled_reason ? ` (${e.disabled_reason})` : ''}; enable it first`);
      const by = request.actor?.name ?? 'api';
      const eventId = await app.db.transaction().execute((trx) =>
        recordEvent(trx, 'notification.test', {
          queue_id: null, advisory: null, os: null, endpoint_id: id, requested_by: by, message: request.body?.message ?? `a test of endpoint "${e.name}"`,
        }, { onlyEndpointId: id }),
      );
      return reply.code(202).send({ event_id: eventId!, endpoint_id: id });
    },
  );

  app.get(
    '/deliveries',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['notifications'],
        summary: 'The delivery log, newest first: one row per event × endpoint, with its last outcome and next attempt',
        querystring: Type.Object(
          {
            event_type: Type.Optional(StringEnum(EVENT_TYPES)),
            status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
            endpoint_id: Type.Optional(Id('endpoint id')),
            queue_id: Type.Optional(Id('queue item id')),
            ...Paging({ defaultLimit: 50, maxLimit: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ total: Type.Integer(), items: Type.Array(Delivery) }) },
      },
    },
    async (request) => {
      const q = request.query;
      return listDeliveries(app.db, { eventType: q.event_type, status: q.status, endpointId: q.endpoint_id, queueId: q.queue_id }, { limit: q.limit, offset: q.offset });
    },
  );

  app.get(
    '/deliveries/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['notifications'],
        summary: 'One delivery with its event payload and every attempt (status, HTTP code or SMTP reply, error, next attempt)',
        params: IdParams('delivery id'),
        response: { 200: Type.Object({ ...Delivery.properties, payload: Type.Unknown(), attempts: Type.Array(Attempt) }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const d = await getDelivery(app.db, request.params.id);
      if (!d) throw notFound(`delivery ${request.params.id}`);
      return d;
    },
  );

  app.post(
    '/deliveries/:id/redeliver',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['notifications'],
        summary: 'Deliver a failed delivery again (a new round of the retry schedule, the same webhook-id); 409 unless failed',
        params: IdParams('delivery id'),
        response: { 202: Type.Object({ id: Type.Integer(), status: Type.Literal('pending') }), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const r = await redeliver(app.db, request.params.id);
      if (r === 'missing') throw notFound(`delivery ${request.params.id}`);
      if (r !== 'ok') throw conflict(r.refused);
      request.log.info({ deliveryId: request.params.id, by: request.actor?.name }, 'redelivery requested');
      return reply.code(202).send({ id: request.params.id, status: 'pending' as const });
    },
  );
};
