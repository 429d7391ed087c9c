import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { bundleView, listBundles, type BundleNodeView } from '../../../db/queries/bundles.js';
import { TARGET_OSES } from '../../../domain/os.js';
import { notFound } from '../../errors.js';
import { errorResponses, IdParams, Paging } from '../../schemas/common.js';
import { Nullable, StringEnum } from '../../schemas/types.js';

// Bundles: several errata tested in one run, and the bisection tree of a bundle that failed (issue 11).

const RUN_STATUSES = ['pending', 'running', 'passed', 'failed', 'inconclusive'] as const;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

// The tree's children have this same shape; they are typed Unknown because a self-referencing schema would need
// a shared $id, and a schema added in this plugin's context would replace the API's validators with Fastify's
// defaults (which drop unknown query parameters instead of refusing them).
const RunNode = Type.Object({
  id: Type.Integer({ description: 'the run (test_bundles id)' }),
  kind: StringEnum(['bundle', 'half', 'rest', 'retest', 'probe'] as const),
  workflow_id: Type.String(),
  status: StringEnum(RUN_STATUSES),
  cause: Nullable(Type.String({ description: 'what a failure is blamed on: patch, test_system, unknown' })),
  failure_reason: Nullable(Type.String()),
  test_id: Nullable(Type.Integer({ description: 'the run\'s test record (GET /api/v1/tests/<id>)' })),
  members: Type.Array(Type.Integer(), { description: 'queue item ids in the run' }),
  started_at: Type.String({ format: 'date-time' }),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
  children: Type.Array(Type.Unknown(), { description: 'the runs this one started (halves, a retest, probes), each of this same shape' }),
});

const Member = Type.Object({
  queue_id: Type.Integer(),
  advisory_name: Type.String(),
  position: Type.Integer(),
  queue_status: Type.String(),
  verdict: Nullable(StringEnum(['passed', 'rolled_back', 'interaction', 'inconclusive'] as const)),
  reason: Nullable(Type.String()),
  runs: Type.Array(Type.Integer(), { description: 'every run the member was part of' }),
  partners: Type.Array(Type.Integer(), { description: 'for an interaction: the members it fails together with' }),
  proven_by: Nullable(Type.Integer({ description: 'the run that proved its failure (alone, or the set together)' })),
});

const Bundle = Type.Object({
  id: Type.Integer(),
  target_os: Type.String(),
  workflow_id: Type.String(),
  status: StringEnum(RUN_STATUSES, { description: 'the bundle\'s own first run' }),
  settled: Type.Boolean({ description: 'every member has its own verdict' }),
  size_policy: Type.Unknown({ description: 'the chosen size and why: failure probability, Dorfman size, limits, skipped errata' }),
  requested_by: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
  runs: Type.Integer({ description: 'test runs of the bundle, its bisection included' }),
  members: Type.Array(Member),
  tree: RunNode,
});

const Summary = Type.Object({
  id: Type.Integer(),
  target_os: Type.String(),
  status: StringEnum(RUN_STATUSES),
  members: Type.Array(Type.Integer()),
  runs: Type.Integer(),
  workflow_id: Type.String(),
  chosen_size: Nullable(Type.Integer()),
  created_at: Type.String({ format: 'date-time' }),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
});

const node = (n: BundleNodeView): Static<typeof RunNode> & { children: unknown[] } => ({
  id: n.id, kind: n.kind, workflow_id: n.workflowId, status: n.status as (typeof RUN_STATUSES)[number], cause: n.cause, failure_reason: n.failureReason, test_id: n.testId,
  members: n.members, started_at: n.startedAt.toISOString(), completed_at: iso(n.completedAt), children: n.children.map(node),
});

export const bundleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'Bundles (several errata tested in one run), newest first',
        querystring: Type.Object(
          { os: Type.Optional(StringEnum(TARGET_OSES)), status: Type.Optional(StringEnum(RUN_STATUSES)), ...Paging({ defaultLimit: 50, maxLimit: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Summary), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await listBundles(app.db, { limit: q.limit, offset: q.offset, ...(q.os ? { os: q.os } : {}), ...(q.status ? { status: q.status } : {}) });
      return rows.map((r) => ({
        id: r.id, target_os: r.target_os, status: r.status, members: r.member_ids, runs: Number(r.descendants ?? 0) + 1, workflow_id: r.workflow_id,
        chosen_size: (r.size_policy as { chosen?: number } | null)?.chosen ?? null, created_at: r.created_at.toISOString(), completed_at: iso(r.completed_at),
      }));
    },
  );

  app.get(
    '/:id',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['tests'],
        summary: 'One bundle: its members with their own verdicts and evidence, and its bisection tree of runs',
        params: IdParams('bundle id (a node of the tree answers with its whole bundle)'),
        response: { 200: Bundle, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const v = await bundleView(app.db, request.params.id);
      if (!v) throw notFound(`bundle ${request.params.id}`);
      const b = v.bundle;
      return {
        id: b.id, target_os: b.target_os, workflow_id: b.workflow_id, status: b.status, settled: b.outcome !== null, size_policy: b.size_policy ?? null,
        requested_by: b.requested_by, created_at: b.created_at.toISOString(), completed_at: iso(b.completed_at), runs: v.runs,
        members: v.members.map((m) => ({
          queue_id: m.queueId, advisory_name: m.advisoryName, position: m.position, queue_status: m.queueStatus, verdict: m.verdict, reason: m.reason,
          runs: m.runs, partners: m.partners, proven_by: m.provenBy,
        })),
        tree: node(v.tree),
      };
    },
  );
};
