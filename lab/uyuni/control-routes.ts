/**
 * JSON control API under /lab/* so tests that run the worker in another process can drive the
 * lab: inject faults and latency, expire sessions, read call counts, ground truth and apply counters.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { actionView, erratumView, PERSONALITIES, systemView, type Fleet, type Os, type Personality } from '../fleet/index.js';
import { registerHostControlRoutes } from './host-control-routes.js';
import { INJECTED_FAULT_KINDS, type FaultInjector } from './injection.js';
import type { ResponseCache } from './response-cache.js';
import type { SessionStore } from './sessions.js';
import type { CallStats } from './stats.js';

export interface ControlDeps {
  readonly fleet: Fleet;
  readonly faults: FaultInjector;
  readonly sessions: SessionStore;
  readonly stats: CallStats;
  readonly cache: ResponseCache;
}

const FaultBody = Type.Object(
  {
    method: Type.Optional(Type.String({ minLength: 1 })),
    kind: Type.Union(INJECTED_FAULT_KINDS.map((k) => Type.Literal(k))),
    times: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('always')])),
    extraMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const LatencyBody = Type.Object(
  {
    globalMs: Type.Optional(Type.Integer({ minimum: 0 })),
    perMethod: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }))),
  },
  { additionalProperties: false },
);

const FindQuery = Type.Object({
  os: Type.Optional(Type.Union([Type.Literal('ubuntu'), Type.Literal('rhel')])),
  personality: Type.Optional(Type.Union(PERSONALITIES.map((p) => Type.Literal(p)))),
  relevantTo: Type.Optional(Type.String({ pattern: '^(test|prod|[0-9]+)$' })),
  service: Type.Optional(Type.String()),
  kernel: Type.Optional(Type.Boolean()),
  unscheduled: Type.Optional(Type.Boolean()),
  /** Applying it installs a package that was not installed (a new dependency; new kernel builds do not count). */
  adds: Type.Optional(Type.Boolean()),
  /** Applying it removes a package (Obsoletes / Replaces+Conflicts). */
  removes: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
});

const IdParams = Type.Object({ id: Type.Integer() });

