// Everything a workflow and its callers (API, CLI, tests) must agree on, defined once.
// Pure module: imported by workflow code, so only @temporalio/common and @temporalio/workflow APIs.
import { defineSearchAttributeKey } from '@temporalio/common';

export const TASK_QUEUE_DEFAULT = 'spm-orchestrator';

/** Custom search attributes: make `temporal workflow list --query` and the Web UI filters useful. */
export const SA = {
  patchStatus: defineSearchAttributeKey('PatchStatus', 'KEYWORD'),
  advisoryName: defineSearchAttributeKey('AdvisoryName', 'KEYWORD'),
  targetOs: defineSearchAttributeKey('TargetOs', 'KEYWORD'),
  queueId: defineSearchAttributeKey('QueueId', 'INT'),
  testSystem: defineSearchAttributeKey('TestSystem', 'KEYWORD'),
} as const;

export const SEARCH_ATTRIBUTES = Object.values(SA);

export const workflowIds = {
  selfTest: (nonce: string) => `self-test-${nonce}`,
} as const;
