import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  executeChild,
  ParentClosePolicy,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { LeasedSystem, MetricsReading, PhaseVerdict } from '../activities/test/test-activities.js';
import {
  approveSignal,
  decideUpdate,
  deployUpdate,
  rejectSignal,
  rolledBackSignal,
  SA,
  snoozeSignal,
  testStatusQuery,
  type ApprovalPolicy,
  type Decision,
  type DecisionInput,
  type DecisionResult,
  type DeploymentPlanPolicy,
  workflowIds,
  type PatchTestInput,
  type PhaseView,
  type TestPhaseName,
  type TestResult,
  type TestStatusView,
} from './messages.js';

const productionDeploymentType = 'productionDeployment';

const PHASES: TestPhaseName[] = ['lease', 'snapshot', 'patch', 'reboot', 'validate', 'services', 'rollback', 'verify_rollback'];

const seconds = (n: number) => `${Math.ceil(n)} seconds`;

function activitiesFor(t: PatchTestInput['timing']) {
  const heartbeatTimeout = seconds(Math.max(5, t.pollSeconds * 4));
  return {
    store: proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
    }),
    host: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.metricsRangeSeconds + 120),
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 },
    }),
    action: proxyActivities<Activities>({
      startToCloseTimeout: seconds(Math.max(t.actionTimeoutSeconds, t.rebootTimeoutSeconds * 2) + 120),
      heartbeatTimeout,
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 },
    }),
    metrics: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.metricsRangeSeconds + 60),
      retry: { initialInterval: '2 seconds', maximumInterval: '10 seconds', maximumAttempts: 4 },
    }),
  };
}

const reasonOf = (err: unknown): string =>
  err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);

/**
 * Tests one queued patch on a leased test system: snapshot → patch → reboot (when required) → validate →
 * services → passed, or rollback by the seed's rule and a verification of it. Id: patch-test-<queueId>.
 */