/** A maintenance schedule of its own calendar, in lab hours relative to now (issue 15). */
const WindowsBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
    systemIds: Type.Array(Type.Integer(), { minItems: 1 }),
    /** When the first window opens, in lab hours from now (negative: it opened already). */
    startInLabHours: Type.Number(),
    durationLabHours: Type.Number({ exclusiveMinimum: 0 }),
    /** Repeats every this many lab hours (24: nightly); absent = one window only. */
    everyLabHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** How long a lab hour is, in real ms. Default 3,600,000 (a real hour). */
    labHourMs: Type.Optional(Type.Integer({ minimum: 100 })),
    type: Type.Optional(Type.Union([Type.Literal('single'), Type.Literal('multi')])),
  },
  { additionalProperties: false },
);
const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { fleet, faults, sessions, stats, cache } = deps;

  app.get('/lab/health', () => ({ ok: true, fleetVersion: fleet.version }));

  app.get('/lab/stats', () => ({
    ...stats.snapshot(),
    injected: faults.firedCounts(),
    logins: sessions.loginCount,
    activeSessions: sessions.active,
    cache: cache.stats(),
    fleetVersion: fleet.version,
  }));
  app.get<{ Params: { method: string } }>('/lab/stats/:method', (req) => stats.detail(req.params.method));
  app.delete('/lab/stats', () => {
    stats.reset();
    faults.resetCounts();
    cache.resetStats();
    return { reset: true };
  });

  app.get('/lab/faults', () => ({ rules: faults.list(), latency: faults.getLatency() }));
  app.post<{ Body: Static<typeof FaultBody> }>('/lab/faults', { schema: { body: FaultBody } }, async (req, reply) => {
    const body = req.body;
    const rule = faults.inject({ kind: body.kind, ...(body.method ? { method: body.method } : {}), ...(body.times !== undefined ? { times: body.times } : {}), ...(body.extraMs !== undefined ? { extraMs: body.extraMs } : {}) });
    return reply.code(201).send(rule);
  });
  app.delete('/lab/faults', () => ({ cleared: faults.clear() }));

  app.get('/lab/latency', () => faults.getLatency());
  app.put<{ Body: Static<typeof LatencyBody> }>('/lab/latency', { schema: { body: LatencyBody } }, (req) => faults.setLatency(req.body));

  app.post('/lab/sessions/expire', () => ({ expired: sessions.expireAll() }));

  app.get('/lab/truth', () => {
    fleet.tick();
    return fleet.truth();
  });

  app.get('/lab/applies', () => {
    fleet.tick();
    return { applies: fleet.applyRecords() };
  });

  app.get<{ Querystring: Static<typeof FindQuery> }>('/lab/errata/find', { schema: { querystring: FindQuery } }, async (req, reply) => {
    fleet.tick();
    const q = req.query;
    const relevantTo = q.relevantTo === undefined ? undefined : /^\d+$/.test(q.relevantTo) ? Number(q.relevantTo) : (q.relevantTo as 'test' | 'prod');
    const found = fleet.findErrata(
      {
        ...(q.os ? { os: q.os as Os } : {}),
        ...(q.personality ? { personality: q.personality as Personality } : {}),
        ...(relevantTo !== undefined ? { relevantTo } : {}),
        ...(q.service ? { service: q.service } : {}),
        ...(q.kernel !== undefined ? { kernel: q.kernel } : {}),
        ...(q.unscheduled !== undefined ? { unscheduled: q.unscheduled } : {}),
        ...(q.adds !== undefined ? { adds: q.adds } : {}),
        ...(q.removes !== undefined ? { removes: q.removes } : {}),
      },
      q.limit ?? 1,
    );
    if (found.length === 0) return reply.code(404).send({ error: 'no erratum matches' });
    // With relevantTo: what applying it does on the first such system it is relevant to.
    const candidates = relevantTo === undefined ? [] : typeof relevantTo === 'number' ? [relevantTo] : fleet.groups.filter((g) => g.stage === relevantTo).flatMap((g) => g.systemIds);
    return {
      errata: found.map((e) => {
        const sid = candidates.find((id) => fleet.system(id)?.os === e.os && fleet.isRelevant(id, e.id));
        return { ...erratumView(fleet, e), ...(sid !== undefined ? { effectOn: { systemId: sid, ...fleet.erratumEffectOnPackages(sid, e.id) } } : {}) };
      }),
    };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/lab/systems/:id', { schema: { params: IdParams } }, async (req, reply) => {
    fleet.tick();
    const s = fleet.system(req.params.id);
    return s ? systemView(fleet, s) : reply.code(404).send({ error: 'no such system' });
  });
  app.post<{ Params: Static<typeof IdParams> }>('/lab/systems/:id/recover', { schema: { params: IdParams } }, async (req, reply) => {
    fleet.tick();
    const s = fleet.system(req.params.id);
    if (!s) return reply.code(404).send({ error: 'no such system' });
    fleet.recoverSystem(s.id);
    return systemView(fleet, s);
  });
  registerHostControlRoutes(app, fleet);

  // issue 15: retracted advisories and maintenance windows
  app.post<{ Params: Static<typeof NameParams> }>('/lab/errata/:name/retract', { schema: { params: NameParams } }, async (req, reply) => {
    const e = fleet.erratumByName(req.params.name);
    if (!e) return reply.code(404).send({ error: 'no such erratum' });
    fleet.retract(e.id);
    return { advisoryName: e.advisoryName, id: e.id, advisoryStatus: fleet.advisoryStatus(e) };
  });
  app.get('/lab/maintenance', () =>
    fleet.maintenance.scheduleNames().map((name) => ({
      schedule: fleet.maintenance.schedule(name), systemIds: fleet.maintenance.systemsWith(name), calendar: fleet.maintenance.calendar(`${name}-calendar`) ?? null,
    })),
  );
  app.post<{ Body: Static<typeof WindowsBody> }>('/lab/maintenance/windows', { schema: { body: WindowsBody } }, async (req, reply) => {
    const b = req.body;
    const hour = b.labHourMs ?? 3_600_000;
    for (const id of b.systemIds) if (!fleet.system(id)) return reply.code(404).send({ error: `no such system ${id}` });
    const now = fleet.now();
    const defined = fleet.maintenance.define({
      name: b.name, ...(b.type ? { type: b.type } : {}), systemIds: b.systemIds,
      windows: [{ startMs: Math.round(now + b.startInLabHours * hour), durationMs: Math.round(b.durationLabHours * hour), everyMs: b.everyLabHours === undefined ? null : Math.round(b.everyLabHours * hour) }],
    });
    return reply.code(201).send({ ...defined, systemIds: fleet.maintenance.systemsWith(b.name) });
  });
  app.delete('/lab/maintenance', () => {
    fleet.maintenance.clear();
    return { cleared: true };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/lab/actions/:id', { schema: { params: IdParams } }, async (req, reply) => {
    fleet.tick();
    const a = fleet.action(req.params.id);
    return a ? actionView(fleet, a) : reply.code(404).send({ error: 'no such action' });
  });
}
