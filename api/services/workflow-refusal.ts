import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { conflict, unavailable } from '../errors.js';

/**
 * An Update a workflow refused or could not carry out, as the API's answer: a refusal (validator: not
 * waiting, already deploying) is 409; an action whose record PostgreSQL refused or could not take is 503 with
 * the reason — nothing took effect in either case. Other errors are left to the error handler.
 */
export function updateFailure(err: unknown, context: string): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict(`${context}: no workflow is running for it`);
  if (!(err instanceof WorkflowUpdateFailedError) && (err as Error | null)?.name !== 'WorkflowUpdateFailedError') return err;
  const cause = (err as Error & { cause?: Error & { type?: string } }).cause;
  const message = cause?.message ?? (err as Error).message;
  if (cause?.type?.endsWith('NotRecorded')) return unavailable(`${context}: ${message}`, { reason: 'not_recorded' });
  return conflict(`${context}: ${message}`);
}
