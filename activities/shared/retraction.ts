import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { forgetRetractionHalt, recordRetraction, retractionReason, type RetractionRecorded } from '../../db/queries/retractions.js';
import { haltSignal, workflowIds } from '../../workflows/messages.js';

/**
 * Records a retraction (db/queries/retractions.ts) and then halts each running rollout of the advisory with the
 * deployment's `halt` signal (by "uyuni", the reason naming the retraction): the halt is recorded before it
 * takes effect, and a halt whose rollout is not running is forgotten again. Safe to call again.
 */
export async function retractAdvisory(
  deps: { db: Kysely<Database>; temporal?: Client | undefined; log: Logger },
  advisoryName: string,
  foundBy: 'sync' | 'test' | 'rollout',
): Promise<RetractionRecorded> {
  const recorded = await recordRetraction(deps.db, advisoryName, foundBy);
  const reason = retractionReason(advisoryName);
  for (const halt of recorded.halts) {
    if (!deps.temporal) break;
    try {
      await deps.temporal.workflow.getHandle(workflowIds.deployment(halt.queueId)).signal(haltSignal, { by: 'uyuni', reason });
    } catch (err) {
      await forgetRetractionHalt(deps.db, halt.requestId);
      deps.log.warn({ err, queueId: halt.queueId, advisoryName }, 'the rollout of a retracted advisory is not running; nothing to halt');
    }
  }
  if (recorded.announced || recorded.cancelled.length || recorded.halts.length) {
    deps.log.warn({ advisoryName, foundBy, cancelled: recorded.cancelled, halted: recorded.halts.map((h) => h.queueId), refused: recorded.refused }, 'advisory retracted');
  }
  return recorded;
}
