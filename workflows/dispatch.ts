import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { dispatchQueuedTests } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** Run by the `test-dispatch` Schedule when TEST_AUTO_DISPATCH is on: queued items take the free test systems. */
export async function dispatchTests(): Promise<number[]> {
  return dispatchQueuedTests();
}
