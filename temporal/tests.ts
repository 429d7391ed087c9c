import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { patchTest } from '../workflows/index.js';
import type { SearchAttributePair } from '@temporalio/common';
import { SA, workflowIds, type ApprovalPolicy, type PatchStatusValue, type PatchTestInput, type TestTiming } from '../workflows/messages.js';

export function testTiming(config: Readonly<Config>): TestTiming {
  const { autoDispatch: _, ...timing } = config.test;
  return timing;
}

/**
 * Starts patchTest for a queue item (id patch-test-<queueId>, so one test per item at a time). Returns null
 * when that workflow is already running.
 */
export async function startPatchTest(client: Client, config: Readonly<Config>, queueId: number, requestedBy: string, approval: ApprovalPolicy) {
  const input: PatchTestInput = { queueId, requestedBy, timing: testTiming(config), autoDispatch: config.test.autoDispatch, approval };
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
