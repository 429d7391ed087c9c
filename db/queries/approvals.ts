import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';

type Executor = Kysely<Database> | Transaction<Database>;

const ISO = (col: string) => sql.raw(`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export type DecisionKind = 'approve' | 'reject' | 'snooze' | 'expire';
export type DecisionSource = 'api' | 'cli' | 'dashboard' | 'system';

export interface HistoryFilter {
  decision?: DecisionKind[];
  source?: DecisionSource[];
  queueId?: number;
  decidedBy?: string;
}

/** Decisions newest first (who, when, why, from where), with the advisory they were about; the total. */
export async function approvalHistory(db: Executor, f: HistoryFilter, page: { limit: number; offset: number }) {
  // Every filter is about the decision row; the queue item only decorates the page. The count needs no join:
  // queue_id is NOT NULL REFERENCES patch_test_queue ON DELETE CASCADE, so each decision has exactly one item.
  let decisions = db.selectFrom('patch_approvals as a');
  if (f.decision?.length) decisions = decisions.where('a.decision', 'in', f.decision);
  if (f.source?.length) decisions = decisions.where('a.source', 'in', f.source);
  if (f.queueId !== undefined) decisions = decisions.where('a.queue_id', '=', f.queueId);
  if (f.decidedBy) decisions = decisions.where('a.decided_by', '=', f.decidedBy);
  const base = decisions.innerJoin('patch_test_queue as q', 'q.id', 'a.queue_id');
  const [items, total] = await Promise.all([
    base
      .select(['a.id', 'a.queue_id', 'a.test_id', 'q.advisory_name', 'q.target_os', 'q.status as queue_status', 'a.decision', 'a.decided_by', 'a.reason', 'a.source', 'a.evidence'])
      .select([sql<string>`${ISO('a.decided_at')}`.as('decided_at'), sql<string | null>`${ISO('a.snooze_until')}`.as('snooze_until')])
      .orderBy('a.decided_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    decisions.select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { total: total.n, items };
}

/**
 * Items waiting for a decision, oldest first (v_pending_approvals' pending_since: when the passed test
 * completed), with the reminders sent so far; the total. The page is chosen from the queue rows alone
 * (last_passed_at, which a trigger keeps equal to the view's last passed test: patch_test_queue_pending_since_idx,
 * migration 2026_12_08_0001), then only its rows are decorated.
 */
export async function pendingApprovals(db: Executor, page: { limit: number; offset: number }) {
  const { rows } = await sql<{ queue_id: number }>`
    select q.id as queue_id
    from patch_test_queue q
    where q.status in ('pending_approval', 'snoozed')
    order by coalesce(q.last_passed_at, q.status_changed_at), q.id
    limit ${page.limit} offset ${page.offset}`.execute(db);
  const ids = rows.map((r) => r.queue_id);
  const [items, total] = await Promise.all([
    ids.length
      ? db
          .selectFrom('v_pending_approvals as v')
          .selectAll('v')
          .select((eb) => [
            eb.selectFrom('orchestrator_notifications as n').whereRef('n.queue_id', '=', 'v.queue_id').where('n.event_type', '=', 'approval.reminder')
              .select(sql<number>`count(*)::integer`.as('c')).as('reminders'),
            eb.selectFrom('orchestrator_notifications as n').whereRef('n.queue_id', '=', 'v.queue_id').where('n.event_type', '=', 'approval.reminder')
              .select(sql<Date>`max(n.created_at)`.as('m')).as('last_reminder_at'),
          ])
          .where('v.queue_id', 'in', ids)
          .orderBy('v.pending_since')
          .orderBy('v.queue_id')
          .execute()
      : Promise.resolve([]),
    db.selectFrom('queue_counts').where('status', 'in', ['pending_approval', 'snoozed']).select(sql<number>`coalesce(sum(items), 0)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { total: total.n, items };
}
