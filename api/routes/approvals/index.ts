import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getQueueRow } from '../../../db/queries/queue.js';
import { decideUpdate, workflowIds, type Decision } from '../../../workflows/messages.js';
import { badRequest, notFound } from '../../errors.js';
import { updateFailure } from '../../services/workflow-refusal.js';
import { errorResponses } from '../../schemas/common.js';

const Loose = Type.Object({}, { additionalProperties: true });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const approvalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/pending',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['approvals'],
        summary: 'Patches waiting for a decision, oldest first, with hours_pending and the test evidence',
        response: { 200: Type.Object({ items: Type.Array(Loose) }), ...errorResponses(401, 403) },
      },
    },
    async () => {
      const rows = await app.db.selectFrom('v_pending_approvals').selectAll().orderBy('pending_since').execute();
      return {
        items: rows.map((r) => ({
          ...r,
          pending_since: iso(r.pending_since),
          test_completed_at: iso(r.test_completed_at),
          snoozed_until: iso(r.snoozed_until),
          evidence: { cpu_delta: r.cpu_delta, memory_delta: r.memory_delta, services: r.services, reboot_duration_seconds: r.reboot_duration_seconds, test_system: r.test_system_name },
        })),
      };
    },
  );

  for (const decision of ['approve', 'reject', 'snooze'] as const satisfies readonly Decision[]) {
    app.post(
      `/:id/${decision}`,
      {
        config: { auth: 'approve' },
        schema: {
          tags: ['approvals'],
          summary: `${decision[0]?.toUpperCase()}${decision.slice(1)} a patch that passed its test (approver); 409 when it is not waiting for a decision`,
          params: Type.Object({ id: Type.Integer({ minimum: 1, description: 'queue item id' }) }),
          body: Type.Object(
            {
              reason: Type.Optional(Type.String({ maxLength: 2000 })),
              ...(decision === 'snooze' ? { until: Type.String({ format: 'date-time', description: 'when the item waits for a decision again' }) } : {}),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ queue_id: Type.Integer(), decision: Type.String(), status: Type.String(), approval_id: Type.Integer() }),
            ...errorResponses(400, 401, 403, 404, 409, 503),
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        const body = request.body as { reason?: string; until?: string };
        if (decision === 'snooze' && !(Date.parse(body.until ?? '') > Date.now())) throw badRequest('until', 'must be a time in the future');
        const item = await getQueueRow(app.db, id);
        if (!item) throw notFound(`queue item ${id}`);
        try {
          const result = await app.temporal.client.workflow.getHandle(workflowIds.patchTest(id)).executeUpdate(decideUpdate, {
            args: [{ decision, by: request.actor?.name ?? 'unknown', reason: body.reason, until: body.until, requestId: randomUUID(), source: 'api' }],
          });
          request.log.info({ queueId: id, decision, by: request.actor?.name }, 'approval decision');
          return { queue_id: id, decision: result.decision, status: result.status, approval_id: result.approvalId };
        } catch (err) {
          throw updateFailure(err, `queue item ${id} (${item.status})`);
        }
      },
    );
  }
};
