import { CancellationScope, isCancellation, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ApprovalDesk, type ApprovalOutcome } from './approval.js';
import { SA, testStatusQuery, type PatchTestInput, type TestResult } from './messages.js';
import { Promotion } from './promotion.js';
import { testActivities } from './test-proxies.js';
import { runTest, undoPassedPatch } from './test-run.js';
import { TestView } from './test-view.js';

/**
 * One queued patch from test to production (id patch-test-<queueId>): the test on a leased test system
 * (test-run.ts), then — when it passed and approval is on — a person's decision (approval.ts), then the
 * production rollout as a child (promotion.ts). The `status` query, the decide/deploy Updates and the
 * approve/reject/snooze signals are answered throughout.
 */
export async function patchTest(input: PatchTestInput): Promise<TestResult> {
  const acts = testActivities(input.timing);
  const view = new TestView(input.queueId);
  setHandler(testStatusQuery, () => view.state);
  const desk = new ApprovalDesk(input.queueId, acts, view);
  const promotion = new Promotion(input.queueId, acts, view);

  // Tested already in a bundle run (workflows/bundle.ts), which restored its test system: straight to approval.
  const info = input.pretested
    ? await acts.store.adoptTestedItem({ queueId: input.queueId, testId: input.pretested.testId })
    : await acts.store.beginTest({ queueId: input.queueId });
  desk.testId = info.testId;
  Object.assign(view.state, { testId: info.testId, advisoryName: info.advisoryName, targetOs: info.targetOs });
  upsertSearchAttributes([
    { key: SA.queueId, value: input.queueId },
    { key: SA.advisoryName, value: info.advisoryName },
    { key: SA.targetOs, value: info.targetOs },
    { key: SA.patchStatus, value: 'testing' },
  ]);

  const tested: TestResult = input.pretested
    ? { testId: info.testId, status: 'passed', failure: null, rollbackType: null, rollbackVerified: null }
    : await runTest({ input, acts, view, info });
  if (input.pretested) {
    view.setStatus('passed');
    upsertSearchAttributes([{ key: SA.bundleId, value: input.pretested.bundleId }]);
  }
  if (tested.status !== 'passed' || !input.approval) return tested;

  let outcome: ApprovalOutcome;
  try {
    outcome = await desk.awaitDecision(input.approval);
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled while waiting for a person: the item expires (its record says why).
      await CancellationScope.nonCancellable(() =>
        acts.store.expireApproval({ testId: info.testId, queueId: input.queueId, workflowId: workflowInfo().workflowId }),
      );
    }
    throw err;
  }
  if (outcome === 'rejected' || outcome === 'expired') {
    // Not deployed: the patch must not stay on the test system.
    const undone = input.pretested
      ? { ok: true, reason: `nothing to undo: bundle #${input.pretested.bundleId} restored its test system after the run (verified)` }
      : await undoPassedPatch({ input, acts, view, info }, { reason: `the patch was ${outcome}` });
    view.done();
    return { ...tested, status: outcome, undone };
  }
  view.done();
  if (outcome !== 'approved') return { ...tested, status: outcome };
  const rollout = await promotion.run(input, info, () => desk.rolledBackByForce);
  if (!rollout) {
    view.setStatus('rolled_back');
    return { ...tested, status: 'rolled_back' };
  }
  // The rollout's end is the item's status now (the child carries the same search attributes).
  view.setStatus(rollout.status === 'completed' ? 'completed' : 'halted');
  return { ...tested, status: 'approved', deployment: rollout };
}
