import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connection.js';
import { claimTest, recordLeaseRun, whyNoTest, type TestClaim } from '../db/queries/dispatch.js';
import type { patchTest } from '../workflows/index.js';
import type { SearchAttributePair } from '@temporalio/common';
import { SA, workflowIds, type ApprovalPolicy, type PatchStatusValue, type PatchTestInput, type TestTiming } from '../workflows/messages.js';

export function testTiming(config: Readonly<Config>, overrides: Partial<TestTiming> = {}): TestTiming {
  const { autoDispatch: _, ...timing } = config.test;
  return { ...timing, ...overrides };
}

/**
 * Starts patchTest for a queue item (id patch-test-<queueId>, so one test per item at a time). Returns null
 * when that workflow is already running.
 */
export async function startPatchTest(
  client: Client,
  config: Readonly<Config>,
  queueId: number,
  requestedBy: string,
  approval: ApprovalPolicy | undefined,
  timing: TestTiming = testTiming(config),
) {
  const input: PatchTestInput = { queueId, requestedBy, timing, autoDispatch: config.test.autoDispatch, ...(approval ? { approval } : {}) };
  try {
    return await client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: config.temporal.taskQueue,
      workflowId: workflowIds.patchTest(queueId),
      args: [input],
      typedSearchAttributes: [{ key: SA.queueId, value: queueId }, { key: SA.patchStatus, value: 'testing' }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw err;
  }
}

/**
 * The search attributes every workflow of a queue item carries from its start (patchTest, testRollback,
 * productionDeployment, deploymentRollback), so `temporal workflow list --query 'QueueId=12'` finds them all.
 */
export function itemSearchAttributes(item: { id: number; advisory_name: string; target_os: string }, status: PatchStatusValue): SearchAttributePair[] {
  return [
    { key: SA.queueId, value: item.id },
    { key: SA.advisoryName, value: item.advisory_name },
    { key: SA.targetOs, value: item.target_os },
    { key: SA.patchStatus, value: status },
  ];
}

class NotStarted extends Error {}

export type ClaimedStart =
  | { started: true; claim: TestClaim; workflowId: string; runId: string }
  | { started: false; reason: string };

/**
 * Race-free "start the next test" (or the test of `queueId`): claims an (item, system) pair under the claim
 * lock (db/queries/dispatch.ts), starts its patchTest, and commits the claim only once the workflow exists.
 * Concurrent callers get distinct pairs; when none is left, `{ started: false, reason }` says why (who holds
 * the systems, which are quarantined, or that nothing is queued). Should the commit fail after the start,
 * the workflow still takes its item (beginTest accepts a queued one) and leases a system itself.
 */
export async function claimAndStartTest(
  db: Db,
  client: Client,
  config: Readonly<Config>,
  opts: { queueId?: number; requestedBy: string; approval: ApprovalPolicy; timing?: TestTiming },
): Promise<ClaimedStart> {
  try {
    return await db.transaction().execute(async (trx) => {
      const claim = await claimTest(trx, { ...(opts.queueId !== undefined ? { queueId: opts.queueId } : {}), workflowIdOf: workflowIds.patchTest });
      if (!claim) throw new NotStarted(await whyNoTest(trx, opts.queueId));
      const handle = await startPatchTest(client, config, claim.queueId, opts.requestedBy, opts.approval, opts.timing);
      if (!handle) throw new NotStarted(`a test of queue item ${claim.queueId} is already running (${workflowIds.patchTest(claim.queueId)})`);
      await recordLeaseRun(trx, claim.systemId, handle.workflowId, handle.firstExecutionRunId);
      return { started: true as const, claim, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    });
  } catch (err) {
    if (err instanceof NotStarted) return { started: false, reason: err.message };
    throw err;
  }
}
