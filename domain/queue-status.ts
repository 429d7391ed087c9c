// The patch queue's state machine (the seed's, plus the states snooze, expiry and halting need).
// The database enforces the same table through a trigger (migration 0001); a test keeps the two equal.

export const QUEUE_STATUSES = [
  'queued',
  'testing',
  'passed',
  'failed',
  'rolled_back',
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
  'cancelled',
] as const;

export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export const QUEUE_TRANSITIONS: Readonly<Record<QueueStatus, readonly QueueStatus[]>> = {
  queued: ['testing', 'cancelled'],
  // back to queued when a test is cancelled before anything was applied
  testing: ['passed', 'failed', 'rolled_back', 'queued', 'cancelled'],
  failed: ['rolled_back', 'queued'],
  rolled_back: ['queued'],
  // a forced manual rollback is possible until the patch is approved
  passed: ['pending_approval', 'rolled_back'],
  pending_approval: ['approved', 'rejected', 'snoozed', 'expired', 'rolled_back'],
  snoozed: ['pending_approval', 'approved', 'rejected', 'expired'],
  approved: ['promoting'],
  promoting: ['prod_applied', 'halted', 'prod_rolled_back'],
  halted: ['promoting', 'prod_rolled_back'],
  prod_applied: ['completed', 'prod_rolled_back'],
  completed: ['prod_rolled_back'],
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
];

export function canTransition(from: QueueStatus, to: QueueStatus): boolean {
  return from === to || QUEUE_TRANSITIONS[from].includes(to);
}
