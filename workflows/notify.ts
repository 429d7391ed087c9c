import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { notifyEndpointStatusQuery, notifyWakeSignal, type NotifyEndpointInput, type NotifyEndpointStatus } from './messages.js';

// The delivery of one endpoint's notifications (`notify-endpoint-<id>`, started and woken by the worker's
// outbox listener with signal-with-start). It claims the endpoint's due deliveries and runs ONE activity per
// delivery attempt, at most the endpoint's max_concurrency at once. A failed attempt is not retried here
// but rescheduled in PostgreSQL on the Standard Webhooks schedule (activities/notify): the workflow sleeps
// until the next due delivery, a wake signal, or its sweep. Temporal's own retry of an attempt activity only
// covers a worker lost mid-attempt (heartbeat timeout): the retry sends the same webhook-id again.
// Regular activities, not local ones: what the loop does next depends on which attempts have finished, and
// only activity completions in history replay exactly as they happened (local activities finishing inside one
// long workflow task replay all at once: a nondeterminism error after a cache eviction, seen in bench/notify).

const { notifyClaim } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' }, // unlimited: PostgreSQL may be down for a while
});

const { notifyAttempt } = proxyActivities<Activities>({
  // a webhook has NOTIFY_WEBHOOK_TIMEOUT_SECONDS (≤ 60), SMTP its own short timeouts; the activity heartbeats
  startToCloseTimeout: '90 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Attempts (or idle rounds) before the history starts over. */
const ATTEMPTS_PER_RUN = 2000;
const ROUNDS_PER_RUN = 500;

export async function notificationEndpoint(input: NotifyEndpointInput): Promise<void> {
  let wakes = 0;
  let finished = 0;
  const inFlight = new Set<number>();
  const queue: number[] = [];
  const status: NotifyEndpointStatus = {
    endpointId: input.endpointId, state: 'active', inFlight: 0, queued: 0, concurrency: 1, nextDueAt: null,
    totals: input.totals ?? { attempts: 0, delivered: 0, retrying: 0, failed: 0, activityFailures: 0 },
  };
  setHandler(notifyWakeSignal, () => void wakes++);
  setHandler(notifyEndpointStatusQuery, () => ({ ...status, inFlight: inFlight.size, queued: queue.length }));

  let nextDue: number | null = null;
  const sooner = (iso: string | null) => {
    if (iso === null) return;
    const t = Date.parse(iso);
    if (nextDue === null || t < nextDue) nextDue = t;
  };

  let attempts = 0;
  const launch = (deliveryId: number) => {
    inFlight.add(deliveryId);
    attempts++;
    status.totals.attempts++;
    notifyAttempt({ deliveryId })
      .then(
        (r) => {
          if (r.status === 'delivered') status.totals.delivered++;
          else if (r.status === 'retrying') {
            status.totals.retrying++;
            sooner(r.nextAttemptAt);
          } else if (r.status === 'failed') status.totals.failed++;
        },
        () => void status.totals.activityFailures++, // still pending in PostgreSQL: claimed again later
      )
      .finally(() => {
        inFlight.delete(deliveryId);
        finished++;
      });
  };

  for (let round = 0; ; round++) {
    const seenWakes = wakes;
    const seenFinished = finished;
    const rotate = attempts >= ATTEMPTS_PER_RUN || round >= ROUNDS_PER_RUN || workflowInfo().continueAsNewSuggested;
    if (!rotate && queue.length < status.concurrency) {
      const claim = await notifyClaim({ endpointId: input.endpointId, exclude: [...inFlight, ...queue], limit: Math.max(status.concurrency * 4, 20) });
      status.state = claim.state;
      status.concurrency = claim.concurrency;
      if (claim.state === 'active') queue.push(...claim.due);
      nextDue = null;
      sooner(claim.nextDueAt);
      status.nextDueAt = claim.nextDueAt;
    }
    if (status.state !== 'active' || rotate) {
      queue.length = 0;
      await condition(() => inFlight.size === 0);
      // Disabled (410, or by hand) or deleted: nothing more to deliver; enabling it starts the workflow again.
      if (status.state !== 'active') return;
      await continueAsNew<typeof notificationEndpoint>({ ...input, totals: status.totals });
    }
    while (queue.length && inFlight.size < status.concurrency) launch(queue.shift()!);
    if (queue.length) {
      await condition(() => inFlight.size < status.concurrency);
      continue;
    }
    // Nothing claimed waits: sleep until a wake, an attempt ends (it may have scheduled a retry), the next
    // due delivery, or the sweep.
    const sweepMs = input.sweepSeconds * 1000;
    const due = nextDue as number | null;
    const timeout = due === null ? sweepMs : Math.min(sweepMs, Math.max(due - Date.now(), 20));
    await condition(() => wakes > seenWakes || finished > seenFinished, timeout);
  }
}
