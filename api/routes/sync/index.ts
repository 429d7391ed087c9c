import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowFailedError } from '@temporalio/client';
import { recentSyncRuns } from '../../../db/queries/sync-runs.js';
import { describeSyncSchedule, findRunningSyncs, progressOf, startOrJoinSync } from '../../../temporal/sync-schedule.js';
import { WAIT_BOUND_SECONDS } from '../../limits.js';
import { withinBound } from '../../services/bounded-wait.js';
import { ApiError } from '../../errors.js';
import { errorResponses, WaitQuery, WithDefault } from '../../schemas/common.js';
import { SyncProgressSchema, SyncRunSchema, SyncSummarySchema, toSyncRun } from './schemas.js';

export const syncRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/status',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['sync'],
        summary: 'Runs in progress (with their progress), the last runs, and the Schedule with its next run time',
        querystring: Type.Object({ limit: WithDefault(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'how many of the last runs' })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            running: Type.Array(
              Type.Object({
                workflow_id: Type.String(),
                run_id: Type.String(),
                started_at: Type.String({ format: 'date-time' }),
                progress: Type.Union([SyncProgressSchema, Type.Null()]),
              }),
            ),
            last_runs: Type.Array(SyncRunSchema),
            schedule: Type.Union([
              Type.Object({
                id: Type.String(),
                paused: Type.Boolean(),
                note: Type.Union([Type.String(), Type.Null()]),
                interval_minutes: Type.Union([Type.Number(), Type.Null()]),
                next_run_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                last_action_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
              }),
              Type.Null(),
            ]),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const client = app.temporal.client;
      const [running, runs, schedule] = await Promise.all([
        findRunningSyncs(client, app.config.temporal.taskQueue),
        recentSyncRuns(app.db, request.query.limit),
        describeSyncSchedule(client),
      ]);
      const withProgress = await Promise.all(
        running.map(async (r) => ({
          workflow_id: r.workflowId,
          run_id: r.runId,
          started_at: r.startTime.toISOString(),
          progress: await progressOf(client, r),
        })),
      );
      const every = schedule?.spec.intervals?.[0]?.every;
      return {
        running: withProgress,
        last_runs: runs.map(toSyncRun),
        schedule: schedule
          ? {
              id: schedule.scheduleId,
              paused: schedule.state.paused,
              note: schedule.state.note ?? null,
              interval_minutes: typeof every === 'number' ? every / 60_000 : null,
              next_run_at: schedule.info.nextActionTimes[0]?.toISOString() ?? null,
              last_action_at: schedule.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
            }
          : null,
      };
    },
  );

  app.post(
    '/trigger',
    {
      config: { auth: 'write' },
      schema: {
        tags: ['sync'],
        summary: `Sync now; joins the run in progress instead of starting a second one. Waits at most wait_seconds (default and most ${WAIT_BOUND_SECONDS}): 200 with the result, or 202 with the run and where to poll`,
        querystring: WaitQuery,
        response: {
          200: Type.Object({ workflow_id: Type.String(), run_id: Type.String(), joined: Type.Boolean(), result: SyncSummarySchema }),
          202: Type.Object(
            {
              workflow_id: Type.String(),
              run_id: Type.String(),
              joined: Type.Boolean(),
              status: Type.Literal('running'),
              poll: Type.String({ description: 'GET this for the progress, then the run among last_runs' }),
              progress: Type.Union([SyncProgressSchema, Type.Null()]),
            },
            { description: 'still running after wait_seconds' },
          ),
          ...errorResponses(502),
        },
      },
    },
    async (request, reply) => {
      const client = app.temporal.client;
      const run = await startOrJoinSync(client, app.config, 'api');
      request.log.info({ workflowId: run.workflowId, runId: run.runId, joined: run.joined, by: request.actor?.name }, 'sync triggered');
      let outcome;
      try {
        outcome = await withinBound(client, request.query.wait_seconds * 1000, () => run.handle.result());
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new ApiError(502, `the sync failed: ${err.cause?.message ?? err.message}`, { workflow_id: run.workflowId, run_id: run.runId });
        throw err;
      }
      const ids = { workflow_id: run.workflowId, run_id: run.runId, joined: run.joined };
      if (outcome.done) return { ...ids, result: outcome.value };
      const poll = '/api/v1/sync/status';
      return reply
        .status(202)
        .header('location', poll)
        .send({ ...ids, status: 'running' as const, poll, progress: await progressOf(client, { workflowId: run.workflowId, runId: run.runId, startTime: new Date() }) });
    },
  );
};
