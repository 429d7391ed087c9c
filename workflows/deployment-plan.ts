import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RolloutPlanSummary } from '../activities/deploy/batch-activities.js';
import type { DeploymentPlanPolicy } from './messages.js';

export interface DeploymentPlanInput {
  queueId: number;
  advisoryName: string;
  errataId: number;
  targetOs: string;
  requiresReboot: boolean;
  policy: DeploymentPlanPolicy;
}

/**
 * A dry run (id deploy-plan-<queueId>, POST /api/v1/deployments?dry_run=true): the rollout's plan computed
 * from UYUNI and stored (deployment_plans), nothing scheduled, no status changed. Run again, it replaces the
 * stored plan with the same rows for the same fleet.
 */
export async function deploymentPlan(input: DeploymentPlanInput): Promise<RolloutPlanSummary> {
  const store = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: { initialInterval: '1 second', maximumAttempts: 5 } });
  return store.planRollout({
    queueId: input.queueId, advisoryName: input.advisoryName, targetOs: input.targetOs, policy: input.policy,
    errataId: input.errataId, requiresReboot: input.requiresReboot, dryRun: true,
  });
}
