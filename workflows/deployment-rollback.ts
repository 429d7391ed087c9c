import { getExternalWorkflowHandle, patched, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { BatchRollbackResult } from '../activities/deploy/batch-rollback.js';
import { chunk } from '../domain/chunks.js';
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
 * exactly the systems UYUNI patched, each verified. Batched (since deploy-rollback-batches): one activity per
 * batch of the rollout (activities/deploy/batch-rollback.ts: one Salt job per batch, not per system), a few
 * batches at a time, so a rollback of 10,000 systems keeps a few hundred events; rollbacks started before
 * finish on the per-system path.
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

  if (patched('deploy-rollback-batches')) return batchedRollback(input, store);
  const systems = await store.patchedSystems({ queueId: input.queueId });
  const results = await Promise.all(
    systems.targets.map(async (target) => {
      const r = await host
        .rollbackProductionSystem({ queueId: input.queueId, target, requestedBy: input.requestedBy, reason: input.reason, os: systems.os, timing: input.timing })
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

/** Batches rolled back at once: each is one Salt job of up to deploy.batch_size systems. */
const BATCHES_AT_ONCE = 10;
/** Failures named in the result and the queue item's reason (all of them are in patch_rollbacks). */
const NAMED_FAILURES = 50;

type Acts = ReturnType<typeof proxyActivities<Activities>>;

async function batchedRollback(input: DeploymentRollbackInput, store: Acts): Promise<{ rolledBack: number; failed: number; errors: string[] }> {
  const t = input.timing;
  // A batch: its kernel-path systems 25 at a time (each a downgrade, a reboot, a check), then one job for the rest.
  const host = proxyActivities<Activities>({
    startToCloseTimeout: `${5 * (t.actionTimeoutSeconds * 2 + t.rebootTimeoutSeconds + 120)} seconds`,
    heartbeatTimeout: `${Math.max(5, Math.ceil(t.pollSeconds * 4))} seconds`,
    retry: { initialInterval: '2 seconds', maximumAttempts: 6 },
  });
  const plan = await store.rollbackBatches({ queueId: input.queueId });
  let rolledBack = 0;
  let failed = 0;
  const named: { system: string; error: string }[] = [];
  for (const part of chunk(plan.batches, BATCHES_AT_ONCE)) {
    const results = await Promise.all(
      part.map((b) =>
        host
          .rollbackProductionBatch({ queueId: input.queueId, wave: b.wave, batch: b.batch, requestedBy: input.requestedBy, reason: input.reason, os: plan.os, timing: input.timing })
          // The whole batch's activity gave up: none of its systems is known restored, so all count as failed.
          .catch((err: unknown): BatchRollbackResult & { unknown?: number } => ({
            rolledBack: 0, unknown: b.systems,
            failures: [{ system: `wave ${b.wave} batch ${b.batch} (${b.systems} systems)`, error: `the rollback could not run: ${err instanceof Error ? err.message : String(err)}` }],
          })),
      ),
    );
    for (const r of results) {
      rolledBack += r.rolledBack;
      failed += 'unknown' in r && r.unknown !== undefined ? r.unknown : r.failures.length;
      for (const f of r.failures) if (named.length < NAMED_FAILURES) named.push(f);
    }
  }
  // prod_rolled_back only when every system was restored and verified.
  await store.finishDeploymentRollback({ queueId: input.queueId, failures: named, failedCount: failed });
  upsertSearchAttributes([{ key: SA.patchStatus, value: failed ? 'prod_rollback_failed' : 'prod_rolled_back' }]);
  const errors = named.map((f) => `${f.system}: ${f.error}`);
  if (failed > named.length) errors.push(`… and ${failed - named.length} more (patch_rollbacks has each)`);
  return { rolledBack, failed, errors };
}
