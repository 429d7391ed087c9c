import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { approvalPolicy } from '../../../db/queries/orchestrator-config.js';
import { getQueueRow } from '../../../db/queries/queue.js';
import { listTests } from '../../../db/queries/test-list.js';
import { getTest, phasesOf } from '../../../db/queries/tests.js';
import { testVerdict } from '../../../db/queries/verdicts.js';
import { TARGET_OSES } from '../../../domain/os.js';
import { testTimingInUse } from '../../../activities/patch-test/settings.js';
import { claimAndStartTest, itemSearchAttributes, testTiming } from '../../../temporal/tests.js';
import type { testRollback } from '../../../workflows/index.js';
import { testStatusQuery, workflowIds, type TestStatusView } from '../../../workflows/messages.js';
import { conflict, notFound } from '../../errors.js';
import { recordThenStart } from '../../services/operator-action.js';
import { errorResponses, Id as IdField, IdParams, Paging, SafeText } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';
import { VerdictSchema, verdictView } from '../../schemas/verdict.js';

const Id = IdParams('test id');
const Loose = Type.Object({}, { additionalProperties: true });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const TEST_STATUSES = ['running', 'passed', 'failed', 'rolled_back', 'inconclusive', 'cancelled'] as const;
const TestListItem = Type.Object({
  id: Type.Integer(),
  queue_id: Type.Integer(),
  advisory_name: Type.String(),
  target_os: Type.String(),
  severity: Type.String(),
  queue_status: Type.String(),
  status: StringEnum(TEST_STATUSES),
  workflow_id: Type.String(),
  test_system_id: Nullable(Type.Integer()),
  test_system_name: Nullable(Type.String()),
  started_at: Type.String({ format: 'date-time' }),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
  cpu_delta: Nullable(Type.Number()),
  memory_delta: Nullable(Type.Number()),
  requires_reboot: Nullable(Type.Boolean()),
  rollback_type: Nullable(StringEnum(['package', 'snapshot'] as const)),
  rollback_verified: Nullable(Type.Boolean()),
  failure_phase: Nullable(Type.String()),
  failure_reason: Nullable(Type.String()),
  current_phase: Nullable(Type.String({ description: 'the phase running now, else the last one that ran' })),
  current_phase_status: Nullable(Type.String()),
});

