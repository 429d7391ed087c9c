import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched as workflowPatched, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { earliestFor } from '../domain/maintenance-plan.js';
import type { LeasedSystem, MetricsReading, PhaseVerdict, RollbackResult, TestInfo } from '../activities/patch-test/index.js';
import { wakeDispatcher } from './dispatch.js';
import { SA, type PatchTestInput, type TestPhaseName, type TestResult } from './messages.js';
import type { TestActivityStubs } from './test-proxies.js';
import type { TestView } from './test-view.js';

export const reasonOf = (err: unknown): string =>
  err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);

const failureType = (err: unknown): string | undefined =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type ?? undefined : undefined;

export interface TestRunContext {
  input: PatchTestInput;
  acts: TestActivityStubs;
  view: TestView;
  info: TestInfo;
  /**
   * A run of a bundle node (workflows/bundle.ts): it records the node's verdict, not the queue items' (the
   * bundle settles them), and a run that passed restores its test system too, verified, so every run of a
   * bisection starts from the same clean host.
   */
  bundle?: { bundleId: number; members: number };
}

type LaterPhase = 'reboot' | 'validate' | 'services' | 'rollback' | 'verify_rollback';
type Cause = 'patch' | 'test_system' | 'unknown';
type Verdict = 'passed' | 'failed' | 'rolled_back' | 'inconclusive';

/**
 * The test itself, on a leased test system: baseline at rest → restore points → patch → reboot (when
 * required) → validate → services → passed, or rollback by the seed's rule and a verification of it. Every
 * exit leaves the test system clean (rolled back and verified) or quarantined for an operator, and releases
 * the lease. What could not be judged is `inconclusive`, never passed; a failure is blamed on the patch only
 * when the patch caused it.
 */
