import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { notifyEndpointStatusQuery, notifyWakeSignal, type NotifyEndpointInput, type NotifyEndpointStatus } from './messages.js';

// The delivery of one endpoint's notifications (`notify-endpoint-<id>`, started and woken by the worker's
// outbox listener with signal-with-start). It runs ONE activity at a time, notifyDeliver, which claims the
// endpoint's due deliveries in bulk and sends them inside the worker, at most the endpoint's max_concurrency
// at once, for up to DELIVER_SECONDS; the workflow then runs it again at once (more due), or sleeps until the
// next due delivery, a wake signal, or its sweep. A failed attempt is not retried here but rescheduled in
// PostgreSQL on the Standard Webhooks schedule (activities/notify). Temporal's own retry of notifyDeliver
// covers a worker lost mid-run (heartbeat timeout) and PostgreSQL being down: the retry marks the attempts
// left `sending` lost and sends them again with the same webhook-ids. One activity per run instead of one per
// attempt (the design before, kept below for the runs started with it): a history of a few events per
// thousands of attempts, and no Temporal round trip per attempt (bench/notify: README).

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

const { notifyDeliver } = proxyActivities<Activities>({
  // DELIVER_SECONDS of claiming, then the sends in flight (NOTIFY_WEBHOOK_TIMEOUT_SECONDS ≤ 60) and their record
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' }, // unlimited: PostgreSQL may be down for a while
});

/** How long one notifyDeliver claims new deliveries before it returns (its run then starts again). */
const DELIVER_SECONDS = 20;
/** notifyDeliver runs (busy or idle) before the history starts over. */
const DELIVER_RUNS_PER_RUN = 500;

export async function notificationEndpoint(input: NotifyEndpointInput): Promise<void> {
  // Runs started before the batch delivery replay the per-attempt loop (their histories hold notifyClaim and
  // notifyAttempt); they move to the batch loop at their next continue-as-new. Deprecate once none is open.
  if (!patched('notify-batch-delivery')) return perAttemptLoop(input);
  let wakes = 0;
  const status: NotifyEndpointStatus = {
    endpointId: input.endpointId, state: 'active', delivering: false, inFlight: null, queued: null, concurrency: 1, nextDueAt: null,
    totals: input.totals ?? { attempts: 0, delivered: 0, retrying: 0, failed: 0, activityFailures: 0 },
  };
  setHandler(notifyWakeSignal, () => void wakes++);
  setHandler(notifyEndpointStatusQuery, () => ({ ...status, totals: { ...status.totals } }));

  for (let run = 0; ; run++) {
    if (run >= DELIVER_RUNS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof notificationEndpoint>({ ...input, totals: status.totals });
    }
    const seenWakes = wakes;
    status.delivering = true;
    const r = await notifyDeliver({ endpointId: input.endpointId, maxSeconds: DELIVER_SECONDS });
    status.delivering = false;
    status.state = r.state;
    status.concurrency = r.concurrency;
    status.nextDueAt = r.nextDueAt;
    status.totals.attempts += r.attempts;
    status.totals.delivered += r.delivered;
    status.totals.retrying += r.retrying;
    status.totals.failed += r.failed;
    // Disabled (410, or by hand) or deleted: nothing more to deliver; enabling it starts the workflow again.
    if (r.state !== 'active') return;
    if (r.more) continue;
    // Nothing due: sleep until a wake (also one that came while notifyDeliver ran), the next due delivery,
    // or the sweep.
    const sweepMs = input.sweepSeconds * 1000;
    const due = r.nextDueAt === null ? null : Date.parse(r.nextDueAt);
    const timeout = due === null ? sweepMs : Math.min(sweepMs, Math.max(due - Date.now(), 20));
    await condition(() => wakes > seenWakes, timeout);
  }
}

// --- the per-attempt loop (runs started before notify-batch-delivery) ---------------------------------------
// It claims the endpoint's due deliveries and runs ONE activity per delivery attempt, at most the endpoint's
// max_concurrency at once. Regular activities, not local ones: what the loop does next depends on which
// attempts have finished, and only activity completions in history replay exactly as they happened.

/** Attempts (or idle rounds) before the history starts over. */
const ATTEMPTS_PER_RUN = 2000;
const ROUNDS_PER_RUN = 500;

async function perAttemptLoop(input: NotifyEndpointInput): Promise<void> {
  let wakes = 0;
  let finished = 0;
  const inFlight = new Set<number>();
  const queue: number[] = [];
  const status: NotifyEndpointStatus = {
    endpointId: input.endpointId, state: 'active', delivering: false, inFlight: 0, queued: 0, concurrency: 1, nextDueAt: null,
    totals: input.totals ?? { attempts: 0, delivered: 0, retrying: 0, failed: 0, activityFailures: 0 },
  };
  setHandler(notifyWakeSignal, () => void wakes++);
  setHandler(notifyEndpointStatusQuery, () => ({ ...status, delivering: inFlight.size > 0, inFlight: inFlight.size, queued: queue.length }));

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
