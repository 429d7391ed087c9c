// A workflow that does nothing but the marginal-verdict pause (workflows/verdict-pause.ts), for its own test:
// the rollout (issue 15, h15b) calls the same helper after a wave verdict whose decision is `pause`.
import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { VerdictDecisionActivities } from '../../../activities/verdict/decision.js';
import type { VerdictPauseView } from '../../../workflows/messages.js';
import { VerdictPause } from '../../../workflows/verdict-pause.js';

export const pauseViewQuery = defineQuery<VerdictPauseView | null>('pauseView');

export async function verdictPauseProbe(input: { verdictId: number; queueId: number; reminderSeconds: number }) {
  const acts = proxyActivities<VerdictDecisionActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3, initialInterval: '200 ms' } });
  const pause = new VerdictPause(acts, workflowInfo().workflowId);
  setHandler(pauseViewQuery, () => pause.view);
  return pause.pause(input);
}
