import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/connection.js';
import { recordEvent } from '../../db/queries/notifications.js';
import { workflowIds } from '../../workflows/messages.js';

// The records behind workflows/verdict-pause.ts: a person's decision on a marginal / nodata wave verdict,
// written before the rollout acts on it, and the pause's notices (a `deployment.verdict_paused` event each).

export function createVerdictDecisionActivities(deps: { db: Db }) {
  const { db } = deps;

  return {
    /**
     * Records the decision on the verdict. Idempotent by requestId (a retry of the same request succeeds);
     * refused (non-retryable VerdictDecisionRefused) when the verdict does not exist, is not a wave verdict
     * waiting for a person (marginal or nodata), or someone else's decision is already recorded.
     */
    async recordVerdictDecision(input: { verdictId: number; decision: 'continue' | 'halt'; by: string; reason: string | null; source: string; requestId: string }): Promise<void> {
      const updated = await db
        .updateTable('verdicts')
        .set({ decided: input.decision, decided_by: input.by, decided_reason: input.reason, decided_source: input.source, decided_request_id: input.requestId, decided_at: new Date() })
        .where('id', '=', input.verdictId)
        .where('scope', '=', 'wave')
        .where('verdict', 'in', ['marginal', 'nodata'])
        .where('decided', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (updated) return;
      const row = await db.selectFrom('verdicts').select(['verdict', 'scope', 'decided', 'decided_by', 'decided_request_id']).where('id', '=', input.verdictId).executeTakeFirst();
      if (row?.decided_request_id === input.requestId && row.decided === input.decision) return; // this request, already recorded
      const why = !row ? `verdict ${input.verdictId} does not exist`
        : row.decided ? `verdict ${input.verdictId} was already decided (${row.decided} by ${row.decided_by})`
        : `verdict ${input.verdictId} is a ${row.scope} verdict ${row.verdict}: it waits for no decision`;
      throw ApplicationFailure.create({ type: 'VerdictDecisionRefused', message: why, nonRetryable: true });
    },

    /** The pause's notice (reminder 0) and each reminder: one `deployment.verdict_paused` event each (deduplicated). */
    async remindVerdict(input: { verdictId: number; queueId: number; reminder: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const v = await trx.selectFrom('verdicts').select(['wave', 'group_name', 'verdict', 'score', 'reason']).where('id', '=', input.verdictId).executeTakeFirstOrThrow();
        await trx.updateTable('verdicts').set({ reminders: input.reminder }).where('id', '=', input.verdictId).where('reminders', '<', input.reminder).execute();
        await recordEvent(trx, 'deployment.verdict_paused', {
          queue_id: input.queueId, verdict_id: input.verdictId, wave: v.wave, group: v.group_name, verdict: v.verdict, score: v.score, reminder: input.reminder, reason: v.reason,
        }, { dedupeKey: `verdict-paused-${input.verdictId}-${input.reminder}`, workflowId: workflowIds.deployment(input.queueId) });
      });
    },
  };
}

export type VerdictDecisionActivities = ReturnType<typeof createVerdictDecisionActivities>;
