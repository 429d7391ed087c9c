import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { TestSystemsTable } from '../../../db/database.js';
import { testSystemsWithLastTest } from '../../../db/queries/test-systems.js';
import { TARGET_OSES } from '../../../domain/os.js';
import type { probeTestSystem } from '../../../workflows/index.js';
import { workflowIds } from '../../../workflows/messages.js';
import { conflict, notFound } from '../../errors.js';
import { WAIT_BOUND_SECONDS } from '../../limits.js';
import { withinBound } from '../../services/bounded-wait.js';
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
type Row = Selectable<TestSystemsTable>;
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
        summary:
          'Put a quarantined test system back into rotation once its host answers and is as it was before the test that quarantined it; with restore, that test\'s changes are undone and verified first (409 with the reason otherwise)',
        description:
          'Waits at most 20 s for the probe (and a restore): 200 with the system when released; 202 with the workflow id while a restore still runs (poll GET /api/v1/test-systems); 409 while the host is down or still carries the test\'s changes.',
        params: IdParams('test system id (UYUNI system id)'),
        body: Type.Optional(
          Type.Object(
            { restore: Type.Optional(Type.Boolean({ default: false, description: 'undo what the quarantining test changed (verified) before releasing' })) },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: System,
          202: Type.Object({ system_id: Type.Integer(), workflow_id: Type.String(), message: Type.String() }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const restore = request.body?.restore === true;
      const known = await app.db.selectFrom('test_systems').select('system_id').where('system_id', '=', id).executeTakeFirst();
      if (!known) throw notFound(`test system ${id}`);
      const actor = request.actor?.name ?? 'unknown';
      // A host still down, or still carrying a failed test's patch, would fail the next test, and that
      // failure would be blamed on an innocent erratum.
      const workflowId = workflowIds.probe(id, randomUUID());
      const handle = await app.temporal.client.workflow.start<typeof probeTestSystem>('probeTestSystem', {
        taskQueue: app.config.temporal.taskQueue,
        workflowId,
        args: [{ systemId: id, restore, requestedBy: actor, timing: app.config.test }],
        workflowExecutionTimeout: '1 hour',
      });
      const waited = await withinBound(app.temporal.client, WAIT_BOUND_SECONDS * 1000, () => handle.result());
      if (!waited.done) {
        return reply.status(202).send({ system_id: id, workflow_id: workflowId, message: 'the restore is still running; the system is released when it is verified clean (poll GET /api/v1/test-systems)' });
      }
      const probe = waited.value;
      if (!probe.released) {
        const hint = probe.up && !restore && probe.reasons.length ? ' (send {"restore": true} to undo and verify those changes first)' : '';
        throw conflict(`test system ${id} ${probe.up ? 'cannot be released' : 'is still down'}: ${probe.reasons.join('; ') || 'it is not quarantined any more'}${hint}`, { reasons: probe.reasons });
      }
      const row = await app.db.selectFrom('test_systems').selectAll().where('system_id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`test system ${id}`);
      request.log.warn({ systemId: row.system_id, by: actor, restored: probe.restored?.steps }, 'test system released from quarantine');
      return view(row);
    },
  );
};
