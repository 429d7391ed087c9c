// A workflow that does nothing but the marginal-verdict pause (workflows/verdict-pause.ts), for its own test:
// the rollout (issue 15, h15b) calls the same helper after a wave verdict whose decision is `pause`.
import { defineQuery, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { VerdictDecisionActivities } from '../../../activities/verdict/decision.js';
import type { VerdictPauseView } from '../../../workflows/messages.js';
import { VerdictPause } from '../../../workflows/verdict-pause.js';

export const pauseViewQuery = defineQuery<VerdictPauseView | null>('pauseView');
/** Stands for the rollout's halt signal: the pause's `stop` turns true. */
export const stopSignal = defineSignal('stop');

export async function verdictPauseProbe(input: { verdictId: number; queueId: number; reminderSeconds: number }) {
  const acts = proxyActivities<VerdictDecisionActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3, initialInterval: '200 ms' } });
  const pause = new VerdictPause(acts, workflowInfo().workflowId);
  let stopped = false;
  setHandler(pauseViewQuery, () => pause.view);
  setHandler(stopSignal, () => void (stopped = true));
  return pause.pause({ ...input, stop: () => stopped });
}
