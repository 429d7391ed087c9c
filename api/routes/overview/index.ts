import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { overview } from '../../../db/queries/overview.js';
import { errorResponses } from '../../schemas/common.js';
import { Nullable } from '../../schemas/types.js';

const Loose = Type.Object({}, { additionalProperties: true });
const Counts = Type.Record(Type.String(), Type.Integer());
const SyncRun = Type.Object({
  id: Type.Integer(),
  status: Type.String(),
  trigger: Type.String(),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
  duration_ms: Nullable(Type.Integer()),
  groups_count: Type.Integer(),
  systems_count: Type.Integer(),
  errata_count: Type.Integer(),
  errata_inserted: Type.Integer(),
  errata_updated: Type.Integer(),
  cves_fetched: Type.Integer(),
  errors: Type.Array(Type.Object({ scope: Type.String(), message: Type.String() })),
  error: Nullable(Type.String()),
});
const Day = Type.Object({
  day: Type.String({ format: 'date' }),
  tests_started: Type.Integer(),
  tests_passed: Type.Integer(),
  tests_failed: Type.Integer(),
  tests_rolled_back: Type.Integer(),
  approved: Type.Integer(),
  rejected: Type.Integer(),
  systems_patched: Type.Integer(),
  rollbacks: Type.Integer(),
});

export const overviewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['overview'],
        summary: 'The morning summary in one request: last sync, queue by status/OS/severity, approvals waiting, running tests and rollouts, quarantined test systems, the last 30 days',
        description: 'Lists (running tests, rollouts, quarantined systems) hold at most 20 rows; their `total` is exact. `daily` has one row per day, oldest first.',
        response: {
          200: Type.Object({
            last_sync: Nullable(SyncRun),
            previous_sync: Nullable(SyncRun),
            queue: Type.Object({ total: Type.Integer(), by_status: Counts, by_os: Counts, by_severity: Counts, avg_score: Nullable(Type.Number()) }),
            approvals: Type.Object({
              pending: Type.Integer(),
              snoozed: Type.Integer(),
              oldest_queue_id: Nullable(Type.Integer()),
              oldest_hours_pending: Nullable(Type.Number()),
            }),
            running_tests: Type.Object({ total: Type.Integer(), items: Type.Array(Loose) }),
            running_rollouts: Type.Object({ total: Type.Integer(), items: Type.Array(Loose) }),
            test_systems: Type.Object({
              total: Type.Integer(),
              leased: Type.Integer(),
              quarantined: Type.Integer(),
              quarantined_systems: Type.Array(Type.Object({ system_id: Type.Integer(), name: Type.String(), os: Type.String(), quarantine_reason: Nullable(Type.String()), quarantined_at: Nullable(Type.String()) })),
            }),
            daily: Type.Array(Day),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => overview(app.db) as never,
  );
};
