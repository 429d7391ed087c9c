import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { json } from '../../../db/json.js';
import { releaseTestSystem, testSystemsWithLastTest } from '../../../db/queries/test-systems.js';
import { TARGET_OSES } from '../../../domain/os.js';
import type { probeTestSystem } from '../../../workflows/index.js';
import { workflowIds } from '../../../workflows/messages.js';
import { conflict, notFound } from '../../errors.js';
import { errorResponses, IdParams, Paging } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';

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
const SystemWithLastTest = Type.Composite([
  System,
  Type.Object({
    last_test: Nullable(
      Type.Object({
        id: Type.Integer(),
        status: Type.String(),
        advisory_name: Type.String(),
        started_at: Type.String({ format: 'date-time' }),
        completed_at: Nullable(Type.String({ format: 'date-time' })),
      }),
    ),
  }),
]);
const iso = (d: Date | null) => (d ? d.toISOString() : null);
type Row = Awaited<ReturnType<typeof releaseTestSystem>> & object;
const view = (r: Row) => ({
  system_id: r.system_id, name: r.name, os: r.os, group_name: r.group_name, minion_id: r.minion_id, leased_by: r.leased_by,
  leased_at: iso(r.leased_at), quarantined: r.quarantined, quarantine_reason: r.quarantine_reason, quarantined_at: iso(r.quarantined_at),
});

export const testSystemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'Test systems with their lease, quarantine and last test; the total matching the filter is in X-Total-Count',
        querystring: Type.Object(
          {
            os: Type.Optional(StringEnum(TARGET_OSES)),
            quarantined: Type.Optional(Type.Boolean()),
            ...Paging({ defaultLimit: 500, maxLimit: 5000 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(SystemWithLastTest), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { total, rows } = await testSystemsWithLastTest(
        app.db,
        { ...(q.os ? { os: q.os } : {}), ...(q.quarantined !== undefined ? { quarantined: q.quarantined } : {}) },
        { limit: q.limit, offset: q.offset },
      );
      reply.header('x-total-count', String(total));
      return rows.map((r) => ({
        ...view(r),
        last_test: r.last_test_id
          ? { id: r.last_test_id, status: r.last_test_status!, advisory_name: r.last_test_advisory!, started_at: iso(r.last_test_started_at)!, completed_at: iso(r.last_test_completed_at) }
          : null,
      }));
    },
  );

  app.post(
    '/:id/release',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['tests'],
        summary: 'Put a quarantined test system back into rotation, once its host answers again (409 with the reason while it is down)',
        params: IdParams('test system id (UYUNI system id)'),
        response: { 200: System, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const id = request.params.id;
      const known = await app.db.selectFrom('test_systems').select('system_id').where('system_id', '=', id).executeTakeFirst();
      if (!known) throw notFound(`test system ${id}`);
      // A host still down would fail the next test, and that failure would be blamed on an innocent erratum.
      const probe = await app.temporal.client.workflow.execute<typeof probeTestSystem>('probeTestSystem', {
        taskQueue: app.config.temporal.taskQueue,
        workflowId: workflowIds.probe(id, randomUUID()),
        args: [{ systemId: id }],
        workflowExecutionTimeout: '1 minute',
      });
      const actor = request.actor?.name ?? 'unknown';
      if (!probe.up) {
        await app.db
          .insertInto('operator_actions')
          .values({ action: 'release_test_system', actor, source: 'api', status: 'refused', refusal: probe.reasons.join('; '), details: json({ system_id: id }) })
          .execute();
        throw conflict(`test system ${id} is still down: ${probe.reasons.join('; ')}`, { reasons: probe.reasons });
      }
      const row = await app.db.transaction().execute(async (trx) => {
        await trx.insertInto('operator_actions').values({ action: 'release_test_system', actor, source: 'api', status: 'recorded', details: json({ system_id: id }) }).execute();
        return releaseTestSystem(trx, id);
      });
      if (!row) throw notFound(`test system ${id}`);
      request.log.warn({ systemId: row.system_id, by: actor }, 'test system released from quarantine');
      return view(row);
    },
  );
};
