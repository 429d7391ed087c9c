// The patch queue's state machine (the seed's, plus the states snooze, expiry and halting need).
// The database enforces the same table through a trigger (migration 0001); a test keeps the two equal.

export const QUEUE_STATUSES = [
  'queued',
  'testing',
  'passed',
  'failed',
  'rolled_back',
  'inconclusive',
  'untestable',
  'pending_approval',
  'snoozed',
  'approved',
  'rejected',
  'expired',
  'promoting',
  'prod_applied',
  'halted',
  'completed',
  'prod_rolled_back',
  'prod_rollback_failed',
  'cancelled',
] as const;

export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export const QUEUE_TRANSITIONS: Readonly<Record<QueueStatus, readonly QueueStatus[]>> = {
  // untestable: no test system of its OS can test it any more (re-checked after each sync)
  queued: ['testing', 'cancelled', 'untestable'],
  // back to queued when a test is cancelled before anything was applied; inconclusive when it could not be judged
  testing: ['passed', 'failed', 'rolled_back', 'queued', 'cancelled', 'inconclusive'],
  inconclusive: ['queued', 'cancelled'],
  untestable: ['queued', 'cancelled'],
  failed: ['rolled_back', 'queued'],
  rolled_back: ['queued'],
  // a forced manual rollback is possible until the patch is approved
  passed: ['pending_approval', 'rolled_back'],
  pending_approval: ['approved', 'rejected', 'snoozed', 'expired', 'rolled_back'],
  snoozed: ['pending_approval', 'approved', 'rejected', 'expired'],
  approved: ['promoting'],
  // a production rollback that did not restore everything says so (prod_rollback_failed), never prod_rolled_back
  promoting: ['prod_applied', 'halted', 'prod_rolled_back', 'prod_rollback_failed'],
  halted: ['promoting', 'prod_rolled_back', 'prod_rollback_failed'],
  prod_applied: ['completed', 'prod_rolled_back', 'prod_rollback_failed'],
  completed: ['prod_rolled_back', 'prod_rollback_failed'],
  prod_rollback_failed: ['prod_rolled_back'],
  expired: ['queued'],
  rejected: [],
  cancelled: ['queued'],
  prod_rolled_back: [],
};

/** Statuses in which an advisory counts as "already queued" for its OS (one active row per advisory x OS). */
export const ACTIVE_QUEUE_STATUSES: readonly QueueStatus[] = [
  'queued',
  'testing',
  'passed',
  'pending_approval',
  'snoozed',
  'approved',
  'promoting',
  'prod_applied',
  'halted',
  'inconclusive',
  'untestable',
  'prod_rollback_failed',
];

export function canTransition(from: QueueStatus, to: QueueStatus): boolean {
  return from === to || QUEUE_TRANSITIONS[from].includes(to);
}
