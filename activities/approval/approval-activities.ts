import { retractedAt, retractionReason } from '../../db/queries/retractions.js';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/connection.js';
import { json } from '../../db/json.js';
import type { QueueStatus } from '../../domain/queue-status.js';
import type { OperatorActionSource } from '../../db/database.js';
import { workflowIds, type Decision, type DeploymentPlanPolicy } from '../../workflows/messages.js';
import { recordOrRefuse } from '../store/db-failure.js';
import { recordEvent } from '../../db/queries/notifications.js';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';

type Executor = Kysely<Database> | Transaction<Database>;

// The database side of a person's decision on a passed test: the queue status, a patch_approvals row with
// who, when, why and the evidence it was based on; each change with its notification event (recordEvent, in
// the same transaction).

const NEXT: Record<Decision, QueueStatus> = { approve: 'approved', reject: 'rejected', snooze: 'snoozed' };

async function evidence(db: Executor, testId: number) {
  const t = await db.selectFrom('patch_tests').selectAll().where('id', '=', testId).executeTakeFirstOrThrow();
  return {
    test_id: t.id,
    test_system: t.test_system_name,
    metrics_before: t.metrics_before,
    metrics_after: t.metrics_after,
    cpu_delta: t.cpu_delta,
    memory_delta: t.memory_delta,
    services: t.services,
    reboot_duration_seconds: t.reboot_duration_seconds,
    snapshot_type: t.snapshot_type,
    completed_at: t.completed_at?.toISOString() ?? null,
  };
}

/** What an approver needs in the approval.requested event: the erratum, its score and the test's evidence. */
async function approvalRequest(db: Executor, testId: number, queueId: number) {
  // the evidence without the raw metric windows (bodies stay small; the deltas are what an approver reads)
  const { metrics_before: _before, metrics_after: _after, ...rest } = await evidence(db, testId);
  const q = await db.selectFrom('v_queue_details').select(['synopsis', 'severity', 'cves', 'success_score']).where('id', '=', queueId).executeTakeFirst();
  return {
    queue_id: queueId, test_id: testId, synopsis: q?.synopsis ?? null, severity: q?.severity ?? null, cves: q?.cves ?? [],
    success_score: q?.success_score ?? null, evidence: { ...rest },
  };
}

