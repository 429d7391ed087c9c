import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
// The rollout as it ran before batches (one activity per system, a wave at once): kept so rollouts started by
// an older worker finish on the code they started with (productionDeployment takes this path when its history
// has no 'deploy-fleet-batches' marker). Delete with deprecatePatch once no such rollout is open (README,
// replay section).
import type { Activities } from '../activities/index.js';
import { failureBudgetExceeded } from '../domain/failure-budget.js';
import type { DeployTarget, SystemOutcome } from '../activities/deploy/deploy-activities.js';
import { deploymentStatusQuery, haltSignal, SA, type DeploymentInput, type DeploymentResult, type DeploymentView } from './messages.js';

/** The pre-batch rollout (see the file's head): canary, soak, waves of one activity per system. */
export async function legacyRollout(input: DeploymentInput): Promise<DeploymentResult> {
  const t = input.timing;
  const store = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { initialInterval: '1 second', maximumAttempts: 10 } });
  const host = proxyActivities<Activities>({
    startToCloseTimeout: `${t.actionTimeoutSeconds + t.rebootTimeoutSeconds + 120} seconds`,
    heartbeatTimeout: `${Math.max(5, Math.ceil(t.pollSeconds * 4))} seconds`,
    retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 },
  });
  const view: DeploymentView = {
    queueId: input.queueId,
    status: 'planning',
    targets: 0,
    waves: [],
    applied: 0,
    failed: 0,
    budget: { count: input.policy.failureBudgetCount, percent: input.policy.failureBudgetPercent, used: 0, exceeded: false },
    haltReason: null,
  };
  setHandler(deploymentStatusQuery, () => view);
  setHandler(haltSignal, ({ by, reason }) => {
    view.haltReason ??= `halted by ${by}: ${reason}`;
  });

  const members = input.members ?? [];
  const targets: DeployTarget[] = await store.planDeployment({
    queueId: input.queueId, advisoryName: input.advisoryName, targetOs: input.targetOs, policy: input.policy,
    ...(members.length ? { members, errataId: input.errataId, requiresReboot: input.requiresReboot } : {}),
  });
  view.targets = targets.length;
  const waveNumbers = [...new Set(targets.map((x) => x.wave))].sort((a, b) => a - b);
  view.waves = waveNumbers.map((wave) => ({ wave, systems: targets.filter((x) => x.wave === wave).length, state: 'pending' }));
  view.status = 'promoting';
  upsertSearchAttributes([{ key: SA.patchStatus, value: 'promoting' }]);

  const overBudget = () =>
    failureBudgetExceeded(view.failed, targets.length, { count: input.policy.failureBudgetCount, percent: input.policy.failureBudgetPercent });

  for (const wave of view.waves) {
    if (view.haltReason) break;
    wave.state = 'running';
    const outcomes: SystemOutcome[] = await Promise.all(
      targets
        .filter((x) => x.wave === wave.wave)
        .map((target) =>
          host.deploySystem({
            queueId: input.queueId, target, errataId: input.errataId, advisoryName: input.advisoryName, requiresReboot: input.requiresReboot,
            os: input.targetOs, timing: t,
          }),
        ),
    );
    wave.state = 'done';
    view.applied += outcomes.filter((o) => o.status === 'applied').length;
    view.failed += outcomes.filter((o) => o.status === 'failed').length;
    view.budget.used = view.failed;
    if (overBudget()) {
      view.budget.exceeded = true;
      view.haltReason ??= `failure budget exceeded: ${view.failed} of ${targets.length} systems failed (budget ${input.policy.failureBudgetCount} or ${input.policy.failureBudgetPercent} %)`;
      break;
    }
    // After the canary: soak, watching for a halt.
    if (wave.wave === 0 && view.waves.length > 1 && input.policy.soakSeconds > 0) {
      await condition(() => view.haltReason !== null, input.policy.soakSeconds * 1000);
    }
  }
  for (const wave of view.waves) if (wave.state === 'pending') wave.state = 'skipped';

  const status = view.haltReason ? 'halted' : 'completed';
  const skipped = await store.finishDeployment({
    queueId: input.queueId, status, haltReason: view.haltReason, budgetExceeded: view.budget.exceeded, ...(members.length ? { members: members.map((m) => m.queueId) } : {}),
  });
  view.status = status;
  upsertSearchAttributes([{ key: SA.patchStatus, value: status }]);
  return { status, targets: targets.length, applied: view.applied, failed: view.failed, skipped, haltReason: view.haltReason };
}
