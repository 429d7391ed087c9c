// Everything a workflow and its callers (API, CLI, tests) must agree on, defined once.
// Pure module: imported by workflow code, so only @temporalio/common and @temporalio/workflow APIs.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';

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
  queue: (requestId: string) => `queue-${requestId}`,
} as const;

// --- uyuniSync ---------------------------------------------------------------------------------------

export const SYNC_SCHEDULE_ID = 'uyuni-sync';
export const SYNC_WORKFLOW_TYPE = 'uyuniSync';

export type SyncTrigger = 'schedule' | 'api' | 'cli' | 'startup' | 'manual';

export interface SyncInput {
  trigger: SyncTrigger;
  /** How hard to retry a failing UYUNI chunk (UYUNI_RETRY_*); the starter passes the configured values. */
  uyuniRetry?: { maximumAttempts: number; initialIntervalMs: number };
}

export const DEFAULT_UYUNI_RETRY = { maximumAttempts: 6, initialIntervalMs: 2_000 } as const;

export interface SyncProgress {
  phase: 'starting' | 'groups' | 'systems' | 'errata' | 'details' | 'commit' | 'done' | 'failed';
  syncRunId: number | null;
  groups: { done: number; total: number };
  systems: { done: number; total: number };
  /** Distinct advisories seen so far (errata), then advisories whose details were fetched. */
  errata: { seen: number; detailsDone: number; detailsTotal: number };
  uyuniCalls: number;
  errors: number;
}

export interface SyncSummary {
  syncRunId: number;
  groups: number;
  systems: number;
  errata: number;
  inserted: number;
  updated: number;
  cvesFetched: number;
  uyuniCalls: number;
  durationMs: number;
  errors: { scope: string; message: string }[];
}

export const syncProgressQuery = defineQuery<SyncProgress>('progress');
