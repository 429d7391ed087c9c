import { randomUUID } from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
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

/** Runs the queuePatches workflow and waits: packages from UYUNI, scores, rows in one transaction. */
export async function queueThroughTemporal(
  client: Client,
  config: Readonly<Config>,
  request: Omit<QueueRequest, 'requestId'>,
): Promise<number[]> {
  const requestId = randomUUID();
  try {
    return await client.workflow.execute<typeof queuePatches>('queuePatches', {
      taskQueue: config.temporal.taskQueue,
      workflowId: workflowIds.queue(requestId),
      args: [{ ...request, requestId }],
      workflowExecutionTimeout: '2 minutes',
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const root = rootFailure(err);
    const message = root?.message ?? err.message;
    if (root?.type === 'AlreadyQueued') throw new QueueFailure('already-queued', message, root.details?.[0]);
    if (root?.type === 'UyuniNotFoundError') throw new QueueFailure('unknown-advisory', message);
    if (root?.type && UYUNI_UNAVAILABLE.has(root.type)) throw new QueueFailure('uyuni-unavailable', `UYUNI unavailable: ${message}`);
    if (/timed out|timeout/i.test(err.cause?.message ?? '')) throw new QueueFailure('uyuni-unavailable', `UYUNI unavailable: ${err.cause?.message}`);
    throw new QueueFailure('failed', message);
  }
}
