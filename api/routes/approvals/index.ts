import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { approvalHistory, pendingApprovals } from '../../../db/queries/approvals.js';
import { getQueueRow } from '../../../db/queries/queue.js';
import { retractedAt, retractionReason } from '../../../db/queries/retractions.js';
import { decideUpdate, workflowIds, type Decision } from '../../../workflows/messages.js';
import { ApiError, badRequest, conflict, notFound } from '../../errors.js';
import { updateFailure } from '../../services/workflow-refusal.js';
import { errorResponses, Id, IdParams, Paging, SafeText } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';

const Loose = Type.Object({}, { additionalProperties: true });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const DECISIONS = ['approve', 'reject', 'snooze', 'expire'] as const;
const SOURCES = ['api', 'cli', 'dashboard', 'system'] as const;

const AWAITING_DECISION = new Set(['pending_approval', 'snoozed']);

type DecisionBody = { reason?: string; until?: string; source?: 'api' | 'dashboard' };

export const approvalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /**
   * One decision through the item's patchTest workflow (the decide Update: recorded in PostgreSQL before it
   * takes effect; refused by the workflow's validator when the item is not waiting). Throws the HTTP error.
   */
  const decideOne = async (id: number, decision: 'approve' | 'reject' | 'snooze', body: DecisionBody, by: string, log: { info: (o: object, m: string) => void }) => {
    const item = await getQueueRow(app.db, id);
    if (!item) throw notFound(`queue item ${id}`);
    // The workflow's validator decides; this only spares an item with no waiting workflow a vaguer answer.
    if (!AWAITING_DECISION.has(item.status)) throw conflict(`queue item ${id} is not waiting for a decision (${item.status})`, { status: item.status });
    // issue 15: a retracted advisory is never approved (the recording activity refuses it too, for the CLI).
    const retracted = decision === 'approve' ? await retractedAt(app.db, item.advisory_name) : null;
    if (retracted) {
      throw conflict(`queue item ${id} cannot be approved: ${retractionReason(item.advisory_name)}`, { status: item.status, reason: 'retracted', retracted_at: retracted.toISOString() });
    }
    try {
      const result = await app.temporal.client.workflow.getHandle(workflowIds.patchTest(id)).executeUpdate(decideUpdate, {
        args: [{ decision, by, reason: body.reason, until: body.until, requestId: randomUUID(), source: body.source ?? 'api' }],
      });
      log.info({ queueId: id, decision, by }, 'approval decision');
      return { queue_id: id, decision: result.decision, status: result.status, approval_id: result.approvalId };
    } catch (err) {
      throw updateFailure(err, `queue item ${id} (${item.status})`);
    }
  };

  app.get(
    '/pending',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['approvals'],
        summary: 'Patches waiting for a decision, oldest first, with hours_pending, the test evidence and the reminders sent',
        querystring: Type.Object({ ...Paging({ defaultLimit: 100, maxLimit: 500 }), }, { additionalProperties: false }),
        response: {
          200: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), items: Type.Array(Loose) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const { total, items: rows } = await pendingApprovals(app.db, { limit, offset });
      return {
        total,
        limit,
        offset,
        items: rows.map((r) => ({
          ...r,
          pending_since: iso(r.pending_since),
          test_completed_at: iso(r.test_completed_at),
          snoozed_until: iso(r.snoozed_until),
          last_reminder_at: r.last_reminder_at ? new Date(r.last_reminder_at).toISOString() : null,
          reminders: r.reminders ?? 0,
          evidence: { cpu_delta: r.cpu_delta, memory_delta: r.memory_delta, services: r.services, reboot_duration_seconds: r.reboot_duration_seconds, test_system: r.test_system_name },
        })),
      };
    },
  );

  app.get(
    '/history',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['approvals'],
        summary: 'Decisions, newest first: who, when, why, from where (api, cli, dashboard, system) and the evidence',
        querystring: Type.Object(
          {
            decision: Type.Optional(Type.Array(StringEnum(DECISIONS), { maxItems: 4, description: 'repeatable' })),
            source: Type.Optional(Type.Array(StringEnum(SOURCES), { maxItems: 4, description: 'repeatable' })),
            queue_id: Type.Optional(Id('decisions on this queue item')),
            decided_by: Type.Optional(SafeText({ minLength: 1, maxLength: 200, description: 'the token holder (or CLI name) who decided' })),
            ...Paging({ defaultLimit: 50, maxLimit: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
            items: Type.Array(
              Type.Object({
                id: Type.Integer(),
                queue_id: Type.Integer(),
                test_id: Nullable(Type.Integer()),
                advisory_name: Type.String(),
                target_os: Type.String(),
                queue_status: Type.String(),
                decision: StringEnum(DECISIONS),
                decided_by: Type.String(),
                reason: Nullable(Type.String()),
                source: StringEnum(SOURCES),
                evidence: Loose,
                decided_at: Type.String({ format: 'date-time' }),
                snooze_until: Nullable(Type.String({ format: 'date-time' })),
              }),
            ),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await approvalHistory(
        app.db,
        {
          ...(q.decision ? { decision: q.decision } : {}),
          ...(q.source ? { source: q.source } : {}),
          ...(q.queue_id !== undefined ? { queueId: q.queue_id } : {}),
          ...(q.decided_by ? { decidedBy: q.decided_by } : {}),
        },
        { limit: q.limit, offset: q.offset },
      );
      return { total, limit: q.limit, offset: q.offset, items: items as never };
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
          params: IdParams('queue item id'),
          body: Type.Object(
            {
              reason: Type.Optional(SafeText({ maxLength: 2000 })),
              source: Type.Optional(StringEnum(['api', 'dashboard'] as const, { description: 'where the decision was taken (recorded); default api' })),
              ...(decision === 'snooze' ? { until: Type.String({ format: 'date-time', maxLength: 40, description: 'when the item waits for a decision again' }) } : {}),
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
        // No body at all is a decision without a reason (not a TypeError).
        const body = (request.body ?? {}) as DecisionBody;
        if (decision === 'snooze' && !(Date.parse(body.until ?? '') > Date.now())) throw badRequest('until', 'must be a time in the future');
        return decideOne(request.params.id, decision, body, request.actor?.name ?? 'unknown', request.log);
      },
    );
  }

  app.post(
    '/batch',
    {
      config: { auth: 'approve' },
      schema: {
        tags: ['approvals'],
        summary: 'Approve, reject or snooze several passed patches at once (a patch day): one decision, and one patch_approvals row, per item',
        description:
          'Each item is decided on its own, in the order given, exactly as POST /approvals/<id>/<decision> would: 200 with one result per item — `ok` with the approval, or the item\'s own refusal (404, 409 not waiting, 503 not recorded). One refusal does not stop the others.',
        body: Type.Object(
          {
            queue_ids: Type.Array(Id('queue item id'), { minItems: 1, maxItems: 500, uniqueItems: true }),
            decision: StringEnum(['approve', 'reject', 'snooze'] as const),
            reason: Type.Optional(SafeText({ maxLength: 2000 })),
            until: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'snooze: when the items wait for a decision again (ignored by approve and reject)' })),
            source: Type.Optional(StringEnum(['api', 'dashboard'] as const)),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            decided: Type.Integer(),
            refused: Type.Integer(),
            results: Type.Array(
              Type.Object({
                queue_id: Type.Integer(),
                ok: Type.Boolean(),
                decision: Type.Optional(Type.String()),
                status: Type.Optional(Type.String()),
                approval_id: Type.Optional(Type.Integer()),
                error: Type.Optional(Type.Object({ status_code: Type.Integer(), message: Type.String() })),
              }),
            ),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { queue_ids: ids, decision, ...rest } = request.body;
      if (decision === 'snooze' && !(Date.parse(rest.until ?? '') > Date.now())) throw badRequest('until', 'must be a time in the future');
      const results = [];
      for (const id of ids) {
        try {
          const body = decision === 'snooze' ? rest : { ...rest, until: undefined };
          results.push({ ok: true, ...(await decideOne(id, decision, body, request.actor?.name ?? 'unknown', request.log)) });
        } catch (err) {
          // the item's own refusal; anything else (a dependency down) is the whole request's error
          if (!(err instanceof ApiError)) throw err;
          results.push({ queue_id: id, ok: false, error: { status_code: err.statusCode, message: err.message } });
        }
      }
      const decided = results.filter((r) => r.ok).length;
      return { decided, refused: results.length - decided, results };
    },
  );
};
