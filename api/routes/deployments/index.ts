import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { retractedAt, retractionReason } from '../../../db/queries/retractions.js';
import { forgetHalt, haltsOf, listRollouts, productionRollbacks, recordHalt, ROLLOUT_STATUSES, rolloutCarrierOf, rolloutSystems } from '../../../db/queries/deployments.js';
import { planSubject, rolloutPlan } from '../../../db/queries/deployment-plans.js';
import { deploymentPolicy } from '../../../db/queries/orchestrator-config.js';
import { getQueueRow } from '../../../db/queries/queue.js';
import { TARGET_OSES } from '../../../domain/os.js';
import { deploymentInputOf } from '../../../temporal/deployment-input.js';
import { itemSearchAttributes, testTiming } from '../../../temporal/tests.js';
import type { deploymentRollback } from '../../../workflows/index.js';
import { deploymentStatusQuery, deployUpdate, haltSignal, verdictDecideUpdate, workflowIds, type DeploymentView } from '../../../workflows/messages.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordThenStart } from '../../services/operator-action.js';
import { updateFailure } from '../../services/workflow-refusal.js';
import { withinBound } from '../../services/bounded-wait.js';
import { WAIT_BOUND_SECONDS } from '../../limits.js';
import type { deploymentPlan } from '../../../workflows/index.js';
import { errorResponses, Id as IdField, IdParams, Paging, SafeText, WithDefault } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';
import { VerdictSchema, verdictView } from '../../schemas/verdict.js';
import { waveVerdicts } from '../../../db/queries/verdicts.js';

const Loose = Type.Object({}, { additionalProperties: true });
/** Systems a dry run's answer lists (the rest are paged by GET /api/v1/deployments/<id>/plan). */
const DRY_RUN_SYSTEMS = 500;
const Id = IdParams('queue item id');
const Count = Type.Integer({ minimum: 0 });
const RolloutItem = Type.Object({
  queue_id: Type.Integer(),
  advisory_name: Type.String(),
  target_os: Type.String(),
  severity: Type.String(),
  status: StringEnum(ROLLOUT_STATUSES),
  status_changed_at: Type.String({ format: 'date-time' }),
  targets: Nullable(Count),
  waves: Nullable(Count),
  applied: Nullable(Count),
  failed: Nullable(Count),
  in_flight: Nullable(Count),
  pending: Nullable(Count),
  skipped: Nullable(Count),
  rolled_back: Nullable(Count),
  rollback_failed: Nullable(Count),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
});
const Policy = Type.Object({
  canarySize: Type.Integer(), soakSeconds: Type.Number(), waveSize: Type.Integer(), failureBudgetCount: Type.Integer(), failureBudgetPercent: Type.Number(),
});
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const PlanWave = Type.Object({
  wave: Type.Integer({ description: '0 = the canary (one system per production group, or deploy.canary_fraction of each)' }),
  systems: Count,
  batches: Type.Integer({ description: 'UYUNI actions: one system.scheduleApplyErrata per batch (deploy.batch_size systems at most)' }),
  groups: Type.Record(Type.String(), Count, { description: 'systems per production group in this wave' }),
});
const PlanBatch = Type.Object({
  wave: Type.Integer(),
  batch: Type.Integer(),
  systems: Count,
  earliest: Nullable(Type.String({
    format: 'date-time',
    description: 'when the batch may start (its UYUNI action\'s earliest): inside every member\'s next maintenance window — its start, or when the batches were cut if they may go at once; null: never (no window: its systems are skipped)',
  })),
});
const NextWindow = Nullable(
  Type.Object({
    schedule: Type.String({ description: 'the UYUNI maintenance schedule' }),
    start: Nullable(Type.String({ format: 'date-time', description: 'the window in progress or the next one, [start, end); null: the schedule has none (reason)' })),
    end: Nullable(Type.String({ format: 'date-time' })),
    reason: Type.Optional(Type.String()),
  }, { description: 'the system\'s next maintenance window when its batch was cut; null: no schedule (any time)' }),
);
const PlanSystem = Type.Object({
  system_id: Type.Integer(), system_name: Type.String(), group_name: Nullable(Type.String()), wave: Type.Integer(), batch: Type.Integer(),
  next_window: NextWindow,
  earliest: Nullable(Type.String({ format: 'date-time', description: 'its batch\'s earliest; null: never (no window), or planned before batches by window' })),
});
const PlanSummary = Type.Object({
  targets: Count,
  waves: Type.Array(PlanWave),
  batches: Type.Optional(Type.Array(PlanBatch, { description: 'every batch in order, with its earliest (absent in plans made before batches by window)' })),
});

