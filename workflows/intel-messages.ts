// The intel-enrichment workflow's messages (issue 14): its id, the `progress` query and the `more` signal a
// sync sends when it committed (new CVEs may have arrived while a pass runs).
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const INTEL_WORKFLOW_TYPE = 'intelEnrichment';
export const DEFAULT_TASK_QUEUE = 'spm-orchestrator';

/** One enrichment workflow per task queue: `intel-enrichment` (tests' own queues get their own id). */
export const intelWorkflowId = (taskQueue: string) => (taskQueue === DEFAULT_TASK_QUEUE ? 'intel-enrichment' : `intel-enrichment-${taskQueue}`);

export interface IntelInput {
  trigger: 'sync' | 'cli' | 'api' | 'schedule' | 'test';
  /** download the KEV catalog and refetch EPSS even when not stale */
  force?: boolean;
  passes?: number;
}

export type IntelPhase = 'starting' | 'kev' | 'nvd' | 'epss' | 'rank' | 'done';

export interface IntelProgress {
  phase: IntelPhase;
  pass: number;
  startedAt: string;
  kev: { refreshed: boolean; listed: number; removed: number } | null;
  nvd: { mode: 'none' | 'lookup' | 'window'; planned: number; done: number; requests: number; windows: number; windowsDone: number; pages: number; stored: number; notFound: number };
  epss: { planned: number; done: number; scored: number; requests: number };
  errataUpdated: number;
  errors: string[];
}

export interface IntelSummary extends IntelProgress {
  finishedAt: string;
}

export const intelProgressQuery = defineQuery<IntelProgress>('progress');
export const intelMoreSignal = defineSignal('more');
