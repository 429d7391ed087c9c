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

  app.get<{ Params: Static<typeof IdParams> }>('/lab/actions/:id', { schema: { params: IdParams } }, async (req, reply) => {
    fleet.tick();
    const a = fleet.action(req.params.id);
    return a ? actionView(fleet, a) : reply.code(404).send({ error: 'no such action' });
  });
}