export async function runTest(ctx: TestRunContext): Promise<TestResult> {
  const { input, view, info } = ctx;
  const { store, host, action, metrics, baseline: settle } = ctx.acts;
  let system: LeasedSystem | null = null;
  /** Something may have changed on the host: a cancellation or failure from here on rolls back. */
  let touched = false;
  let bootBefore = 0;

  const finish = async (status: Verdict, failure: TestResult['failure'], rollbackVerified: boolean | null, cause?: Cause): Promise<TestResult> => {
    const outcome = {
      testId: info.testId,
      status,
      ...(failure ? { failurePhase: failure.phase, failureReason: failure.reason } : {}),
      ...(cause ? { cause } : {}),
    };
    if (ctx.bundle) await store.finishBundleRun({ ...outcome, bundleId: ctx.bundle.bundleId, members: ctx.bundle.members });
    else await store.finishTest({ ...outcome, queueId: input.queueId });
    view.setStatus(status);
    view.done();
    view.state.failure = failure;
    return { testId: info.testId, status, failure, rollbackType: view.state.rollbackType, rollbackVerified, ...(status !== 'passed' ? { cause: cause ?? 'unknown' } : {}) };
  };

  const skipRest = async (phases: LaterPhase[], why: string) => {
    for (const phase of phases) {
      await store.skipPhase({ testId: info.testId, phase, why });
      view.leave(phase, 'skipped');
    }
  };

  /**
   * issue 15: UYUNI refuses an errata action outside the test system's maintenance window (fault 1334), so the
   * test waits — a durable timer, days if need be — until the window is open, shown in the status query and on
   * the lease phase. Returns why it can never be patched (a schedule without a window), or null once open.
   */
  const awaitWindow = async (leased: LeasedSystem): Promise<string | null> => {
    for (;;) {
      const windows = await host.nextMaintenanceWindows({ systemIds: [leased.systemId], after: new Date().toISOString() });
      const next = earliestFor(windows[String(leased.systemId)] ?? null, Date.now());
      if ('never' in next) return `${leased.name}: ${next.never}`;
      if (!next.window) {
        view.state.maintenanceWindow = null;
        return null;
      }
      const state = next.waitMs > 0 ? 'waiting' : 'open';
      const mw = { schedule: next.window.schedule, opensAt: next.window.start, closesAt: next.window.end, state } as const;
      const changed = view.state.maintenanceWindow?.state !== state || view.state.maintenanceWindow.opensAt !== mw.opensAt;
      view.state.maintenanceWindow = mw;
      if (changed) await store.waitingForMaintenanceWindow({ testId: info.testId, ...mw });
      if (next.waitMs <= 0) return null;
      await sleep(next.waitMs);
    }
  };
  // Recorded before this wait existed: those histories have no window lookups (replay).
  const honoursWindows = workflowPatched('test-maintenance-window');

  const quarantine = (reason: string) => store.quarantineTestSystem({ systemId: (system as LeasedSystem).systemId, reason });

  /** Rolls the patch back and verifies it; a host that does not come back, or is not restored, is quarantined. */
  const rollBack = async (phase: TestPhaseName, reason: string, verdictIfRestored: Verdict, cause: Cause): Promise<TestResult> => {
    view.state.failure = { phase, reason };
    const leased = system as LeasedSystem;
    const restored = await undoOnSystem(ctx, leased, { reason, deferred: false, bootBefore });
    // A patch UYUNI failed to apply changed nothing to undo: the test failed, the rollback only proved it.
    const status: Verdict = restored.ok ? (phase === 'patch' ? 'failed' : verdictIfRestored) : 'failed';
    return finish(status, { phase, reason: restored.ok ? reason : `${reason}; then the rollback failed: ${restored.reason}` }, restored.ok, cause);
  };

  try {
    // lease: wait for a free test system of the OS (never two tests on one system)
    view.enter('lease');
    if (info.candidateSystems.length === 0 && ctx.bundle) {
      const why = `no ${info.targetOs} test system needs every one of ${info.advisoryNames?.join(', ') ?? info.advisoryName}`;
      view.leave('lease', 'failed', why);
      return await finish('inconclusive', { phase: 'lease', reason: why }, null, 'test_system');
    }
    if (info.candidateSystems.length === 0) {
      const why = `no ${info.targetOs} test system needs ${info.advisoryName} (UYUNI lists it as relevant to none)`;
      await store.markUntestable({ testId: info.testId, queueId: input.queueId, reason: why });
      view.leave('lease', 'failed', why);
      view.done();
      view.setStatus('untestable');
      return { testId: info.testId, status: 'untestable', failure: { phase: 'lease', reason: why }, rollbackType: null, rollbackVerified: null };
    }
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

    if (honoursWindows) {
      const never = await awaitWindow(system);
      if (never) {
        await skipRest(['snapshot', 'patch', 'reboot', 'validate', 'services', 'rollback', 'verify_rollback'] as LaterPhase[], `no maintenance window: ${never}`);
        return await finish('inconclusive', { phase: 'lease', reason: `no maintenance window: ${never}` }, null, 'test_system');
      }
    }

    // snapshot: a baseline of the system at rest, then the restore points
    view.enter('snapshot');
    const base = await settle.baselinePhase({ testId: info.testId, system, timing: input.timing });
    if (!base.settled) {
      view.leave('snapshot', 'failed', base.reason);
      await skipRest(['reboot', 'validate', 'services', 'rollback', 'verify_rollback'], 'no baseline: the test system was not at rest');
      return await finish('inconclusive', { phase: 'snapshot', reason: base.reason }, null, 'test_system');
    }
    const baseline: MetricsReading = base.baseline;
    const snap = await host.snapshotPhase({ testId: info.testId, system, os: info.targetOs, advisoryName: info.advisoryName, packageNames: info.packageNames });
    bootBefore = snap.bootTime;
    view.leave('snapshot', 'passed', `${snap.snapshotType}${snap.snapshotId ? ` #${snap.snapshotId}` : ''}`);

    view.enter('patch');
    touched = true;
    const patchOnce = () => action.patchPhase({
      testId: info.testId, systemId: system!.systemId, minion: system!.minion, errataId: info.uyuniErrataId, advisoryName: info.advisoryName, timing: input.timing,
      ...(info.uyuniErrataIds ? { errataIds: info.uyuniErrataIds, advisoryNames: info.advisoryNames ?? [] } : {}),
    });
    let patched = await patchOnce();
    // 1334: the window closed since we looked (nothing was scheduled): wait for the next one and schedule again.
    while (!patched.ok && patched.outsideWindow && honoursWindows) {
      const never = await awaitWindow(system);
      if (never) {
        touched = false;
        view.leave('patch', 'failed', never);
        await skipRest(['reboot', 'validate', 'services', 'rollback', 'verify_rollback'], `no maintenance window: ${never}`);
        return await finish('inconclusive', { phase: 'patch', reason: `no maintenance window: ${never}` }, null, 'test_system');
      }
      patched = await patchOnce();
    }
    view.leave('patch', patched.ok ? 'passed' : 'failed', patched.reason);
    if (!patched.ok && patched.retracted) {
      // 2602: retracted by its vendor, recorded as such (the item is cancelled by the retraction). Nothing was
      // applied, nothing judged: inconclusive, never the patch's failure.
      touched = false;
      await skipRest(['reboot', 'validate', 'services', 'rollback', 'verify_rollback'], 'the advisory was retracted; nothing was applied');
      return await finish('inconclusive', { phase: 'patch', reason: `retracted: ${patched.reason ?? ''}` }, null, 'unknown');
    }
    if (!patched.ok && patched.outsideWindow) {
      // Only without window support (a history from before it): nothing was scheduled, nothing judged.
      touched = false;
      await skipRest(['reboot', 'validate', 'services', 'rollback', 'verify_rollback'], 'outside the maintenance window; nothing was applied');
      return await finish('inconclusive', { phase: 'patch', reason: patched.reason ?? 'outside the maintenance window' }, null, 'test_system');
    }
    if (!patched.ok && patched.notApplicable) {
      // UYUNI refused it as not applicable to this system now: nothing was applied, nothing judged. Not the
      // patch's failure: inconclusive, re-checked against UYUNI's relevance (untestable if relevant to none).
      touched = false;
      await skipRest(['reboot', 'validate', 'services', 'rollback', 'verify_rollback'], 'UYUNI did not apply the erratum to this system');
      return await finish('inconclusive', { phase: 'patch', reason: `not applicable to ${system.name} now: ${patched.reason ?? ''}` }, null, 'test_system');
    }
    if (!patched.ok) return await rollBack('patch', patched.reason ?? 'the patch failed', 'failed', 'patch');

    if (info.requiresReboot) {
      view.enter('reboot');
      const rebooted = await action.rebootPhase({ testId: info.testId, system, bootBefore, timing: input.timing });
      view.leave('reboot', rebooted.ok ? 'passed' : 'failed', rebooted.reason);
      if (!rebooted.ok) {
        // Nothing can be rolled back on a host that does not answer: keep it out of rotation for an operator.
        const why = rebooted.reason ?? 'did not come back from its reboot';
        await quarantine(`did not come back from the reboot after ${info.advisoryName}: ${why}`);
        await skipRest(['validate', 'services', 'rollback', 'verify_rollback'], 'the host did not come back from its reboot');
        return await finish('failed', { phase: 'reboot', reason: why }, null, 'patch');
      }
    } else {
      await skipRest(['reboot'], 'the patch does not require a reboot');
    }

    view.enter('validate');
    // Let the system settle so the after-metrics show the patched steady state, not the transition.
    await sleep(input.timing.settleSeconds * 1000);
    let validated: PhaseVerdict;
    let noMetrics = false;
    try {
      validated = await metrics.validatePhase({ testId: info.testId, system, baseline, timing: input.timing });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Prometheus down or without data after the retries: never a pass; rolled back, and not blamed on the patch.
      noMetrics = true;
      validated = { ok: false, reason: `no metrics: ${reasonOf(err)}` };
      await store.validateUnavailable({ testId: info.testId, reason: reasonOf(err) });
    }
    view.leave('validate', validated.ok ? 'passed' : 'failed', validated.reason);
    // Too few samples to judge is like no metrics: inconclusive, never blamed on the patch.
    if (validated.unjudged && workflowPatched('validate-nodata-inconclusive')) noMetrics = true;
    if (!validated.ok) {
      return await rollBack('validate', validated.reason ?? 'metrics out of bounds', noMetrics ? 'inconclusive' : 'rolled_back', noMetrics ? 'unknown' : 'patch');
    }

    view.enter('services');
    const services = await host.servicesPhase({ testId: info.testId, system, os: info.targetOs });
    view.leave('services', services.ok ? 'passed' : 'failed', services.reason);
    if (!services.ok) return await rollBack('services', services.reason ?? 'a critical service is down', 'rolled_back', 'patch');

    if (ctx.bundle) {
      // Passed: the next run (a half, a retest, another bundle) must not start on top of these errata. A host
      // the restore leaves dirty or down is quarantined by undoOnSystem; the errata still passed.
      const restored = await undoOnSystem(ctx, system, { reason: 'a bundle run leaves its test system as it found it', deferred: false, bootBefore });
      return await finish('passed', null, restored.ok);
    }
    await skipRest(['rollback', 'verify_rollback'], 'the test passed');
    return await finish('passed', null, null);
  } catch (err) {
    const reason = reasonOf(err);
    const phase: TestPhaseName = view.state.phase === 'done' || view.state.phase === 'approval' ? 'lease' : view.state.phase;
    if (isCancellation(err)) {
      // Cancelled: undo what may have been applied, or hand the item back to the queue.
      await CancellationScope.nonCancellable(async () => {
        if (touched && system) await rollBack(phase, 'the test was cancelled', 'rolled_back', 'unknown');
        else if (ctx.bundle) await finish('inconclusive', { phase, reason: 'the run was cancelled before anything was applied' }, null, 'unknown');
        else await store.requeueUntested({ testId: info.testId, queueId: input.queueId });
      });
      throw err;
    }
    if (touched && system) return await rollBack(phase, reason, 'inconclusive', 'unknown');
    // Nothing was applied: the patch was not tested. A host that does not answer is the test system's fault.
    if (system && failureType(err) === 'SaltNoAnswerError') {
      await quarantine(`did not answer Salt before the test of ${info.advisoryName}: ${reason}`);
      return await finish('inconclusive', { phase, reason: `the test system did not answer: ${reason}` }, null, 'test_system');
    }
    return await finish('inconclusive', { phase, reason }, null, system ? 'unknown' : 'test_system');
  } finally {
    await CancellationScope.nonCancellable(async () => {
      await store.releaseTestSystem();
      // The system is free again: let the next queued item take it.
      if (input.autoDispatch) await wakeDispatcher();
    });
  }
}

/**
 * Undoes the test's patch on a system this workflow holds, and verifies it (the rollback and verify_rollback
 * phases). A host that does not come back from the rollback's reboot, or that the verification finds not
 * restored, is quarantined: the next test must not lease a dirty or dead host.
 */
export async function undoOnSystem(
  ctx: Pick<TestRunContext, 'input' | 'acts' | 'view' | 'info'>,
  system: LeasedSystem,
  opts: { reason: string; deferred: boolean; bootBefore?: number; requestedBy?: string },
): Promise<PhaseVerdict> {
  const { input, view, info } = ctx;
  const { store, host, rollback } = ctx.acts;
  view.enter('rollback');
  let rb: RollbackResult;
  try {
    rb = await rollback.rollbackPhase({
      testId: info.testId, queueId: input.queueId, system, os: info.targetOs, requestedBy: opts.requestedBy ?? input.requestedBy, reason: opts.reason,
      deferred: opts.deferred, timing: input.timing,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    rb = { ok: false, hung: false, rollbackType: 'package', reason: `the rollback could not run: ${reasonOf(err)}` };
    await store.skipPhase({ testId: info.testId, phase: 'rollback', why: rb.reason as string }).catch(() => undefined);
  }
  view.state.rollbackType = rb.rollbackType;
  view.leave('rollback', rb.ok ? 'passed' : 'failed', rb.reason);
  if (!rb.ok) {
    await store.skipPhase({ testId: info.testId, phase: 'verify_rollback', why: 'the rollback itself failed' });
    view.leave('verify_rollback', 'skipped');
    await store.quarantineTestSystem({
      systemId: system.systemId,
      reason: rb.hung ? `did not come back from the rollback reboot of ${info.advisoryName}` : `rollback of ${info.advisoryName} failed: ${rb.reason}`,
    });
    return { ok: false, reason: rb.reason ?? 'the rollback failed' };
  }
  view.enter('verify_rollback');
  const verified = await host.verifyRollbackPhase({ testId: info.testId, system, os: info.targetOs, deferred: opts.deferred });
  view.leave('verify_rollback', verified.ok ? 'passed' : 'failed', verified.reason);
  if (!verified.ok) {
    await store.quarantineTestSystem({ systemId: system.systemId, reason: `not restored after the rollback of ${info.advisoryName}: ${verified.reason}` });
    return { ok: false, reason: `the rollback was not verified: ${verified.reason}` };
  }
  return { ok: true };
}

/**
 * A passed patch that will not be deployed (rejected, expired, or rolled back by hand) is undone on the test
 * system it was tested on — leased again for that, waiting while another test holds it — so the system ends
 * clean. A quarantined system is left to its operator (nothing is undone on a host nobody trusts).
 */
export async function undoPassedPatch(ctx: Pick<TestRunContext, 'input' | 'acts' | 'view' | 'info'>, opts: { reason: string; requestedBy?: string }): Promise<PhaseVerdict> {
  const { store } = ctx.acts;
  try {
    for (;;) {
      const lease = await store.leaseSystemOfTest({ testId: ctx.info.testId });
      if (lease.state === 'leased') return await undoOnSystem(ctx, lease.system, { ...opts, deferred: true });
      if (lease.state === 'quarantined') {
        const why = `the test system is quarantined (${lease.reason}); an operator must restore it`;
        await store.skipPhase({ testId: ctx.info.testId, phase: 'rollback', why });
        return { ok: false, reason: why };
      }
      await sleep(ctx.input.timing.leaseWaitSeconds * 1000);
    }
  } finally {
    await CancellationScope.nonCancellable(() => store.releaseTestSystem());
  }
}
