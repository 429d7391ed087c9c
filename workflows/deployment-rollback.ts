import { getExternalWorkflowHandle, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { haltSignal, SA, workflowIds, type TestTiming } from './messages.js';

export interface DeploymentRollbackInput {
  queueId: number;
  requestedBy: string;
  reason: string;
  /** The operator_actions record of the request (written before this workflow started). */
  requestId?: string;
  timing: TestTiming;
}

/**
 * Rolls a production deployment back, during or after the rollout (id deploy-rollback-<queueId>): halts the
 * rollout if it still runs, waits for its wave to finish, then restores the versions from before the patch on
 * exactly the systems UYUNI patched, each verified.
 */
export async function deploymentRollback(input: DeploymentRollbackInput): Promise<{ rolledBack: number; failed: number; errors: string[] }> {
  const store = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10 } });
  const host = proxyActivities<Activities>({
    startToCloseTimeout: `${input.timing.actionTimeoutSeconds * 2 + input.timing.rebootTimeoutSeconds + 120} seconds`,
    heartbeatTimeout: `${Math.max(5, Math.ceil(input.timing.pollSeconds * 4))} seconds`,
    retry: { initialInterval: '2 seconds', maximumAttempts: 6 },
  });
  await getExternalWorkflowHandle(workflowIds.deployment(input.queueId))
    .signal(haltSignal, { by: input.requestedBy, reason: `rollback: ${input.reason}` })
    .catch(() => undefined); // already finished
  while (await store.deploymentRunning({ queueId: input.queueId })) await sleep(1_000);

  const patched = await store.patchedSystems({ queueId: input.queueId });
  const results = await Promise.all(
    patched.targets.map(async (target) => {
      const r = await host
        .rollbackProductionSystem({ queueId: input.queueId, target, requestedBy: input.requestedBy, reason: input.reason, os: patched.os, timing: input.timing })
        .catch((err: unknown) => ({ ok: false, error: `the rollback could not run: ${err instanceof Error ? err.message : String(err)}` }));
      return { system: target.name, ...r };
    }),
  );
  const failures = results.filter((r) => !r.ok).map((r) => ({ system: r.system, error: r.error ?? 'unknown' }));
  // prod_rolled_back only when every system was restored and verified.
  await store.finishDeploymentRollback({ queueId: input.queueId, failures });
  upsertSearchAttributes([{ key: SA.patchStatus, value: failures.length ? 'prod_rollback_failed' : 'prod_rolled_back' }]);
  return { rolledBack: results.length - failures.length, failed: failures.length, errors: failures.map((f) => `${f.system}: ${f.error}`) };
}
