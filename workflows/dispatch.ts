import { condition, continueAsNew, getExternalWorkflowHandle, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { dispatcherStatusQuery, stopDispatchSignal, wakeDispatchSignal, workflowIds, type DispatcherInput, type DispatcherStatus } from './messages.js';

const { dispatchQueuedTests } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** Rounds before the history starts over (continue-as-new): it stays a few hundred events. */
const ROUNDS_PER_RUN = 100;

/**
 * The auto-dispatcher (TEST_AUTO_DISPATCH), one long-lived workflow `test-dispatcher`: queued items take the
 * free test systems whenever something may have changed — a test freed its system, items were queued, a sync
 * finished (each sends `wake`) — and in a rare safety sweep. One workflow instead of a Schedule's run every
 * 30 s, so the Web UI is not flooded with dispatch runs.
 */
export async function testDispatcher(input: DispatcherInput): Promise<void> {
  const status: DispatcherStatus = { rounds: input.rounds ?? 0, lastRoundAt: null, lastStarted: [], stopped: false };
  let wakes = 0;
  setHandler(wakeDispatchSignal, () => void wakes++);
  setHandler(stopDispatchSignal, () => void (status.stopped = true));
  setHandler(dispatcherStatusQuery, () => status);
  for (let round = 0; round < ROUNDS_PER_RUN && !status.stopped; round++) {
    const seen = wakes;
    status.lastStarted = await dispatchQueuedTests();
    status.lastRoundAt = new Date().toISOString();
    status.rounds++;
    await condition(() => wakes > seen || status.stopped, input.sweepSeconds * 1000);
  }
  if (status.stopped) return;
  // A wake that arrives now is delivered to the next run (signals are not lost across continue-as-new).
  await continueAsNew<typeof testDispatcher>({ ...input, rounds: status.rounds });
}

/** From another workflow: wake the dispatcher (nothing happens when auto-dispatch is off and it does not run). */
export async function wakeDispatcher(): Promise<void> {
  await getExternalWorkflowHandle(workflowIds.dispatcher())
    .signal(wakeDispatchSignal)
    .catch(() => undefined);
}
