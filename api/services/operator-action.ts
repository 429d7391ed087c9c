import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { json } from '../../db/json.js';
import { conflict, unavailable } from '../errors.js';

/**
 * A person's action that a workflow carries out (a forced rollback, a production rollback): recorded in
 * operator_actions first, then the workflow is started. If the record cannot be written nothing is started;
 * if the start fails the record says so (status failed) and the caller gets 409 (already running) or 503 —
 * the two stores never disagree about what was asked and what happened.
 */
export async function recordThenStart<T>(
  app: FastifyInstance,
  request: FastifyRequest,
  action: { action: string; queueId: number; workflowId: string; reason: string | null; details?: Record<string, unknown> },
  start: (requestId: string) => Promise<T>,
): Promise<T> {
  const requestId = randomUUID();
  const actor = request.actor?.name ?? 'unknown';
  const row = await app.db
    .insertInto('operator_actions')
    .values({
      queue_id: action.queueId, workflow_id: action.workflowId, action: action.action, actor, source: 'api', status: 'recorded',
      reason: action.reason, details: json(action.details ?? {}), request_id: requestId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
    .catch((err: unknown) => {
      throw unavailable(`the ${action.action} request could not be recorded, so nothing was started: ${(err as Error).message}`);
    });
  try {
    return await start(requestId);
  } catch (err) {
    const already = err instanceof WorkflowExecutionAlreadyStartedError || (err as Error).name === 'WorkflowExecutionAlreadyStartedError';
    const why = already ? `${action.workflowId} is already running` : `the workflow could not be started: ${(err as Error).message}`;
    await app.db.updateTable('operator_actions').set({ status: 'failed', refusal: why }).where('id', '=', row.id).execute().catch(() => undefined);
    throw already ? conflict(`a ${action.action} is already running (${action.workflowId})`) : unavailable(why);
  }
}
