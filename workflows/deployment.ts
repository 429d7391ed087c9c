import { condition, patched, proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { failureBudgetExceeded } from '../domain/failure-budget.js';
import { legacyRollout } from './deployment-legacy.js';
import { productionWave } from './deployment-wave.js';
import { VerdictPause } from './verdict-pause.js';
import { deploymentStatusQuery, haltSignal, SA, workflowIds, type DeploymentInput, type DeploymentResult, type DeploymentView } from './messages.js';

/**
 * Rolls an approved patch out to production (id deploy-<queueId>, a child of patchTest): the plan (canary
 * covering every production group, waves interleaving the groups, batches of deploy.batch_size), then each
 * wave as a child workflow (productionWave, deploy-<queueId>.wave-<n>: one UYUNI action per batch), a soak
 * after the canary, the wave verdict when deploy.verdict is on. This history keeps per-wave summaries only, so
 * it stays small at 10,000 systems. The rollout halts when failures exceed the budget (count or percent), on
 * a `fail` verdict or on the halt signal, leaving the systems not reached untouched (`skipped`).
 */
export async function productionDeployment(input: DeploymentInput): Promise<DeploymentResult> {
  // Rollouts started before batches existed finish on their own code (README, replay section).
  if (!patched('deploy-fleet-batches')) return legacyRollout(input);
  const t = input.timing;
  const store = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: { initialInterval: '1 second', maximumAttempts: 10 } });
  const rolloutId = workflowInfo().workflowId;
  // Rollouts started before the statistical judge: soak after the canary only, every wave judged, halt on `fail`.
  const judgeV2 = patched('deploy-wave-verdict-judge');
  // Registers the verdictDecide Update: a rollout paused by a marginal wave verdict waits for a person.
  const verdictPause = new VerdictPause(store, rolloutId);
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
  let current: ChildWorkflowHandle<typeof productionWave> | null = null;
  const forwardHalt = (by: string, reason: string) => {
    // The wave in flight stops starting batches too; one already finished has nothing to stop.
    if (current) void current.signal(haltSignal, { by, reason }).catch(() => undefined);
  };
  setHandler(deploymentStatusQuery, () => (verdictPause.view ? { ...view, verdictPause: verdictPause.view } : view));
  setHandler(haltSignal, ({ by, reason }) => {
    view.haltReason ??= `halted by ${by}: ${reason}`;
    forwardHalt(by, reason);
  });

  const members = input.members ?? [];
  const plan = await store.planRollout({
    queueId: input.queueId, advisoryName: input.advisoryName, targetOs: input.targetOs, policy: input.policy,
    ...(members.length ? { members, errataId: input.errataId, requiresReboot: input.requiresReboot } : { errataId: input.errataId, requiresReboot: input.requiresReboot }),
  });
  view.targets = plan.targets;
  view.waves = plan.waves.map((w) => ({ wave: w.wave, systems: w.systems, batches: w.batches, groups: w.groups, state: 'pending', applied: 0, failed: 0 }));
  view.status = 'promoting';
  upsertSearchAttributes([{ key: SA.patchStatus, value: 'promoting' }]);

  /** The soak and verdict of rollouts started before the statistical judge, as they ran then. */
  async function legacySoakAndVerdict(wave: DeploymentView['waves'][number], started: number): Promise<void> {
    if (wave.wave === 0 && view.waves.length > 1 && input.policy.soakSeconds > 0) {
      await condition(() => view.haltReason !== null, input.policy.soakSeconds * 1000);
    }
    if (input.policy.verdict && !view.haltReason) {
      const groups = await store.waveVerdictInputs({ rolloutId, wave: wave.wave });
      wave.verdicts = [];
      for (const g of groups) {
        const v = await store.judgeWave({
          deploymentId: input.queueId, wave: wave.wave, group: g.group, patchedSystemIds: g.patchedSystemIds, peerSystemIds: g.peerSystemIds,
          from: new Date(Math.min(Date.parse(g.from), started)).toISOString(), to: new Date(Date.now()).toISOString(),
        });
        wave.verdicts.push({ group: g.group, ...v });
        if (v.verdict === 'fail') view.haltReason ??= `wave ${wave.wave} verdict: ${g.group} fails (${v.reason})`;
      }
    }
  }

  const overBudget = () =>
    failureBudgetExceeded(view.failed, plan.targets, { count: input.policy.failureBudgetCount, percent: input.policy.failureBudgetPercent });

  for (const wave of view.waves) {
    if (view.haltReason) break;
    wave.state = 'running';
    const started = Date.now();
    const child = await startChild(productionWave, {
      workflowId: workflowIds.deploymentWave(input.queueId, wave.wave),
      args: [{
        rolloutId, queueId: input.queueId, wave: wave.wave, errataId: input.errataId, advisoryName: input.advisoryName,
        requiresReboot: input.requiresReboot, os: input.targetOs, timing: t,
      }],
    });
    current = child;
    if (view.haltReason) forwardHalt('rollout', view.haltReason); // a halt that came while the child started
    const summary = await child.result();
    current = null;
    wave.state = 'done';
    wave.applied = summary.applied;
    wave.failed = summary.failed;
    view.applied += summary.applied;
    view.failed += summary.failed;
    view.budget.used = view.failed;
    if (overBudget()) {
      view.budget.exceeded = true;
      view.haltReason ??= `failure budget exceeded: ${view.failed} of ${plan.targets} systems failed (budget ${input.policy.failureBudgetCount} or ${input.policy.failureBudgetPercent} %)`;
      break;
    }
    const last = wave === view.waves[view.waves.length - 1];
    if (!judgeV2) {
      await legacySoakAndVerdict(wave, started);
      continue;
    }
    // A soak, watching for a halt: after the canary, and with the verdict on after every wave but the last
    // (the verdict needs a window of the patched systems next to peers still unpatched).
    if (!last && input.policy.soakSeconds > 0 && (wave.wave === 0 || input.policy.verdict)) {
      await condition(() => view.haltReason !== null, input.policy.soakSeconds * 1000);
    }
    // The wave verdict (deploy.verdict): per group, its patched systems against its unpatched peers over the
    // soak, each side as changes from its own level before the wave. The last wave is not judged: no unpatched
    // peer is left to compare with, and nothing is left to halt.
    if (input.policy.verdict && !view.haltReason && !last) {
      const groups = await store.waveVerdictInputs({ rolloutId, wave: wave.wave });
      wave.verdicts = [];
      // Every group is judged (and recorded) even after one fails: the person reading the halt sees them all.
      for (const g of groups) {
        const to = Date.now();
        // From when the group's last system was patched (and its CPU rate settled); a soak shorter than that
        // leaves a window of a second: too few samples, so nodata under verdict.nodata_policy, never a pass.
        const from = Math.min(Date.parse(g.settledAt), to - 1000);
        const baselineTo = Math.min(Date.parse(g.from), started);
        const v = await store.judgeWave({
          deploymentId: input.queueId, wave: wave.wave, group: g.group, patchedSystemIds: g.patchedSystemIds, peerSystemIds: g.peerSystemIds,
          from: new Date(from).toISOString(), to: new Date(to).toISOString(),
          baselineFrom: new Date(baselineTo - Math.max(to - from, 10_000)).toISOString(), baselineTo: new Date(baselineTo).toISOString(),
        });
        const entry: NonNullable<typeof wave.verdicts>[number] = { group: g.group, ...v };
        wave.verdicts.push(entry);
        if (v.decision === 'halt') view.haltReason ??= `wave ${wave.wave} verdict: ${g.group} ${v.verdict} (${v.reason})`;
        if (v.decision === 'pause' && !view.haltReason) {
          // Marginal (or no data under policy marginal): a person decides, recorded before it takes effect;
          // reminders meanwhile. A halt signal ends the wait too.
          const d = await verdictPause.pause({
            verdictId: v.verdictId, queueId: input.queueId, reminderSeconds: input.policy.verdictReminderSeconds ?? 4 * 3600,
            stop: () => view.haltReason !== null,
          });
          if (d) {
            entry.personDecided = d.decision;
            if (d.decision === 'halt') view.haltReason ??= `wave ${wave.wave} verdict: ${g.group} ${v.verdict}, halted by ${d.by}${d.reason ? ` (${d.reason})` : ''}`;
          }
        }
      }
    }
  }
  for (const wave of view.waves) if (wave.state === 'pending') wave.state = 'skipped';

  const status = view.haltReason ? 'halted' : 'completed';
  const skipped = await store.finishDeployment({
    queueId: input.queueId, status, haltReason: view.haltReason, budgetExceeded: view.budget.exceeded, ...(members.length ? { members: members.map((m) => m.queueId) } : {}),
  });
  view.status = status;
  upsertSearchAttributes([{ key: SA.patchStatus, value: status }]);
  return { status, targets: plan.targets, applied: view.applied, failed: view.failed, skipped, haltReason: view.haltReason };
}