export async function patchTest(input: PatchTestInput): Promise<TestResult> {
  const { store, host, action, metrics } = activitiesFor(input.timing);
  const view: TestStatusView = {
    queueId: input.queueId,
    testId: null,
    advisoryName: null,
    targetOs: null,
    status: 'testing',
    phase: 'lease',
    testSystem: null,
    waitingForSystem: false,
    rollbackType: null,
    failure: null,
    phases: PHASES.map((phase): PhaseView => ({ phase, state: 'pending' })),
    approval: null,
  };
  setHandler(testStatusQuery, () => view);

  // --- approval: a person's decision arrives as an Update (the API: refused unless waiting) or a signal
  // (`temporal workflow signal`: ignored unless waiting); both are recorded the same way.
  let approvalOpen = false;
  let decided: (DecisionInput & { decision: Decision }) | null = null;
  let snoozedUntil: number | null = null;
  let rolledBack: { by: string; reason: string } | null = null;
  let decisions = 0;
  const refusal = (d: DecisionInput & { decision: Decision }): string | null => {
    if (!approvalOpen) return `queue item ${input.queueId} is not waiting for a decision (it is ${view.status})`;
    if (!d.by) return 'a decision needs `by`';
    if (d.decision === 'snooze') {
      const until = Date.parse(d.until ?? '');
      if (!Number.isFinite(until) || until <= Date.now()) return 'a snooze needs `until`, a time in the future';
    }
    return null;
  };
  const applyDecision = async (d: DecisionInput & { decision: Decision }, source: 'api' | 'cli' | 'dashboard'): Promise<DecisionResult> => {
    // The state changes before the first await, so a second decision in the same task already sees it.
    if (d.decision === 'snooze') snoozedUntil = Date.parse(d.until as string);
    else {
      decided = d;
      approvalOpen = false;
    }
    const approvalId = await store.recordDecision({
      testId: view.testId as number, queueId: input.queueId, workflowId: workflowInfo().workflowId, decision: d.decision, by: d.by,
      reason: d.reason ?? null, until: d.decision === 'snooze' ? new Date(snoozedUntil as number).toISOString() : null,
      requestId: d.requestId ?? `${workflowInfo().workflowId}/${workflowInfo().runId}/decision-${++decisions}`, source,
    });
    const status = d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'snoozed';
    if (view.approval) Object.assign(view.approval, { decision: d.decision, decidedBy: d.by, snoozedUntil: d.decision === 'snooze' ? d.until : null });
    return { decision: d.decision, status, approvalId };
  };
  setHandler(decideUpdate, (d) => applyDecision(d, d.source ?? 'api'), {
    validator: (d) => {
      const why = refusal(d);
      if (why) throw new Error(why);
    },
  });
  for (const [signal, decision] of [[approveSignal, 'approve'], [rejectSignal, 'reject'], [snoozeSignal, 'snooze']] as const) {
    setHandler(signal, async (d) => {
      if (refusal({ ...d, decision })) return;
      await applyDecision({ ...d, decision }, d.source ?? 'cli');
    });
  }
  // After approval, POST /api/v1/deployments starts the production rollout (the validator answers 409 otherwise).
  let deployment: { by: string; policy: DeploymentPlanPolicy } | null = null;
  setHandler(deployUpdate, (d) => {
    deployment = d;
    return { workflowId: workflowIds.deployment(input.queueId) };
  }, {
    validator: (_d) => {
      if (view.status !== 'approved' || deployment) throw new Error(`queue item ${input.queueId} is ${view.status}${deployment ? ' and already deploying' : ''}, not approved`);
    },
  });
  setHandler(rolledBackSignal, (s) => {
    rolledBack = s;
    approvalOpen = false;
  });

  const phaseView = (p: TestPhaseName) => view.phases.find((x) => x.phase === p) as PhaseView;
  const enter = (p: TestPhaseName) => {
    view.phase = p;
    Object.assign(phaseView(p), { state: 'running', startedAt: new Date().toISOString() });
    upsertSearchAttributes([{ key: SA.testPhase, value: p }]);
  };
  const leave = (p: TestPhaseName, state: PhaseView['state'], summary?: string) =>
    Object.assign(phaseView(p), { state, completedAt: new Date().toISOString(), ...(summary ? { summary } : {}) });
  const setStatus = (status: TestStatusView['status']) => {
    view.status = status;
    upsertSearchAttributes([{ key: SA.patchStatus, value: status }]);
  };

  const info = await store.beginTest({ queueId: input.queueId });
  Object.assign(view, { testId: info.testId, advisoryName: info.advisoryName, targetOs: info.targetOs });
  upsertSearchAttributes([
    { key: SA.queueId, value: input.queueId },
    { key: SA.advisoryName, value: info.advisoryName },
    { key: SA.targetOs, value: info.targetOs },
    { key: SA.patchStatus, value: 'testing' },
  ]);

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
    setStatus(status);
    view.phase = 'done';
    view.failure = failure;
    return { testId: info.testId, status, failure, rollbackType: view.rollbackType, rollbackVerified };
  };

  const rollBack = async (phase: TestPhaseName, reason: string): Promise<TestResult> => {
    view.failure = { phase, reason };
    const leased = system as LeasedSystem;
    enter('rollback');
    const rb = await action.rollbackPhase({
      testId: info.testId, queueId: input.queueId, system: leased, requestedBy: input.requestedBy, reason, bootBefore,
      timing: input.timing,
    });
    view.rollbackType = rb.rollbackType;
    leave('rollback', rb.ok ? 'passed' : 'failed', rb.reason);
    let verified: PhaseVerdict = { ok: false, reason: 'rollback failed' };
    if (rb.ok) {
      enter('verify_rollback');
      verified = await host.verifyRollbackPhase({ testId: info.testId, system: leased, os: info.targetOs });
      leave('verify_rollback', verified.ok ? 'passed' : 'failed', verified.reason);
    } else {
      await store.skipPhase({ testId: info.testId, phase: 'verify_rollback', why: 'the rollback itself failed' });
      leave('verify_rollback', 'skipped');
    }
    // A patch UYUNI failed to apply changed nothing to undo: the test failed, the rollback only proved it.
    const status = rb.ok && verified.ok && phase !== 'patch' ? 'rolled_back' : 'failed';
    return finish(status, { phase, reason }, rb.ok ? verified.ok : false);
  };

  const skipRest = async (phases: ('reboot' | 'validate' | 'services' | 'rollback' | 'verify_rollback')[], why: string) => {
    for (const phase of phases) {
      await store.skipPhase({ testId: info.testId, phase, why });
      leave(phase, 'skipped');
    }
  };

  /** After a pass: pending approval with reminders, snoozes and an expiry, until a person decides. */
  const awaitDecision = async (policy: ApprovalPolicy, passed: TestResult): Promise<TestResult> => {
    await store.openApproval({ testId: info.testId, queueId: input.queueId });
    view.phase = 'approval';
    view.approval = { waiting: true, since: new Date().toISOString(), snoozedUntil: null, reminders: 0, decision: null, decidedBy: null };
    setStatus('pending_approval');
    approvalOpen = true;
    const deadline = Date.now() + policy.expirySeconds * 1000;
    while (!decided && !rolledBack) {
      const now = Date.now();
      if (now >= deadline) {
        approvalOpen = false;
        await store.expireApproval({ testId: info.testId, queueId: input.queueId, workflowId: workflowInfo().workflowId });
        Object.assign(view.approval, { waiting: false, decision: 'expire', decidedBy: 'system' });
        setStatus('expired');
        return { ...passed, status: 'expired' };
      }
      const until = snoozedUntil;
      if (until !== null) {
        if (view.status !== 'snoozed') setStatus('snoozed');
        const woke = await condition(() => decided !== null || rolledBack !== null || snoozedUntil !== until, Math.max(1, Math.min(until, deadline) - now));
        if (!woke && snoozedUntil === until && Date.now() >= until) {
          snoozedUntil = null;
          view.approval.snoozedUntil = null;
          view.approval.reminders++;
          await store.endSnooze({ testId: info.testId, queueId: input.queueId });
          setStatus('pending_approval');
        }
        continue;
      }
      const woke = await condition(() => decided !== null || rolledBack !== null || snoozedUntil !== null, Math.max(1, Math.min(policy.reminderSeconds * 1000, deadline - now)));
      if (!woke && Date.now() < deadline) {
        view.approval.reminders++;
        await store.remindApproval({ testId: info.testId, queueId: input.queueId, reminder: view.approval.reminders });
      }
    }
    approvalOpen = false;
    view.approval.waiting = false;
    await condition(allHandlersFinished);
    view.phase = 'done';
    if (rolledBack) {
      setStatus('rolled_back');
      return { ...passed, status: 'rolled_back' };
    }
    const status = (decided as DecisionInput & { decision: Decision }).decision === 'approve' ? 'approved' : 'rejected';
    setStatus(status);
    if (status === 'rejected') return { ...passed, status };
    // Approved: wait for the rollout to be started (or the item to be rolled back), then run it as a child.
    await condition(() => deployment !== null || rolledBack !== null);
    if (!deployment) {
      setStatus('rolled_back');
      return { ...passed, status: 'rolled_back' };
    }
    const go = deployment as { by: string; policy: DeploymentPlanPolicy };
    const rollout = await executeChild(productionDeploymentType, {
      workflowId: workflowIds.deployment(input.queueId),
      args: [{
        queueId: input.queueId, advisoryName: info.advisoryName, errataId: info.uyuniErrataId, targetOs: info.targetOs,
        requiresReboot: info.requiresReboot, requestedBy: go.by, policy: go.policy, timing: input.timing,
      }],
      // A rollout in progress must not die with its parent.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { ...passed, status: 'approved', deployment: rollout };
  };

  try {
    // lease: wait for a free test system of the OS (never two tests on one system)
    enter('lease');
    for (;;) {
      system = await store.acquireTestSystem({ testId: info.testId, os: info.targetOs, candidates: info.candidateSystems });
      if (system) break;
      if (!view.waitingForSystem) await store.waitingForTestSystem({ testId: info.testId, os: info.targetOs });
      view.waitingForSystem = true;
      await sleep(input.timing.leaseWaitSeconds * 1000);
    }
    view.waitingForSystem = false;
    view.testSystem = { id: system.systemId, name: system.name };
    upsertSearchAttributes([{ key: SA.testSystem, value: system.name }]);
    leave('lease', 'passed', system.name);

    enter('snapshot');
    const snap = await host.snapshotPhase({
      testId: info.testId, system, advisoryName: info.advisoryName, packageNames: info.packageNames, timing: input.timing,
    });
    bootBefore = snap.bootTime;
    const baseline: MetricsReading = snap.baseline;
    leave('snapshot', 'passed', `${snap.snapshotType}${snap.snapshotId ? ` #${snap.snapshotId}` : ''}`);

    enter('patch');
    touched = true;
    const patched = await action.patchPhase({
      testId: info.testId, systemId: system.systemId, errataId: info.uyuniErrataId, advisoryName: info.advisoryName, timing: input.timing,
    });
    leave('patch', patched.ok ? 'passed' : 'failed', patched.reason);
    if (!patched.ok) return await rollBack('patch', patched.reason ?? 'the patch failed');

    if (info.requiresReboot) {
      enter('reboot');
      const rebooted = await action.rebootPhase({ testId: info.testId, system, bootBefore, timing: input.timing });
      leave('reboot', rebooted.ok ? 'passed' : 'failed', rebooted.reason);
      if (!rebooted.ok) {
        // Nothing can be rolled back on a host that does not answer: keep it out of rotation for an operator.
        await store.quarantineTestSystem({ systemId: system.systemId, reason: rebooted.reason ?? 'did not come back from reboot' });
        await skipRest(['validate', 'services', 'rollback', 'verify_rollback'], 'the host did not come back from its reboot');
        return await finish('failed', { phase: 'reboot', reason: rebooted.reason ?? 'did not come back from reboot' }, null);
      }
    } else {
      await skipRest(['reboot'], 'the patch does not require a reboot');
    }

    enter('validate');
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
    leave('validate', validated.ok ? 'passed' : 'failed', validated.reason);
    if (!validated.ok) return await rollBack('validate', validated.reason ?? 'metrics out of bounds');

    enter('services');
    const services = await host.servicesPhase({ testId: info.testId, system, os: info.targetOs });
    leave('services', services.ok ? 'passed' : 'failed', services.reason);
    if (!services.ok) return await rollBack('services', services.reason ?? 'a critical service is down');

    await skipRest(['rollback', 'verify_rollback'], 'the test passed');
    const passed = await finish('passed', null, null);
    if (!input.approval) return passed;
    // The decision may take days: the test system goes back to the pool meanwhile.
    await store.releaseTestSystem();
    if (input.autoDispatch) await store.dispatchQueuedTests();
    return await awaitDecision(input.approval, passed);
  } catch (err) {
    const reason = reasonOf(err);
    if (view.phase === 'approval') {
      // Cancelled or broken while waiting for a person: the item expires (its record says why).
      await CancellationScope.nonCancellable(() =>
        store.expireApproval({ testId: info.testId, queueId: input.queueId, workflowId: workflowInfo().workflowId }),
      );
      throw err;
    }
    const phase: TestPhaseName = view.phase === 'done' ? 'lease' : view.phase;
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
