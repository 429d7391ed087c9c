import { ScheduleAlreadyRunning, ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Config } from '../config/config.js';
import { SYNC_SCHEDULE_ID, SYNC_WORKFLOW_TYPE, syncProgressQuery, type SyncInput, type SyncProgress, type SyncSummary, type SyncTrigger } from '../workflows/messages.js';
import type { uyuniSync } from '../workflows/index.js';

// Client-side control of the sync: the Schedule the worker keeps in place, and "sync now" for the API
// and the CLI, which joins a run already in progress instead of starting a second one.

function scheduleOptions(config: Readonly<Config>) {
  return {
    scheduleId: SYNC_SCHEDULE_ID,
    spec: { intervals: [{ every: `${config.uyuni.pollIntervalMinutes} minutes` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: SYNC_WORKFLOW_TYPE,
      workflowId: 'uyuni-sync',
      taskQueue: config.temporal.taskQueue,
      args: [{ trigger: 'schedule', uyuniRetry: config.uyuni.retry } satisfies SyncInput],
      workflowExecutionTimeout: '2 hours',
    },
    // A sync that outlives its interval must not pile up: the next tick is skipped.
    policies: { overlap: 'SKIP' as const, catchupWindow: '10 minutes', pauseOnFailure: false },
  };
}

/** Creates the uyuni-sync Schedule, or brings an existing one in line with the configuration (idempotent). */
export async function ensureSyncSchedule(client: Client, config: Readonly<Config>): Promise<'created' | 'updated' | 'unchanged'> {
  const options = scheduleOptions(config);
  try {
    await client.schedule.create({ ...options, memo: { purpose: 'sync UYUNI errata for test systems into errata_cache' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(SYNC_SCHEDULE_ID);
  const current = await handle.describe();
  const interval = current.spec.intervals?.[0]?.every;
  const action = current.action.type === 'startWorkflow' ? current.action : undefined;
  const wanted = config.uyuni.pollIntervalMinutes * 60_000;
  if (
    interval === wanted &&
    current.spec.intervals?.length === 1 &&
    action?.taskQueue === options.action.taskQueue &&
    action.workflowType === SYNC_WORKFLOW_TYPE &&
    current.policies.overlap === 'SKIP' &&
    JSON.stringify(action.args) === JSON.stringify(options.action.args)
  ) {
    return 'unchanged';
  }
  await handle.update((prev) => ({
    ...prev,
    spec: options.spec,
    action: options.action,
    policies: { ...prev.policies, ...options.policies },
  }));
  return 'updated';
}

export async function describeSyncSchedule(client: Client): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(SYNC_SCHEDULE_ID).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/** Runs the schedule's action now ("one run right after start"); skipped when a run is in progress. */
export async function triggerScheduledSync(client: Client): Promise<void> {
  await client.schedule.getHandle(SYNC_SCHEDULE_ID).trigger('SKIP');
}

export interface RunningSync {
  workflowId: string;
  runId: string;
  startTime: Date;
}

export async function findRunningSyncs(client: Client, taskQueue: string): Promise<RunningSync[]> {
  const running: RunningSync[] = [];
  for await (const wf of client.workflow.list({
    query: `WorkflowType = '${SYNC_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`,
  })) {
    running.push({ workflowId: wf.workflowId, runId: wf.runId, startTime: wf.startTime });
  }
  return running.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

export async function progressOf(client: Client, run: RunningSync): Promise<SyncProgress | null> {
  try {
    return await client.workflow.getHandle(run.workflowId, run.runId).query(syncProgressQuery);
  } catch {
    return null; // finished between the listing and the query
  }
}

export interface TriggeredSync {
  workflowId: string;
  runId: string;
  joined: boolean;
  result: SyncSummary;
}

/**
 * "Sync now" without waiting: joins the run in progress when there is one, else starts one. Two concurrent
 * callers share one run (fixed workflow id; the one whose start is refused joins the run that won).
 */
export async function startOrJoinSync(client: Client, config: Readonly<Config>, trigger: SyncTrigger) {
  const [running] = await findRunningSyncs(client, config.temporal.taskQueue);
  if (running) {
    return { workflowId: running.workflowId, runId: running.runId, joined: true, handle: client.workflow.getHandle<typeof uyuniSync>(running.workflowId, running.runId) };
  }
  const workflowId = `uyuni-sync-${trigger}`;
  try {
    const handle = await client.workflow.start<typeof uyuniSync>(SYNC_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ trigger, uyuniRetry: config.uyuni.retry }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowExecutionTimeout: '2 hours',
    });
    return { workflowId, runId: handle.firstExecutionRunId, joined: false, handle: client.workflow.getHandle<typeof uyuniSync>(workflowId, handle.firstExecutionRunId) };
  } catch (err) {
    // Started by a concurrent caller after our look (the listing lags): join that run.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const runId = (await client.workflow.getHandle(workflowId).describe()).runId;
    return { workflowId, runId, joined: true, handle: client.workflow.getHandle<typeof uyuniSync>(workflowId, runId) };
  }
}

/** "Sync now" and wait for the result (the ops CLI: no HTTP timeout in the way). */
export async function syncNow(client: Client, config: Readonly<Config>, trigger: SyncTrigger): Promise<TriggeredSync> {
  const { handle, ...run } = await startOrJoinSync(client, config, trigger);
  return { ...run, result: await handle.result() };
}
