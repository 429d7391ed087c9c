import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { deploymentPolicy } from '../../../db/queries/orchestrator-config.js';
import { getQueueRow } from '../../../db/queries/queue.js';
import { itemSearchAttributes, testTiming } from '../../../temporal/tests.js';
import type { deploymentRollback } from '../../../workflows/index.js';
import { deploymentStatusQuery, deployUpdate, workflowIds, type DeploymentView } from '../../../workflows/messages.js';
import { conflict, notFound } from '../../errors.js';
import { recordThenStart } from '../../services/operator-action.js';
import { updateFailure } from '../../services/workflow-refusal.js';
import { errorResponses } from '../../schemas/common.js';

const Loose = Type.Object({}, { additionalProperties: true });
const Id = Type.Object({ id: Type.Integer({ minimum: 1, description: 'queue item id' }) });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const deploymentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['deployments'],
        summary: 'Roll an approved patch out to production (canary, soak, waves, failure budget); 409 unless approved',
        body: Type.Object({ queue_id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        response: { 202: Type.Object({ queue_id: Type.Integer(), workflow_id: Type.String(), policy: Loose }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const id = request.body.queue_id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      if (item.status !== 'approved') throw conflict(`queue item ${id} is ${item.status}; only an approved patch can be deployed`, { status: item.status });
      const policy = await deploymentPolicy(app.db);
      try {
        const r = await app.temporal.client.workflow
          .getHandle(workflowIds.patchTest(id))
          .executeUpdate(deployUpdate, { args: [{ by: request.actor?.name ?? 'api', policy, requestId: randomUUID(), source: 'api' }] });
        request.log.info({ queueId: id, by: request.actor?.name, policy }, 'deployment started');
        return reply.status(202).send({ queue_id: id, workflow_id: r.workflowId, policy });
      } catch (err) {
        throw updateFailure(err, `queue item ${id} cannot be deployed now`);
      }
    },
  );

  app.get(
    '/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['deployments'],
        summary: 'A rollout: per-system status, waves, budget used (live while it runs)',
        params: Id,
        response: { 200: Type.Object({ queue_id: Type.Integer(), queue_status: Type.String(), systems: Type.Array(Loose), live: Type.Union([Loose, Type.Null()]) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const id = request.params.id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      const rows = await app.db.selectFrom('patch_deployments').selectAll().where('queue_id', '=', id).orderBy('wave').orderBy('system_id').execute();
      const live: DeploymentView | null = await app.temporal.client.workflow.getHandle(workflowIds.deployment(id)).query(deploymentStatusQuery).catch(() => null);
      if (!rows.length && !live) throw notFound(`deployment of queue item ${id}`);
      return {
        queue_id: id,
        queue_status: item.status,
        systems: rows.map((r) => ({ ...r, started_at: iso(r.started_at), completed_at: iso(r.completed_at), created_at: iso(r.created_at), updated_at: iso(r.updated_at) })),
        live: live as unknown as Record<string, unknown> | null,
      };
    },
  );

  app.post(
    '/:id/rollback',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['deployments'],
        summary: 'Roll back exactly the production systems already patched, during or after the rollout',
        params: Id,
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ queue_id: Type.Integer(), workflow_id: Type.String() }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      if (!['promoting', 'halted', 'prod_applied', 'completed', 'prod_rollback_failed'].includes(item.status)) {
        throw conflict(`queue item ${id} is ${item.status}: there is no production rollout to roll back`, { status: item.status });
      }
      const workflowId = workflowIds.deploymentRollback(id);
      const reason = request.body?.reason ?? 'rollback requested';
      const handle = await recordThenStart(app, request, { action: 'rollback_deployment', queueId: id, workflowId, reason }, (requestId) =>
        app.temporal.client.workflow.start<typeof deploymentRollback>('deploymentRollback', {
          taskQueue: app.config.temporal.taskQueue,
          workflowId,
          args: [{ queueId: id, requestedBy: request.actor?.name ?? 'api', reason, requestId, timing: testTiming(app.config) }],
          typedSearchAttributes: itemSearchAttributes(item, 'rolling_back'),
        }),
      );
      request.log.warn({ queueId: id, by: request.actor?.name }, 'production rollback started');
      return reply.status(202).send({ queue_id: id, workflow_id: handle.workflowId });
    },
  );
};
