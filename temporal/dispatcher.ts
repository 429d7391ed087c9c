import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { testDispatcher } from '../workflows/index.js';
import { stopDispatchSignal, wakeDispatchSignal, workflowIds } from '../workflows/messages.js';

/** The Schedule earlier versions used (a dispatch run every 30 s): removed, the dispatcher replaces it. */
const LEGACY_SCHEDULE_ID = 'test-dispatch';

/** How often the dispatcher looks even when nothing woke it. */
export const DISPATCH_SWEEP_SECONDS = 300;

/**
 * TEST_AUTO_DISPATCH on: the long-lived `test-dispatcher` workflow runs (started if needed, and woken). Off: it
 * is told to stop. Either way the legacy Schedule is removed. Idempotent; run by the worker at start.
 */
export async function ensureTestDispatcher(client: Client, config: Readonly<Config>): Promise<'running' | 'stopped' | 'absent'> {
  await client.schedule
    .getHandle(LEGACY_SCHEDULE_ID)
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
  if (config.test.autoDispatch) {
    await wakeTestDispatcher(client, config);
    return 'running';
  }
  try {
    await client.workflow.getHandle(workflowIds.dispatcher()).signal(stopDispatchSignal);
    return 'stopped';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'absent';
    throw err;
  }
}

/** Wakes the dispatcher, starting it when it does not run (signal-with-start: one dispatcher, never two). */
export async function wakeTestDispatcher(client: Client, config: Readonly<Config>): Promise<void> {
  await client.workflow.signalWithStart<typeof testDispatcher>('testDispatcher', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.dispatcher(),
    args: [{ sweepSeconds: DISPATCH_SWEEP_SECONDS }],
    signal: wakeDispatchSignal,
    signalArgs: [],
  });
}
