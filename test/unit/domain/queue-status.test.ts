import { describe, expect, it } from 'vitest';
import { ACTIVE_QUEUE_STATUSES, canTransition, QUEUE_STATUSES, QUEUE_TRANSITIONS, type QueueStatus } from '../../../domain/queue-status.js';

// The state machine written out edge by edge: an edge added or lost in domain/queue-status.ts fails here
// (the schema test keeps the database's trigger equal to the same table).
const EDGES: Record<QueueStatus, QueueStatus[]> = {
  queued: ['testing', 'cancelled', 'untestable'],
  testing: ['passed', 'failed', 'rolled_back', 'queued', 'cancelled', 'inconclusive'],
  passed: ['pending_approval', 'rolled_back'],
  failed: ['rolled_back', 'queued'],
  rolled_back: ['queued'],
  inconclusive: ['queued', 'cancelled'],
  untestable: ['queued', 'cancelled'],
  pending_approval: ['approved', 'rejected', 'snoozed', 'expired', 'rolled_back'],
  snoozed: ['pending_approval', 'approved', 'rejected', 'expired'],
  approved: ['promoting'],
  rejected: [],
  expired: ['queued'],
  promoting: ['prod_applied', 'halted', 'prod_rolled_back', 'prod_rollback_failed'],
  prod_applied: ['completed', 'prod_rolled_back', 'prod_rollback_failed'],
  halted: ['promoting', 'prod_rolled_back', 'prod_rollback_failed'],
  completed: ['prod_rolled_back', 'prod_rollback_failed'],
  prod_rolled_back: [],
  prod_rollback_failed: ['prod_rolled_back'],
  cancelled: ['queued'],
};

describe('queue state machine', () => {
  it('has exactly these statuses', () => {
    expect([...QUEUE_STATUSES].sort()).toEqual(Object.keys(EDGES).sort());
    expect(QUEUE_STATUSES).toHaveLength(19);
  });

  it.each(Object.keys(EDGES) as QueueStatus[])('%s leads exactly where the table says', (from) => {
    expect([...QUEUE_TRANSITIONS[from]].sort()).toEqual([...EDGES[from]].sort());
    for (const to of QUEUE_STATUSES) expect(canTransition(from, to), `${from} → ${to}`).toBe(from === to || EDGES[from].includes(to));
  });

  it('an advisory counts as already queued in exactly these statuses', () => {
    expect([...ACTIVE_QUEUE_STATUSES].sort()).toEqual(
      ['approved', 'halted', 'inconclusive', 'passed', 'pending_approval', 'prod_applied', 'prod_rollback_failed', 'promoting', 'queued', 'snoozed', 'testing', 'untestable'],
    );
  });
});