export function createApprovalActivities({ db }: { db: Db }) {
  return {
    async openApproval(input: { testId: number; queueId: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const moved = await trx.updateTable('patch_test_queue').set({ status: 'pending_approval' }).where('id', '=', input.queueId).where('status', '=', 'passed').executeTakeFirst();
        if (moved.numUpdatedRows === 0n) return; // a retry: the change and its event are already recorded
        await recordEvent(trx, 'approval.requested', await approvalRequest(trx, input.testId, input.queueId), {
          dedupeKey: `approval-requested-${input.testId}`, workflowId: workflowIds.patchTest(input.queueId),
        });
      });
    },

    /**
     * A person's decision, written before the workflow acts on it: the queue status, a patch_approvals row with
     * the evidence, and an operator_actions row, in one transaction. Idempotent by request id (a retried
     * activity finds the row it wrote); a write PostgreSQL refuses for good fails at once, non-retryable.
     */
    async recordDecision(input: {
      testId: number; queueId: number; workflowId: string; decision: Decision; by: string; reason: string | null;
      until: string | null; requestId: string; source: 'api' | 'cli' | 'dashboard';
    }): Promise<number> {
      return recordOrRefuse(`the ${input.decision} decision`, () => db.transaction().execute(async (trx) => {
        const done = await trx.selectFrom('patch_approvals').select('id').where('request_id', '=', input.requestId).executeTakeFirst();
        if (done) return done.id;
        const item = await trx.selectFrom('patch_test_queue').select(['status', 'advisory_name']).where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (!['pending_approval', 'snoozed'].includes(item.status)) {
          throw ApplicationFailure.nonRetryable(`queue item ${input.queueId} is ${item.status}, not waiting for a decision`, 'NotWaiting');
        }
        // issue 15: a retracted advisory is never approved (reject and snooze stay possible).
        if (input.decision === 'approve' && (await retractedAt(trx, item.advisory_name))) {
          throw ApplicationFailure.nonRetryable(`queue item ${input.queueId} cannot be approved: ${retractionReason(item.advisory_name)}`, 'AdvisoryRetracted');
        }
        await trx
          .updateTable('patch_test_queue')
          .set({ status: NEXT[input.decision], snoozed_until: input.decision === 'snooze' ? input.until : null })
          .where('id', '=', input.queueId)
          .execute();
        const row = await trx
          .insertInto('patch_approvals')
          .values({
            queue_id: input.queueId, test_id: input.testId, workflow_id: input.workflowId, decision: input.decision, decided_by: input.by,
            reason: input.reason, snooze_until: input.until, evidence: json(await evidence(db, input.testId)), source: input.source,
            request_id: input.requestId,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('operator_actions')
          .values({
            queue_id: input.queueId, workflow_id: input.workflowId, action: input.decision, actor: input.by, source: input.source, status: 'recorded',
            reason: input.reason, details: json({ approval_id: row.id, until: input.until }), request_id: input.requestId,
          })
          .execute();
        await recordEvent(
          trx,
          'approval.decided',
          { queue_id: input.queueId, approval_id: row.id, test_id: input.testId, decision: input.decision, by: input.by, reason: input.reason, until: input.until, source: input.source },
          { dedupeKey: `approval-decided-${input.requestId}`, workflowId: input.workflowId },
        );
        return row.id;
      }));
    },

    /** A signal or Update the workflow refused: who asked for what, and why not (best effort, for the audit trail). */
    async recordRefusal(input: { queueId: number; workflowId: string; action: string; by: string; why: string; input: unknown; source: OperatorActionSource }): Promise<void> {
      await db
        .insertInto('operator_actions')
        .values({
          queue_id: input.queueId, workflow_id: input.workflowId, action: input.action, actor: input.by || 'unknown', source: input.source,
          status: 'refused', refusal: input.why, details: json({ input: input.input }),
        })
        .execute();
    },

    /** A person asked for the production rollout: recorded (deployments + operator_actions) before it starts. */
    /**
     * Records a deployment request before the rollout starts. A set rollout (`members`: carried items of the
     * same rollout) records every item's request in the same transaction: each must be approved, or nothing is
     * recorded. Returns the carrier's deployments row.
     */
    async recordDeploymentRequest(input: {
      queueId: number; workflowId: string; by: string; policy: DeploymentPlanPolicy; requestId: string; source: OperatorActionSource; members?: number[];
    }): Promise<number> {
      return recordOrRefuse('the deployment request', () => db.transaction().execute(async (trx) => {
        const done = await trx.selectFrom('deployments').select('id').where('request_id', '=', input.requestId).executeTakeFirst();
        if (done) return done.id;
        const ids = [input.queueId, ...(input.members ?? [])];
        let carrierRow = 0;
        for (const [i, id] of ids.entries()) {
          const item = await trx.selectFrom('patch_test_queue').select(['status', 'advisory_name']).where('id', '=', id).forUpdate().executeTakeFirst();
          if (item?.status !== 'approved') throw ApplicationFailure.nonRetryable(`queue item ${id} is ${item?.status ?? 'missing'}, not approved`, 'NotApproved');
          if (await retractedAt(trx, item.advisory_name)) {
            throw ApplicationFailure.nonRetryable(`queue item ${id} cannot be deployed: ${retractionReason(item.advisory_name)}`, 'AdvisoryRetracted');
          }
          const requestId = i === 0 ? input.requestId : `${input.requestId}/carried/${id}`;
          const row = await trx
            .insertInto('deployments')
            .values({ queue_id: id, workflow_id: input.workflowId, requested_by: input.by, request_id: requestId, source: input.source, policy: json(input.policy) })
            .returning('id')
            .executeTakeFirstOrThrow();
          if (i === 0) carrierRow = row.id;
          await trx
            .insertInto('operator_actions')
            .values({
              queue_id: id, workflow_id: input.workflowId, action: 'deploy', actor: input.by, source: input.source, status: 'recorded',
              details: json({ deployment_id: row.id, policy: input.policy, ...(ids.length > 1 ? { set: ids, carrier: input.queueId } : {}) }), request_id: requestId,
            })
            .execute();
          // each item of a set announces its own rollout start, in this transaction
          await recordEvent(trx, 'deployment.started', {
            queue_id: id, deployment_id: row.id, workflow_id: input.workflowId, requested_by: input.by, source: input.source, policy: input.policy,
          }, { dedupeKey: `deployment-started-${requestId}`, workflowId: input.workflowId });
        }
        return carrierRow;
      }));
    },

    /** The snooze is over: pending again, with a reminder. */
    async endSnooze(input: { testId: number; queueId: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const moved = await trx.updateTable('patch_test_queue').set({ status: 'pending_approval', snoozed_until: null }).where('id', '=', input.queueId).where('status', '=', 'snoozed').executeTakeFirst();
        if (moved.numUpdatedRows === 0n) return;
        const sent = await trx.selectFrom('orchestrator_notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('queue_id', '=', input.queueId).where('event_type', '=', 'approval.reminder').executeTakeFirstOrThrow();
        const n = Number(sent.n) + 1;
        await recordEvent(trx, 'approval.reminder', { queue_id: input.queueId, test_id: input.testId, reminder: n, reason: 'the snooze ended; the patch waits for a decision again' }, {
          dedupeKey: `approval-unsnoozed-${input.testId}-${n}`, workflowId: workflowIds.patchTest(input.queueId),
        });
      });
    },

    async remindApproval(input: { testId: number; queueId: number; reminder: number }): Promise<void> {
      await recordEvent(db, 'approval.reminder', { queue_id: input.queueId, test_id: input.testId, reminder: input.reminder, reason: 'a passed patch still waits for a decision' }, {
        dedupeKey: `approval-reminder-${input.testId}-${input.reminder}`, workflowId: workflowIds.patchTest(input.queueId),
      });
    },

    async expireApproval(input: { testId: number; queueId: number; workflowId: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('patch_test_queue').set({ status: 'expired', snoozed_until: null }).where('id', '=', input.queueId).where('status', 'in', ['pending_approval', 'snoozed']).execute();
        await trx
          .insertInto('patch_approvals')
          .values({ queue_id: input.queueId, test_id: input.testId, workflow_id: input.workflowId, decision: 'expire', decided_by: 'system', reason: 'no decision before the approval expired', source: 'system', request_id: `expire-${input.testId}` })
          .onConflict((oc) => oc.column('request_id').doNothing())
          .execute();
        await recordEvent(trx, 'approval.expired', { queue_id: input.queueId, test_id: input.testId, reason: 'no decision before the approval expired' }, {
          dedupeKey: `approval-expired-${input.testId}`, workflowId: input.workflowId,
        });
      });
    },
  };
}