export const testRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'Tests, newest first, with their advisory and current phase; filtered and paged',
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Array(StringEnum(TEST_STATUSES), { maxItems: 5, description: 'repeatable' })),
            queue_id: Type.Optional(IdField('tests of this queue item')),
            test_system_id: Type.Optional(IdField('tests on this test system (UYUNI system id)')),
            target_os: Type.Optional(StringEnum(TARGET_OSES)),
            advisory: Type.Optional(SafeText({ minLength: 1, maxLength: 200, description: 'part of the advisory name' })),
            ...Paging({ defaultLimit: 50, maxLimit: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), items: Type.Array(TestListItem) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await listTests(
        app.db,
        {
          ...(q.status ? { status: q.status } : {}),
          ...(q.queue_id !== undefined ? { queueId: q.queue_id } : {}),
          ...(q.test_system_id !== undefined ? { testSystemId: q.test_system_id } : {}),
          ...(q.target_os ? { targetOs: q.target_os } : {}),
          ...(q.advisory ? { advisory: q.advisory } : {}),
        },
        { limit: q.limit, offset: q.offset },
      );
      return { total, limit: q.limit, offset: q.offset, items };
    },
  );

  app.post(
    '/start',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['tests'],
        summary: 'Start patchTest for a queue item, or for the highest-priority queued item a free test system can take; concurrent starts get distinct items and systems; 409 says why none could start',
        body: Type.Object({ queue_id: Type.Optional(IdField('queue item id; omit for the next item a free test system can take')) }, { additionalProperties: false }),
        response: {
          202: Type.Object({ queue_id: Type.Integer(), test_system_id: Type.Integer({ description: 'the test system leased to it' }), workflow_id: Type.String(), run_id: Type.String() }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const queueId = request.body.queue_id;
      if (queueId !== undefined && !(await getQueueRow(app.db, queueId))) throw notFound(`queue item ${queueId}`);
      const [approval, timing] = await Promise.all([approvalPolicy(app.db, app.config.approval), testTimingInUse(app.db, app.config)]);
      const r = await claimAndStartTest(app.db, app.temporal.client, app.config, {
        ...(queueId !== undefined ? { queueId } : {}),
        requestedBy: request.actor?.name ?? 'api',
        approval,
        timing,
      });
      if (!r.started) throw conflict(r.reason);
      request.log.info({ queueId: r.claim.queueId, systemId: r.claim.systemId, workflowId: r.workflowId, by: request.actor?.name }, 'test started');
      return reply.status(202).send({ queue_id: r.claim.queueId, test_system_id: r.claim.systemId, workflow_id: r.workflowId, run_id: r.runId });
    },
  );

  app.get(
    '/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'One test: verdict, metrics before/after, snapshot, reboot time, rollback; its phases, its queue item and rollbacks; live status while it runs',
        description: 'Everything the dashboard\'s Test page shows, in one request (it polls this while the test runs).',
        params: Id,
        response: {
          200: Type.Object({
            test: Loose,
            item: Type.Union([Type.Object({ id: Type.Integer(), advisory_name: Type.String(), target_os: Type.String(), status: Type.String(), synopsis: Nullable(Type.String()), severity: Type.String() }), Type.Null()]),
            phases: Type.Array(Loose),
            rollbacks: Type.Array(Loose),
            verdict: Nullable(Type.Object(VerdictSchema.properties, { description: 'the statistical verdict of the validate phase (baseline window vs after window) with its samples; null before validate ran' })),
            live: Type.Union([Loose, Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const test = await getTest(app.db, request.params.id);
      if (!test) throw notFound(`test ${request.params.id}`);
      let live: TestStatusView | null = null;
      if (test.status === 'running') {
        live = await app.temporal.client.workflow.getHandle(test.workflow_id, test.run_id).query(testStatusQuery).catch(() => null);
      }
      const [item, phases, rollbacks, verdict] = await Promise.all([
        app.db
          .selectFrom('patch_test_queue as q')
          .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
          .select(['q.id', 'q.advisory_name', 'q.target_os', 'q.status', 'e.synopsis', 'e.severity'])
          .where('q.id', '=', test.queue_id)
          .executeTakeFirst(),
        phasesOf(app.db, test.id),
        app.db.selectFrom('patch_rollbacks').selectAll().where('test_id', '=', test.id).where('scope', '=', 'test').orderBy('started_at').execute(),
        testVerdict(app.db, test.id),
      ]);
      return {
        test: { ...test, started_at: iso(test.started_at), completed_at: iso(test.completed_at), created_at: iso(test.created_at), updated_at: iso(test.updated_at) },
        item: item ?? null,
        phases: phases.map((p) => ({ ...p, started_at: iso(p.started_at), completed_at: iso(p.completed_at) })),
        rollbacks: rollbacks.map((r) => ({ ...r, started_at: iso(r.started_at), completed_at: iso(r.completed_at) })),
        verdict: verdict ? verdictView(verdict) : null,
        live: live as unknown as Record<string, unknown> | null,
      };
    },
  );

  app.get(
    '/:id/phases',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'The phases of a test (lease, snapshot, patch, reboot, validate, services, rollback, verify_rollback)',
        params: Id,
        response: { 200: Type.Object({ test_id: Type.Integer(), phases: Type.Array(Loose) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const test = await getTest(app.db, request.params.id);
      if (!test) throw notFound(`test ${request.params.id}`);
      const phases = await phasesOf(app.db, test.id);
      return { test_id: test.id, phases: phases.map((p) => ({ ...p, started_at: iso(p.started_at), completed_at: iso(p.completed_at) })) };
    },
  );

  app.post(
    '/:id/rollback',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['tests'],
        summary: 'Force a rollback of a test that passed (its patch is still on the test system); 409 when there is nothing to roll back',
        params: Id,
        body: Type.Object({ reason: Type.Optional(SafeText({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ test_id: Type.Integer(), workflow_id: Type.String() }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const test = await getTest(app.db, request.params.id);
      if (!test) throw notFound(`test ${request.params.id}`);
      if (test.status !== 'passed') {
        throw conflict(`test ${test.id} is ${test.status}: only a passed test leaves a patch to roll back`, { status: test.status });
      }
      const queue = await getQueueRow(app.db, test.queue_id);
      // Waiting for a decision, or rejected / expired and not yet undone on its test system (e.g. it was quarantined).
      const undoable = !!queue && (['passed', 'pending_approval', 'snoozed'].includes(queue.status) || (['rejected', 'expired'].includes(queue.status) && test.rollback_verified !== true));
      if (!undoable) {
        throw conflict(`queue item ${test.queue_id} is ${queue?.status ?? 'gone'}${test.rollback_verified ? ' and its patch was already undone on the test system' : ': the patch has moved on past its test'}`);
      }
      const workflowId = workflowIds.testRollback(test.id);
      const reason = request.body?.reason ?? 'forced rollback';
      const handle = await recordThenStart(app, request, { action: 'rollback_test', queueId: test.queue_id, workflowId, reason, details: { test_id: test.id } }, () =>
        app.temporal.client.workflow.start<typeof testRollback>('testRollback', {
          taskQueue: app.config.temporal.taskQueue,
          workflowId,
          args: [{ testId: test.id, queueId: test.queue_id, requestedBy: request.actor?.name ?? 'api', reason, timing: testTiming(app.config) }],
          typedSearchAttributes: itemSearchAttributes(queue as NonNullable<typeof queue>, 'rolling_back'),
        }),
      );
      request.log.info({ testId: test.id, by: request.actor?.name }, 'forced rollback started');
      return reply.status(202).send({ test_id: test.id, workflow_id: handle.workflowId });
    },
  );
};
