/**
 * The lab's host controls under /lab/*: faults of the hosts themselves (the package manager, systemd,
 * the boot) and the package ground truth tests compare a rollback against. The faults live in the
 * shared Fleet, so the salt-api lab and UYUNI's actions both meet them.
 *
 * - POST /lab/host-faults {kind, systemId, package?, service?, times?} → 201 the rule
 *   (kind: downgrade_sticks needs package, service_stays_down needs service; times: n ≥ 1 or "always", default 1)
 * - GET /lab/host-faults → {rules: [{id, kind, systemId, package?, service?, times, fired}]}
 * - DELETE /lab/host-faults → {cleared}: disarms all and repairs units service_stays_down broke
 * - POST /lab/errata-faults {kind: "interaction", errataIds: [a, b, …]} | {kind: "flaky", erratumId, every} → 201 the rule
 *   (interaction: harmless alone, CPU spike once all are installed on a system; flaky: a CPU spike on the 1st of
 *   every `every` installations fleet-wide)
 * - GET /lab/errata-faults → {rules: [{id, kind, …, installs, fired}]}; DELETE /lab/errata-faults → {cleared}
 * - GET /lab/systems/:id/packages → {systemId, os, packages: {name: [versions]}, runningKernel, bootDefault, kernels}
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { FleetError, HOST_FAULT_KINDS, type Fleet } from '../fleet/index.js';

const HostFaultBody = Type.Object(
  {
    kind: Type.Union(HOST_FAULT_KINDS.map((k) => Type.Literal(k))),
    systemId: Type.Integer({ minimum: 1 }),
    package: Type.Optional(Type.String({ minLength: 1 })),
    service: Type.Optional(Type.String({ minLength: 1 })),
    times: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('always')])),
  },
  { additionalProperties: false },
);

const ErratumFaultBody = Type.Union([
  Type.Object({ kind: Type.Literal('interaction'), errataIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 16 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('flaky'), erratumId: Type.Integer({ minimum: 1 }), every: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
]);

const IdParams = Type.Object({ id: Type.Integer() });

export function registerHostControlRoutes(app: FastifyInstance, fleet: Fleet): void {
  app.get('/lab/host-faults', () => ({ rules: fleet.hostFaults.list() }));

  app.post<{ Body: Static<typeof HostFaultBody> }>('/lab/host-faults', { schema: { body: HostFaultBody } }, async (req, reply) => {
    fleet.tick();
    try {
      const b = req.body;
      const rule = fleet.addHostFault({
        kind: b.kind,
        systemId: b.systemId,
        ...(b.package !== undefined ? { package: b.package } : {}),
        ...(b.service !== undefined ? { service: b.service } : {}),
        ...(b.times !== undefined ? { times: b.times } : {}),
      });
      return reply.code(201).send(rule);
    } catch (err) {
      if (err instanceof FleetError && err.code === 'invalid_fault') return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message });
      throw err;
    }
  });

  app.delete('/lab/host-faults', () => ({ cleared: fleet.clearHostFaults() }));

  app.get('/lab/errata-faults', () => ({ rules: fleet.errataFaults.list() }));
  app.post<{ Body: Static<typeof ErratumFaultBody> }>('/lab/errata-faults', { schema: { body: ErratumFaultBody } }, async (req, reply) => {
    try {
      return reply.code(201).send(fleet.addErratumFault(req.body));
    } catch (err) {
      if (err instanceof FleetError && err.code === 'invalid_fault') return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message });
      throw err;
    }
  });
  app.delete('/lab/errata-faults', () => ({ cleared: fleet.clearErratumFaults() }));

  app.get<{ Params: Static<typeof IdParams> }>('/lab/systems/:id/packages', { schema: { params: IdParams } }, async (req, reply) => {
    fleet.tick();
    const s = fleet.system(req.params.id);
    if (!s) return reply.code(404).send({ error: 'no such system' });
    return { systemId: s.id, os: s.os, ...fleet.packageTruth(s.id) };
  });
}
