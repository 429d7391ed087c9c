import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listTestSystems, releaseTestSystem } from '../../../db/queries/test-systems.js';
import { notFound } from '../../errors.js';
import { errorResponses } from '../../schemas/common.js';

const System = Type.Object({
  system_id: Type.Integer(),
  name: Type.String(),
  os: Type.String(),
  group_name: Type.String(),
  minion_id: Type.Union([Type.String(), Type.Null()]),
  leased_by: Type.Union([Type.String(), Type.Null()]),
  leased_at: Type.Union([Type.String(), Type.Null()]),
  quarantined: Type.Boolean(),
  quarantine_reason: Type.Union([Type.String(), Type.Null()]),
  quarantined_at: Type.Union([Type.String(), Type.Null()]),
});
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const view = (r: Awaited<ReturnType<typeof listTestSystems>>[number]) => ({
  system_id: r.system_id, name: r.name, os: r.os, group_name: r.group_name, minion_id: r.minion_id, leased_by: r.leased_by,
  leased_at: iso(r.leased_at), quarantined: r.quarantined, quarantine_reason: r.quarantine_reason, quarantined_at: iso(r.quarantined_at),
});

export const testSystemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: { tags: ['tests'], summary: 'Test systems with their lease and quarantine', response: { 200: Type.Array(System), ...errorResponses(401, 403) } },
    },
    async () => (await listTestSystems(app.db)).map(view),
  );

  app.post(
    '/:id/release',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['tests'],
        summary: 'Put a quarantined test system (one that did not come back from a reboot) back into rotation',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: System, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const row = await releaseTestSystem(app.db, request.params.id);
      if (!row) throw notFound(`test system ${request.params.id}`);
      request.log.warn({ systemId: row.system_id, by: request.actor?.name }, 'test system released from quarantine');
      return view(row);
    },
  );
};