export const deploymentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['deployments'],
        summary: 'Roll an approved patch — or a set of approved patches of one OS (a patch day) — out to production (canary, soak, waves, failure budget); 409 unless approved',
        description:
          'queue_id: one patch. queue_ids: several approved errata of one OS in one rollout (its workflow is deploy-<first id>): each production system gets ONE UYUNI action holding the errata of the set it needs, and the rollout\'s rollback restores all of them. Each item keeps its own record (one deployments row and one operator action each).',
        body: Type.Object(
          {
            queue_id: Type.Optional(IdField('queue item id')),
            queue_ids: Type.Optional(Type.Array(IdField('queue item id'), { minItems: 1, maxItems: 100, uniqueItems: true, description: 'a set rollout: approved items of one OS; the first carries the others' })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        querystring: Type.Object(
          { dry_run: Type.Optional(Type.Boolean({ description: 'plan only: compute and store the targets, canary, waves and batches (GET /api/v1/deployments/<id>/plan), start nothing; repeatable (the stored plan is replaced)' })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            queue_id: Type.Integer(), dry_run: Type.Literal(true), workflow_id: Type.String(), policy: Loose, plan: PlanSummary,
            systems: Type.Array(PlanSystem, { description: `the first ${DRY_RUN_SYSTEMS} systems in plan order (wave, batch, id) with their next maintenance window; the rest: plan_url` }),
            plan_url: Type.String(),
          }),
          202: Type.Object({
            queue_id: Type.Integer(), queue_ids: Type.Optional(Type.Array(Type.Integer())), workflow_id: Type.String(), policy: Loose,
            dry_run: Type.Optional(Type.Literal(true)), plan_url: Type.Optional(Type.String()),
          }),
          ...errorResponses(400, 401, 403, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if ((body.queue_id === undefined) === (body.queue_ids === undefined)) throw badRequest('queue_id', 'give exactly one of queue_id (one patch) or queue_ids (a set)');
      if (request.query.dry_run) {
        if (body.queue_id === undefined) throw badRequest('queue_ids', 'a dry run plans one patch: give queue_id');
        const subject = await planSubject(app.db, body.queue_id);
        if (!subject) throw notFound(`queue item ${body.queue_id}`);
        if (subject.uyuni_errata_id === null) throw conflict(`queue item ${body.queue_id}: ${subject.advisory_name} has no UYUNI errata id in the cache (sync first)`, { queue_id: body.queue_id });
        const policy = await deploymentPolicy(app.db);
        const workflowId = workflowIds.deploymentPlan(body.queue_id);
        // The API never calls UYUNI itself: the plan is a short workflow; concurrent dry runs share one.
        const handle = await app.temporal.client.workflow.start<typeof deploymentPlan>('deploymentPlan', {
          taskQueue: app.config.temporal.taskQueue, workflowId, workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ queueId: subject.id, advisoryName: subject.advisory_name, errataId: subject.uyuni_errata_id, targetOs: subject.target_os, requiresReboot: subject.requires_reboot ?? false, policy }],
        });
        const r = await withinBound(app.temporal.client, WAIT_BOUND_SECONDS * 1000, () => handle.result());
        if (!r.done) return reply.status(202).send({ queue_id: subject.id, workflow_id: workflowId, policy, dry_run: true, plan_url: `/api/v1/deployments/${subject.id}/plan` });
        const stored = await rolloutPlan(app.db, subject.id, workflowIds.deployment(subject.id), { limit: DRY_RUN_SYSTEMS, offset: 0 });
        return reply.status(200).send({
          queue_id: subject.id, dry_run: true, workflow_id: workflowId, policy, plan: r.value, systems: stored?.systems ?? [], plan_url: `/api/v1/deployments/${subject.id}/plan`,
        });
      }
      const ids = body.queue_ids ?? [body.queue_id as number];
      const items = [];
      for (const id of ids) {
        const item = await getQueueRow(app.db, id);
        if (!item) throw notFound(`queue item ${id}`);
        if (item.status !== 'approved') throw conflict(`queue item ${id} is ${item.status}; only an approved patch can be deployed`, { status: item.status, queue_id: id });
        const retracted = await retractedAt(app.db, item.advisory_name);
        if (retracted) {
          throw conflict(`queue item ${id} cannot be deployed: ${retractionReason(item.advisory_name)}`, { status: item.status, queue_id: id, reason: 'retracted', retracted_at: retracted.toISOString() });
        }
        items.push(item);
      }
      const oses = [...new Set(items.map((i) => i.target_os))];
      if (oses.length > 1) throw badRequest('queue_ids', `a set rollout is of one OS; these are ${oses.join(', ')}`);
      const [carrier, ...members] = ids as [number, ...number[]];
      const policy = await deploymentPolicy(app.db);
      const by = request.actor?.name ?? 'api';
      // One Update to the carrier: its workflow records the whole set's requests in one transaction (every
      // item still approved, or nothing is recorded and nothing starts), tells each member it is carried, then
      // starts the one rollout.
      try {
        const r = await app.temporal.client.workflow
          .getHandle(workflowIds.patchTest(carrier))
          .executeUpdate(deployUpdate, { args: [{ by, policy, requestId: randomUUID(), source: 'api', ...(members.length ? { members } : {}) }] });
        request.log.info({ queueId: carrier, members, by, policy }, 'deployment started');
        return reply.status(202).send({ queue_id: carrier, queue_ids: ids, workflow_id: r.workflowId, policy });
      } catch (err) {
        throw updateFailure(err, `queue item ${carrier} cannot be deployed now`);
      }
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['deployments'],
        summary: 'Approved patches and their production rollouts, most recently changed first, with per-state system counts',
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Array(StringEnum(ROLLOUT_STATUSES), { maxItems: ROLLOUT_STATUSES.length, description: 'queue status, repeatable; default all of them' })),
            target_os: Type.Optional(StringEnum(TARGET_OSES)),
            ...Paging({ defaultLimit: 50, maxLimit: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), items: Type.Array(RolloutItem) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await listRollouts(app.db, { ...(q.status ? { status: q.status } : {}), ...(q.target_os ? { targetOs: q.target_os } : {}) }, { limit: q.limit, offset: q.offset });
      return { total, limit: q.limit, offset: q.offset, items };
    },
  );

  app.get(
    '/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['deployments'],
        summary: 'A rollout: per-system status, waves, budget used (live while it runs), its policy and soak end, halts and the rollback per system',
        description:
          'Everything the dashboard\'s deployment page shows in one request. `policy` is the one the rollout started with; `soak_ends_at` is the end of the soak after the canary wave (null before the canary finished, or without a soak).',
        params: Id,
        response: {
          200: Type.Object({
            queue_id: Type.Integer(),
            queue_status: Type.String(),
            advisory_name: Type.String(),
            target_os: Type.String(),
            policy: Nullable(Policy),
            soak_ends_at: Nullable(Type.String({ format: 'date-time' })),
            systems: Type.Array(Loose),
            rollbacks: Type.Array(Loose),
            halts: Type.Array(Loose),
            live: Type.Union([Loose, Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const id = request.params.id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      const workflowId = workflowIds.deployment(id);
      const [rows, rollbacks, halts] = await Promise.all([rolloutSystems(app.db, id), productionRollbacks(app.db, id), haltsOf(app.db, id)]);
      const [live, input] = await Promise.all([
        app.temporal.client.workflow.getHandle(workflowId).query(deploymentStatusQuery).catch((): DeploymentView | null => null),
        rows.length ? deploymentInputOf(app.temporal.client, workflowId) : Promise.resolve(null),
      ]);
      if (!rows.length && !live) throw notFound(`deployment of queue item ${id}`);
      // The soak starts when the canary wave (wave 0) has finished, and only when waves follow it.
      const canary = rows.filter((r) => r.wave === 0);
      const canaryDone = canary.length > 0 && canary.every((r) => r.completed_at) ? Math.max(...canary.map((r) => r.completed_at!.getTime())) : null;
      const hasLaterWaves = rows.some((r) => r.wave > 0);
      const soakEnds = input && canaryDone !== null && hasLaterWaves && input.policy.soakSeconds > 0 ? new Date(canaryDone + input.policy.soakSeconds * 1000) : null;
      return {
        queue_id: id,
        queue_status: item.status,
        advisory_name: item.advisory_name,
        target_os: item.target_os,
        policy: input?.policy ?? null,
        soak_ends_at: iso(soakEnds),
        // The whole inventory stays in PostgreSQL (hundreds of packages a system); the view says what it holds.
        systems: rows.map(({ inventory_before, ...r }) => ({
          ...r,
          restore_point: inventory_before ? { packages: Object.keys(inventory_before).length, kernel: r.kernel_before } : null,
          started_at: iso(r.started_at), completed_at: iso(r.completed_at), created_at: iso(r.created_at), updated_at: iso(r.updated_at),
        })),
        rollbacks: rollbacks.map((r) => ({ ...r, started_at: iso(r.started_at), completed_at: iso(r.completed_at) })),
        halts: halts.map((h) => ({ ...h, requested_at: iso(h.requested_at) })),
        live: live as unknown as Record<string, unknown> | null,
      };
    },
  );

  app.get(
    '/:id/plan',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['deployments'],
        summary: 'A rollout\'s plan: canary, waves, batches (UYUNI actions) and systems per production group — of the started rollout, else of the last dry run',
        description: 'source: rollout (the started rollout\'s own rows) or dry_run (POST /api/v1/deployments?dry_run=true). Batches follow UYUNI maintenance windows: each batch\'s earliest is inside every member\'s next window (a wave cuts its batches again from the windows when it starts; a system UYUNI refuses outside its window moves to a new batch at its next one). systems are paged in plan order (wave, batch, id), each with its next_window.',
        params: Id,
        querystring: Type.Object({ ...Paging({ defaultLimit: 500, maxLimit: 10_000 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            queue_id: Type.Integer(),
            source: StringEnum(['rollout', 'dry_run'] as const),
            planned_at: Type.String({ format: 'date-time' }),
            policy: Nullable(Loose),
            targets: Count,
            waves: Type.Array(PlanWave),
            batches: Type.Array(PlanBatch),
            limit: Type.Integer(),
            offset: Type.Integer(),
            systems: Type.Array(PlanSystem),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const id = request.params.id;
      if (!(await getQueueRow(app.db, id))) throw notFound(`queue item ${id}`);
      const plan = await rolloutPlan(app.db, id, workflowIds.deployment(id), { limit: request.query.limit, offset: request.query.offset });
      if (!plan) throw notFound(`a plan for queue item ${id} (no rollout and no dry run)`);
      return { queue_id: id, ...plan, planned_at: plan.planned_at.toISOString(), limit: request.query.limit, offset: request.query.offset };
    },
  );

  app.get(
    '/:id/verdicts',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['deployments'],
        summary: 'A rollout\'s statistical verdicts, one per wave and group: the wave\'s patched systems against still-unpatched peers over the same window',
        description:
          'Mann-Whitney U per metric (CPU %, memory %), High/Low/Pass/NODATA, the score and the verdict (pass → the rollout continues, marginal → it pauses for a person, fail → it halts; nodata per verdict.nodata_policy). `samples=true` adds every sample judged.',
        params: Id,
        querystring: Type.Object({ samples: WithDefault(Type.Boolean({ default: false, description: 'include every sample judged (can be thousands per metric)' })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ queue_id: Type.Integer(), verdicts: Type.Array(VerdictSchema) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const id = request.params.id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      const samples = request.query.samples === true;
      const verdicts = await waveVerdicts(app.db, id, { samples });
      return { queue_id: id, verdicts: verdicts.map((v) => verdictView(v, samples)) };
    },
  );

  app.post(
    '/:id/verdicts/:verdictId/decision',
    {
      config: { auth: 'approve' },
      schema: {
        tags: ['deployments'],
        summary: 'Decide on a wave verdict the rollout is paused for (marginal, or nodata under verdict.nodata_policy marginal): continue or halt',
        description:
          'Sent to the running rollout as its verdictDecide Update, which records the decision (who, why, source) on the verdict in PostgreSQL before it takes effect. 409 when that verdict does not wait for a decision (another one does, it is decided, or the rollout is not running); 503 when the decision could not be recorded (nothing was decided).',
        params: Type.Object({ id: IdField('queue item id'), verdictId: IdField('the verdict id (GET /api/v1/deployments/<id>/verdicts)') }),
        body: Type.Object(
          {
            decision: StringEnum(['continue', 'halt'] as const, { description: 'continue: the rollout goes on with the next group or wave; halt: it stops, the rest untouched' }),
            reason: Type.Optional(SafeText({ maxLength: 500 })),
            source: Type.Optional(StringEnum(['api', 'dashboard'] as const, { description: 'where the decision was taken; default api' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ queue_id: Type.Integer(), verdict_id: Type.Integer(), decision: Type.String(), by: Type.String() }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { id, verdictId } = request.params;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      const by = request.actor?.name ?? 'api';
      try {
        const r = await app.temporal.client.workflow.getHandle(workflowIds.deployment(id)).executeUpdate(verdictDecideUpdate, {
          args: [{ verdictId, decision: request.body.decision, by, reason: request.body.reason ?? null, requestId: randomUUID(), source: request.body.source ?? 'api' }],
        });
        request.log.warn({ queueId: id, verdictId, by, decision: r.decision }, 'wave verdict decided');
        return { queue_id: id, verdict_id: r.verdictId, decision: r.decision, by: r.by };
      } catch (err) {
        throw updateFailure(err, `the ${request.body.decision} decision on verdict ${verdictId} of queue item ${id}`);
      }
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
        body: Type.Object({ reason: Type.Optional(SafeText({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ queue_id: Type.Integer(), workflow_id: Type.String() }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const asked = request.params.id;
      const askedItem = await getQueueRow(app.db, asked);
      if (!askedItem) throw notFound(`queue item ${asked}`);
      // A member of a set rollout is rolled back with its whole set: the rollout's rollback restores all of them.
      const id = (await rolloutCarrierOf(app.db, asked)) ?? asked;
      const item = id === asked ? askedItem : await getQueueRow(app.db, id);
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

  app.post(
    '/:id/halt',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['deployments'],
        summary: 'Stop a running rollout from starting further waves (the wave in flight finishes); recorded before the halt signal is sent',
        description: 'A halted rollout leaves the systems not reached untouched (skipped). 409 unless the rollout is running.',
        params: Id,
        body: Type.Object(
          {
            reason: SafeText({ minLength: 1, maxLength: 500, description: 'why (recorded and shown as the halt reason)' }),
            source: Type.Optional(StringEnum(['api', 'dashboard'] as const, { description: 'where the halt was asked for; default api' })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ queue_id: Type.Integer(), workflow_id: Type.String() }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const item = await getQueueRow(app.db, id);
      if (!item) throw notFound(`queue item ${id}`);
      if (item.status !== 'promoting') throw conflict(`queue item ${id} is ${item.status}: only a running rollout (promoting) can be halted`, { status: item.status });
      const by = request.actor?.name ?? 'api';
      const requestId = randomUUID();
      await recordHalt(app.db, { queueId: id, by, reason: request.body.reason, source: request.body.source ?? 'api', requestId });
      const workflowId = workflowIds.deployment(id);
      try {
        await app.temporal.client.workflow.getHandle(workflowId).signal(haltSignal, { by, reason: request.body.reason });
      } catch (err) {
        // Nothing was halted: the record of the request must not say otherwise.
        await forgetHalt(app.db, requestId);
        throw conflict(`the rollout of queue item ${id} is not running: ${(err as Error).message}`);
      }
      request.log.warn({ queueId: id, by }, 'production rollout halt requested');
      return reply.status(202).send({ queue_id: id, workflow_id: workflowId });
    },
  );
};
