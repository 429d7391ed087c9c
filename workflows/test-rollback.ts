import { ApplicationFailure, CancellationScope, getExternalWorkflowHandle, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { LeasedSystem } from '../activities/patch-test/index.js';
import { rolledBackSignal, workflowIds, type TestTiming } from './messages.js';

export interface TestRollbackInput {
  testId: number;
  queueId: number;
  requestedBy: string;
  reason: string;
  timing: TestTiming;
}

/**
 * A forced rollback of a test that passed (POST /api/v1/tests/<id>/rollback): lease the same test system,
 * roll back by the seed's rule, verify, and tell the test's workflow (if it still waits) that it is rolled back.
 */
export async function testRollback(input: TestRollbackInput): Promise<{ verified: boolean; rollbackType: string }> {
  const store = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10 } });
  const action = proxyActivities<Activities>({
    startToCloseTimeout: `${input.timing.rebootTimeoutSeconds * 2 + 120} seconds`,
    heartbeatTimeout: `${Math.max(5, input.timing.pollSeconds * 4)} seconds`,
    retry: { initialInterval: '2 seconds', maximumAttempts: 6 },
  });
  let system: (LeasedSystem & { os: string }) | null = null;
  try {
    for (;;) {
      system = await store.leaseSystemOfTest({ testId: input.testId });
      if (system) break;
      await sleep(input.timing.leaseWaitSeconds * 1000);
    }
    const rb = await action.rollbackPhase({
      testId: input.testId, queueId: input.queueId, system, requestedBy: input.requestedBy, reason: input.reason, timing: input.timing,
    });
    if (!rb.ok) {
      await store.finishForcedRollback({ testId: input.testId, queueId: input.queueId, verified: false, reason: rb.reason ?? 'rollback failed' });
      throw ApplicationFailure.nonRetryable(`rollback of test ${input.testId} failed: ${rb.reason}`, 'RollbackFailed');
    }
    const verified = await store.verifyRollbackPhase({ testId: input.testId, system, os: system.os });
    await store.finishForcedRollback({ testId: input.testId, queueId: input.queueId, verified: verified.ok, reason: input.reason });
    await getExternalWorkflowHandle(workflowIds.patchTest(input.queueId))
      .signal(rolledBackSignal, { by: input.requestedBy, reason: input.reason })
      .catch(() => undefined); // the test's workflow has already finished
    return { verified: verified.ok, rollbackType: rb.rollbackType };
  } finally {
    await CancellationScope.nonCancellable(() => store.releaseTestSystem());
  }
}
