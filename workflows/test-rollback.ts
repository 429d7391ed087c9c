import { ApplicationFailure, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import { rolledBackSignal, testStatusQuery, workflowIds, type TestTiming } from './messages.js';
import { testActivities } from './test-proxies.js';
import { undoPassedPatch } from './test-run.js';
import { TestView } from './test-view.js';

export interface TestRollbackInput {
  testId: number;
  queueId: number;
  requestedBy: string;
  reason: string;
  timing: TestTiming;
}

/**
 * A forced rollback of a test that passed (POST /api/v1/tests/<id>/rollback, id test-rollback-<testId>): the
 * same undo as for a rejected patch — lease the same test system, undo this patch's changes, verify the whole
 * inventory — then tell the test's workflow (if it still waits for a decision) that the item is rolled back.
 */
export async function testRollback(input: TestRollbackInput): Promise<{ verified: boolean; rollbackType: string | null; reason?: string }> {
  const acts = testActivities(input.timing);
  const view = new TestView(input.queueId);
  setHandler(testStatusQuery, () => view.state);
  const info = await acts.store.describeTest({ testId: input.testId });
  Object.assign(view.state, { testId: info.testId, advisoryName: info.advisoryName, targetOs: info.targetOs, phase: 'rollback', status: 'passed' });
  const undone = await undoPassedPatch(
    { input: { queueId: input.queueId, requestedBy: input.requestedBy, timing: input.timing }, acts, view, info },
    { reason: input.reason, requestedBy: input.requestedBy },
  );
  await acts.store.finishForcedRollback({ testId: input.testId, queueId: input.queueId, verified: undone.ok, reason: undone.ok ? input.reason : (undone.reason ?? 'rollback failed') });
  if (!undone.ok) throw ApplicationFailure.nonRetryable(`rollback of test ${input.testId} failed: ${undone.reason}`, 'RollbackFailed');
  view.setStatus('rolled_back');
  await getExternalWorkflowHandle(workflowIds.patchTest(input.queueId))
    .signal(rolledBackSignal, { by: input.requestedBy, reason: input.reason })
    .catch(() => undefined); // the test's workflow has already finished
  return { verified: true, rollbackType: view.state.rollbackType };
}
