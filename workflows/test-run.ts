import { ActivityFailure, CancellationScope, isCancellation, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { LeasedSystem, MetricsReading, PhaseVerdict, TestInfo } from '../activities/patch-test/index.js';
import { SA, type PatchTestInput, type TestPhaseName, type TestResult } from './messages.js';
import type { TestActivityStubs } from './test-proxies.js';
import type { TestView } from './test-view.js';

export const reasonOf = (err: unknown): string =>
  err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);

export interface TestRunContext {
  input: PatchTestInput;
  acts: TestActivityStubs;
  view: TestView;
  info: TestInfo;
}

type LaterPhase = 'reboot' | 'validate' | 'services' | 'rollback' | 'verify_rollback';

/**
 * The test itself, on a leased test system: snapshot → patch → reboot (when required) → validate → services →
 * passed, or rollback by the seed's rule and a verification of it. The lease is released on every exit.
 */
export async function runTest(ctx: TestRunContext): Promise<TestResult> {
  const { input, view, info } = ctx;
  const { store, host, action, metrics } = ctx.acts;
  let system: LeasedSystem | null = null;
  /** Something may have changed on the host: a cancellation or failure from here on rolls back. */
  let touched = false;
  let bootBefore = 0;

  const finish = async (status: 'passed' | 'failed' | 'rolled_back', failure: TestResult['failure'], rollbackVerified: boolean | null): Promise<TestResult> => {
    await store.finishTest({
      testId: info.testId,
      queueId: input.queueId,
      status,
      ...(failure ? { failurePhase: failure.phase, failureReason: failure.reason } : {}),
    });
    view.setStatus(status);
    view.state.phase = 'done';
    view.state.failure = failure;
    return { testId: info.testId, status, failure, rollbackType: view.state.rollbackType, rollbackVerified };
  };

  const skipRest = async (phases: LaterPhase[], why: string) => {
    for (const phase of phases) {
      await store.skipPhase({ testId: info.testId, phase, why });
      view.leave(phase, 'skipped');
    }
  };

  const rollBack = async (phase: TestPhaseName, reason: string): Promise<TestResult> => {
    view.state.failure = { phase, reason };
    const leased = system as LeasedSystem;
    view.enter('rollback');
    const rb = await action.rollbackPhase({
      testId: info.testId, queueId: input.queueId, system: leased, requestedBy: input.requestedBy, reason, bootBefore, timing: input.timing,
    });
    view.state.rollbackType = rb.rollbackType;
    view.leave('rollback', rb.ok ? 'passed' : 'failed', rb.reason);
    let verified: PhaseVerdict = { ok: false, reason: 'rollback failed' };
    if (rb.ok) {
      view.enter('verify_rollback');
      verified = await host.verifyRollbackPhase({ testId: info.testId, system: leased, os: info.targetOs });
      view.leave('verify_rollback', verified.ok ? 'passed' : 'failed', verified.reason);
    } else {
      await store.skipPhase({ testId: info.testId, phase: 'verify_rollback', why: 'the rollback itself failed' });
      view.leave('verify_rollback', 'skipped');
    }
    // A patch UYUNI failed to apply changed nothing to undo: the test failed, the rollback only proved it.
    const status = rb.ok && verified.ok && phase !== 'patch' ? 'rolled_back' : 'failed';
    return finish(status, { phase, reason }, rb.ok ? verified.ok : false);
  };

  try {
    // lease: wait for a free test system of the OS (never two tests on one system)
    view.enter('lease');
    for (;;) {
      system = await store.acquireTestSystem({ testId: info.testId, os: info.targetOs, candidates: info.candidateSystems });
      if (system) break;
      if (!view.state.waitingForSystem) await store.waitingForTestSystem({ testId: info.testId, os: info.targetOs });
      view.state.waitingForSystem = true;
      await sleep(input.timing.leaseWaitSeconds * 1000);
    }
    view.state.waitingForSystem = false;
    view.state.testSystem = { id: system.systemId, name: system.name };
    upsertSearchAttributes([{ key: SA.testSystem, value: system.name }]);
    view.leave('lease', 'passed', system.name);

    view.enter('snapshot');
    const snap = await host.snapshotPhase({
      testId: info.testId, system, advisoryName: info.advisoryName, packageNames: info.packageNames, timing: input.timing,
    });
    bootBefore = snap.bootTime;
    const baseline: MetricsReading = snap.baseline;
    view.leave('snapshot', 'passed', `${snap.snapshotType}${snap.snapshotId ? ` #${snap.snapshotId}` : ''}`);

    view.enter('patch');
    touched = true;
    const patched = await action.patchPhase({
      testId: info.testId, systemId: system.systemId, errataId: info.uyuniErrataId, advisoryName: info.advisoryName, timing: input.timing,
    });
    view.leave('patch', patched.ok ? 'passed' : 'failed', patched.reason);
    if (!patched.ok) return await rollBack('patch', patched.reason ?? 'the patch failed');

    if (info.requiresReboot) {
      view.enter('reboot');
      const rebooted = await action.rebootPhase({ testId: info.testId, system, bootBefore, timing: input.timing });
      view.leave('reboot', rebooted.ok ? 'passed' : 'failed', rebooted.reason);
      if (!rebooted.ok) {
        // Nothing can be rolled back on a host that does not answer: keep it out of rotation for an operator.
        await store.quarantineTestSystem({ systemId: system.systemId, reason: rebooted.reason ?? 'did not come back from reboot' });
        await skipRest(['validate', 'services', 'rollback', 'verify_rollback'], 'the host did not come back from its reboot');
        return await finish('failed', { phase: 'reboot', reason: rebooted.reason ?? 'did not come back from reboot' }, null);
      }
    } else {
      await skipRest(['reboot'], 'the patch does not require a reboot');
    }

    view.enter('validate');
    // Let the system settle so the after-metrics show the patched steady state, not the transition.
    await sleep(input.timing.settleSeconds * 1000);
    let validated: PhaseVerdict;
    try {
      validated = await metrics.validatePhase({ testId: info.testId, system, baseline, timing: input.timing });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Prometheus down or without data after the retries: a failure, never a pass.
      validated = { ok: false, reason: `no metrics: ${reasonOf(err)}` };
      await store.validateUnavailable({ testId: info.testId, reason: reasonOf(err) });
    }
    view.leave('validate', validated.ok ? 'passed' : 'failed', validated.reason);
    if (!validated.ok) return await rollBack('validate', validated.reason ?? 'metrics out of bounds');

    view.enter('services');
    const services = await host.servicesPhase({ testId: info.testId, system, os: info.targetOs });
    view.leave('services', services.ok ? 'passed' : 'failed', services.reason);
    if (!services.ok) return await rollBack('services', services.reason ?? 'a critical service is down');

    await skipRest(['rollback', 'verify_rollback'], 'the test passed');
    return await finish('passed', null, null);
  } catch (err) {
    const reason = reasonOf(err);
    const phase: TestPhaseName = view.state.phase === 'done' || view.state.phase === 'approval' ? 'lease' : view.state.phase;
    if (isCancellation(err)) {
      // Cancelled: undo what may have been applied, or hand the item back to the queue.
      await CancellationScope.nonCancellable(async () => {
        if (touched && system) await rollBack(phase, 'the test was cancelled');
        else await store.requeueUntested({ testId: info.testId, queueId: input.queueId });
      });
      throw err;
    }
    if (touched && system) return await rollBack(phase, reason);
    // Nothing was applied (no free system could be reached, no baseline metrics): the test failed as is.
    return await finish('failed', { phase, reason }, null);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      await store.releaseTestSystem();
      // The system is free again: let the next queued item take it.
      if (input.autoDispatch) await store.dispatchQueuedTests();
    });
  }
}
