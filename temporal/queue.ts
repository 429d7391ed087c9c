import { randomUUID } from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueueRequest } from '../activities/queue/queue-activities.js';
import type { Config } from '../config/config.js';
import type { queuePatches } from '../workflows/index.js';
import { workflowIds } from '../workflows/messages.js';

export class QueueFailure extends Error {
  override name = 'QueueFailure';
  constructor(
    readonly kind: 'already-queued' | 'uyuni-unavailable' | 'unknown-advisory' | 'failed',
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

const UYUNI_UNAVAILABLE = new Set([
  'UyuniTransportError', 'UyuniTimeoutError', 'UyuniHttpError', 'UyuniProtocolError', 'UyuniSessionError', 'UyuniAuthError', 'UyuniTlsError', 'UyuniFault',
]);

/** The ApplicationFailure at the bottom of a workflow failure (workflow → activity → application). */
function rootFailure(err: WorkflowFailedError): ApplicationFailure | undefined {
  let cause: unknown = err.cause;
  while (cause instanceof ActivityFailure || (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause)) {
    cause = (cause as Error).cause;
  }
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/** Maps a failed queuePatches run to what the API answers (409, 503, 404 or a plain failure). */
export function queueFailureOf(err: WorkflowFailedError): QueueFailure {
  const root = rootFailure(err);
  const message = root?.message ?? err.message;
  if (root?.type === 'AlreadyQueued') return new QueueFailure('already-queued', message, root.details?.[0]);
  if (root?.type === 'UyuniNotFoundError') return new QueueFailure('unknown-advisory', message);
  if (root?.type && UYUNI_UNAVAILABLE.has(root.type)) return new QueueFailure('uyuni-unavailable', `UYUNI unavailable: ${message}`);
  if (/timed out|timeout/i.test(err.cause?.message ?? '')) return new QueueFailure('uyuni-unavailable', `UYUNI unavailable: ${err.cause?.message}`);
  return new QueueFailure('failed', message);
}

/** Starts queuePatches (id queue-<requestId>): packages from UYUNI, scores, rows in one transaction. */
export async function startQueueing(client: Client, config: Readonly<Config>, request: Omit<QueueRequest, 'requestId'>) {
  const requestId = randomUUID();
  const handle = await client.workflow.start<typeof queuePatches>('queuePatches', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.queue(requestId),
    args: [{ ...request, requestId }],
    workflowExecutionTimeout: '2 minutes',
  });
  return { requestId, handle };
}

/** The queue ids a queuePatches run inserted; a failed run throws its QueueFailure. */
export async function queueingResult(handle: WorkflowHandle<typeof queuePatches>): Promise<number[]> {
  try {
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw queueFailureOf(err);
    throw err;
  }
}
