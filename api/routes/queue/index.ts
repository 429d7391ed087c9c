import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { workflowIds } from '../../../workflows/messages.js';
import { runsOfItem } from '../../../db/queries/bundles.js';
import { getErratum } from '../../../db/queries/errata.js';
import {
  approvalsOf,
  cancelQueuedItem,
  findActiveItems,
  getQueueRow,
  queueItemsByIds,
  queueStats,
  riskProfileOf,
  testsOf,
  updateQueueItem,
} from '../../../db/queries/queue.js';
import { queuePage } from '../../../db/queries/queue-page.js';
import { QueueFailure, queueFailureOf, queueingResult, startQueueing } from '../../../temporal/queue.js';
import { WAIT_BOUND_SECONDS } from '../../limits.js';
import { withinBound } from '../../services/bounded-wait.js';
import { ApiError, badRequest, conflict, notFound, unavailable } from '../../errors.js';
import { errorResponses, IdParams, SafeText, WaitQuery } from '../../schemas/common.js';
import { QueueItem, QueueListQuery, QueuePatchBody, QueueRequestBody, QueueRequestRunning, RiskProfile } from './schemas.js';

/** What the API answers for a failed queuePatches run. */
function queueError(err: QueueFailure): ApiError {
  if (err.kind === 'already-queued') return conflict(err.message, { existing: err.details ?? [] });
  if (err.kind === 'uyuni-unavailable') return unavailable(`${err.message}; nothing was queued`);
  if (err.kind === 'unknown-advisory') return notFound(`advisory in UYUNI: ${err.message}`);
  return new ApiError(502, `queueing failed: ${err.message}; nothing was queued`);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const Id = IdParams('queue item id');
const Loose = Type.Object({}, { additionalProperties: true });

export const queueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const itemsById = (ids: number[]) => queueItemsByIds(app.db, ids);
  const serialize = <T extends { status_changed_at: Date; created_at: Date; updated_at: Date }>(r: T) => ({
    ...r,
    status_changed_at: r.status_changed_at.toISOString(),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  });

  app.post(
    '/',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['queue'],
        summary: 'Queue advisories for testing: one row per advisory × OS where it is relevant, scored',
        description: `Fetches the packages from UYUNI (errata.listPackages, once per advisory) through Temporal, computes the Success Score and risk profile, and inserts the rows in one transaction. Waits at most wait_seconds (default and most ${WAIT_BOUND_SECONDS} s): then 202 with the request id and where to poll (GET /api/v1/queue/requests/<request_id>). 503 when UYUNI is unavailable (nothing is queued).`,
        querystring: WaitQuery,
        body: QueueRequestBody,
        response: {
          201: Type.Object({ items: Type.Array(QueueItem) }),
          202: QueueRequestRunning,
          ...errorResponses(404, 409, 502),
        },
      },
    },
    async (request, reply) => {
      const { advisories, target_os: targetOs, priority_override: priority, notes } = request.body;
      const errata = await Promise.all(advisories.map((name) => getErratum(app.db, name)));
      const missing = advisories.filter((_, i) => !errata[i]);
      if (missing.length) throw notFound(`advisory ${missing.map((m) => `"${m}"`).join(', ')} (not in the errata cache)`);

      const items: { advisoryName: string; targetOs: string }[] = [];
      for (const e of errata) {
        if (!e) continue;
        const relevantOses = e.test_system_ids.length ? e.target_os : [];
        if (targetOs && !relevantOses.includes(targetOs)) {
          throw badRequest('target_os', `${e.advisory_name} is not relevant to any ${targetOs} test system (relevant to: ${relevantOses.join(', ') || 'none'})`);
        }
        if (!relevantOses.length) throw badRequest('advisories', `${e.advisory_name} is not relevant to any test system now`);
        for (const os of targetOs ? [targetOs] : relevantOses) items.push({ advisoryName: e.advisory_name, targetOs: os });
      }

      const existing = await findActiveItems(app.db, items);
      if (existing.length) {
        throw conflict(existing.map((x) => `${x.advisory_name} is already queued for ${x.target_os} as item ${x.id} (${x.status})`).join('; '), {
          existing: existing.map((x) => ({ id: x.id, advisory_name: x.advisory_name, target_os: x.target_os, status: x.status })),
        });
      }

      const { requestId, handle } = await startQueueing(app.temporal.client, app.config, {
        requestedBy: request.actor?.name ?? 'unknown',
        items,
        priorityOverride: priority ?? null,
        notes: notes ?? null,
      });
      const outcome = await withinBound(app.temporal.client, request.query.wait_seconds * 1000, () => queueingResult(handle)).catch((err: unknown) => {
        throw err instanceof QueueFailure ? queueError(err) : err;
      });
      if (!outcome.done) {
        const poll = `/api/v1/queue/requests/${requestId}`;
        request.log.info({ requestId, by: request.actor?.name }, 'queueing still running; answered 202');
        return reply.status(202).header('location', poll).send({ request_id: requestId, workflow_id: handle.workflowId, status: 'running' as const, poll });
      }
      const ids = outcome.value;
      request.log.info({ ids, by: request.actor?.name }, 'advisories queued');
      return reply.status(201).send({ items: (await itemsById(ids)).map(serialize) });
    },
  );

  app.get(
    '/requests/:request_id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['queue'],
        summary: 'A queueing request answered 202: still running, its items once done, or why it failed (the status its POST would have answered)',
        params: Type.Object({ request_id: SafeText({ format: 'uuid', maxLength: 36, description: 'request_id from the 202' }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ request_id: Type.String(), status: Type.Union([Type.Literal('running'), Type.Literal('completed')]), items: Type.Array(QueueItem) }),
          ...errorResponses(404, 409, 502),
        },
      },
    },
    async (request) => {
      const { request_id: requestId } = request.params;
      const handle = app.temporal.client.workflow.getHandle(workflowIds.queue(requestId));
      const status = await handle.describe().then(
        (d) => d.status.name,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) throw notFound(`queueing request ${requestId}`);
          throw err;
        },
      );
      if (status === 'RUNNING') return { request_id: requestId, status: 'running' as const, items: [] };
      try {
        const ids = await handle.result();
        return { request_id: requestId, status: 'completed' as const, items: (await itemsById(ids)).map(serialize) };
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw queueError(queueFailureOf(err));
        throw err;
      }
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['queue'],
        summary: 'The queue in work order: priority_override, then severity, then Success Score',
        querystring: QueueListQuery,
        response: {
          200: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), items: Type.Array(QueueItem) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await queuePage(
        app.db,
        { ...(q.status ? { status: q.status } : {}), ...(q.target_os ? { targetOs: q.target_os } : {}), ...(q.severity ? { severity: q.severity } : {}) },
        { limit: q.limit, offset: q.offset },
      );
      return { total, limit: q.limit, offset: q.offset, items };
    },
  );

  app.get(
    '/stats',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['queue'],
        summary: 'Queue totals by status, OS and severity, and the average Success Score (cancelled items excluded)',
        response: {
          200: Type.Object({
            total: Type.Integer(),
            by_status: Type.Record(Type.String(), Type.Integer()),
            by_os: Type.Record(Type.String(), Type.Integer()),
            by_severity: Type.Record(Type.String(), Type.Integer()),
            avg_score: Type.Union([Type.Number(), Type.Null()]),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => queueStats(app.db),
  );

  app.get(
    '/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['queue'],
        summary: 'One queue item: the erratum, the risk profile (why it scores what it does), tests and approvals so far',
        params: Id,
        response: {
          200: Type.Object({
            item: QueueItem,
            errata: Loose,
            risk_profile: Type.Union([RiskProfile, Type.Null()]),
            tests: Type.Array(Loose),
            bundle_runs: Type.Array(Loose, { description: 'every bundle run the item was part of (the bundle, halves, retests, the run that proved it alone); GET /api/v1/bundles/<bundle_id>' }),
            approvals: Type.Array(Loose),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const row = await getQueueRow(app.db, request.params.id);
      if (!row) throw notFound(`queue item ${request.params.id}`);
      const [item] = await itemsById([row.id]);
      const [errata, risk, tests, approvals, runs] = await Promise.all([
        getErratum(app.db, row.advisory_name),
        riskProfileOf(app.db, row.id),
        testsOf(app.db, row.id),
        approvalsOf(app.db, row.id),
        runsOfItem(app.db, row.id),
      ]);
      return {
        item: serialize(item!),
        errata: errata ? { ...errata, first_seen_at: iso(errata.first_seen_at), last_synced_at: iso(errata.last_synced_at), created_at: iso(errata.created_at), updated_at: iso(errata.updated_at), packages_fetched_at: iso(errata.packages_fetched_at) } : {},
        risk_profile: risk ? { ...(risk as unknown as Record<string, unknown>), computed_at: risk.computed_at.toISOString() } as never : null,
        tests: tests.map((t) => ({ ...t, started_at: iso(t.started_at), completed_at: iso(t.completed_at), created_at: iso(t.created_at), updated_at: iso(t.updated_at) })),
        approvals: approvals.map((a) => ({ ...a, decided_at: iso(a.decided_at), snooze_until: iso(a.snooze_until) })),
        bundle_runs: runs.map((r) => ({
          run_id: r.id, bundle_id: r.root_id ?? r.id, kind: r.kind, status: r.status, test_id: r.test_id, failure_reason: r.failure_reason, workflow_id: r.workflow_id, created_at: iso(r.created_at),
        })),
      };
    },
  );

  app.patch(
    '/:id',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['queue'],
        summary: 'Change priority_override and/or notes (nothing else); null clears',
        params: Id,
        body: QueuePatchBody,
        response: { 200: QueueItem, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const patch: { priority_override?: number | null; notes?: string | null } = {};
      if (request.body.priority_override !== undefined) patch.priority_override = request.body.priority_override;
      if (request.body.notes !== undefined) patch.notes = request.body.notes;
      const row = await updateQueueItem(app.db, request.params.id, patch);
      if (!row) throw notFound(`queue item ${request.params.id}`);
      request.log.info({ id: row.id, ...patch, by: request.actor?.name }, 'queue item changed');
      const [item] = await itemsById([row.id]);
      return serialize(item!);
    },
  );

  app.delete(
    '/:id',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['queue'],
        summary: 'Withdraw a queued item (kept as cancelled); 409 once its test has started',
        params: Id,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const done = await cancelQueuedItem(app.db, request.params.id);
      if (!done) {
        const row = await getQueueRow(app.db, request.params.id);
        if (!row) throw notFound(`queue item ${request.params.id}`);
        throw conflict(`queue item ${row.id} is ${row.status}; only queued items can be deleted`, { status: row.status });
      }
      request.log.info({ id: done.id, by: request.actor?.name }, 'queue item cancelled');
      return reply.status(204).send(null);
    },
  );
};
