import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { patchTest } from '../workflows/index.js';
import { SA, workflowIds, type ApprovalPolicy, type PatchTestInput, type TestTiming } from '../workflows/messages.js';

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
