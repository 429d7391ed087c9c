import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Agent } from 'undici';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import type { DeliveryStatus } from '../../db/database.js';
import pLimit from 'p-limit';
import {
  beginAttempt, beginAttempts, claimDueDeliveries, deliveryEndpoint, deliveryStatusAfter, fanOutEvents, finishAttempt, finishAttempts, nextDueAt,
  type AttemptContext, type AttemptOutcome, type Claim,
} from '../../db/queries/notifications.js';
import { nextAttemptDelaySeconds, parseRetryAfter, webhookVerdict, type EventEnvelope } from '../../domain/notification-events.js';
import { dashboardPath, renderMail } from '../../domain/notification-render.js';
import { deliveriesToClaim, EMPTY_CLAIM_PAUSE_MS } from '../../domain/notification-batch.js';
import { createMailer, sendMail, smtpReply } from './email.js';
import { createWebhookAgent, sendWebhook } from './webhook.js';

// Delivery of outbox events (workflows/notify.ts drives these): fan-out into deliveries and, per endpoint,
// ONE long activity (notifyDeliver) that claims the due deliveries in bulk and sends them, at most the
// endpoint's max_concurrency at once, recording the outcomes in bulk. Every attempt is recorded before it
// sends (a `sending` row) and after (its outcome and the next attempt), so a worker killed in between leaves
// attempts `sending`: Temporal's retry of the activity (heartbeat timeout) claims those deliveries again,
// marks the old attempts `lost` and sends with the same webhook-id: the receiver may see an event twice, never
// two ids for one event and never none. Only ids and counts enter workflow history: payloads, secrets and SMTP
// credentials stay in PostgreSQL and in this process. (notifyClaim and notifyAttempt, one activity per
// attempt, serve the delivery workflows started before notifyDeliver existed: workflows/notify.ts.)

export interface NotifyClients {
  mailer: Transporter | null;
  agent: Agent;
}

export function createNotifyClients(config: Readonly<Config>): NotifyClients {
  return { mailer: createMailer(config.notify.smtp), agent: createWebhookAgent() };
}

export async function closeNotifyClients(c: NotifyClients): Promise<void> {
  c.mailer?.close();
  await c.agent.close();
}

export interface AttemptResult {
  status: DeliveryStatus;
  nextAttemptAt: string | null;
}

const WORKER = `${hostname()}:${process.pid}`;

/** What one notifyDeliver run did (counts of attempts by the delivery status they led to). */
export interface DeliverResult {
  state: 'active' | 'disabled' | 'gone';
  concurrency: number;
  attempts: number;
  delivered: number;
  retrying: number;
  failed: number;
  /** The most attempts this run had sending at once (≤ concurrency). */
  maxInFlight: number;
  /** The endpoint's next waiting delivery (ISO), or null. */
  nextDueAt: string | null;
  /** Stopped by its time budget with deliveries still due: run again at once. */
  more: boolean;
}

/** Outcomes recorded per statement at most, and how long an outcome waits for others to share its statement. */
const RECORD_BATCH = 64;
const RECORD_WAIT_MS = 20;
/** Outbox fan-outs inside one run: at most this often (each is a transaction of its own). */
const FAN_OUT_EVERY_MS = 200;
const HEARTBEAT_MS = 2_000;

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (tests' direct calls)
  }
}

/** The envelope an endpoint receives: `{type, timestamp, data}` with the links added. */
export function envelopeOf(config: Readonly<Config>, ev: AttemptContext['event']): EventEnvelope {
  const data = ev.payload as EventEnvelope['data'];
  const temporal = ev.workflowId
    ? `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(ev.workflowId)}`
    : null;
  return {
    type: ev.type,
    timestamp: ev.createdAt.toISOString(),
    data: { ...data, links: { dashboard: `${config.notify.dashboardUrl}${dashboardPath(ev.type, data)}`, temporal } },
  } as EventEnvelope;
}

function heartbeatWhile<T>(p: Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return p;
  const timer = setInterval(() => ctx.heartbeat(), 2_000);
  return p.finally(() => clearInterval(timer));
}

export function createNotifyActivities(deps: { config: Readonly<Config>; db: Db; notify: NotifyClients }) {
  const { config, db } = deps;
  const schedule = config.notify.retryScheduleSeconds;

  const retryAt = (ctx: AttemptContext, retryAfterSeconds: number | null): Date | null => {
    const delay = nextAttemptDelaySeconds(schedule, ctx.scheduleStep + 1, retryAfterSeconds, Math.random());
    return delay === null ? null : new Date(Date.now() + delay * 1000);
  };

  async function webhookAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
    const t0 = performance.now();
    const body = JSON.stringify(envelopeOf(config, ctx.event));
    try {
      const a = await sendWebhook(deps.notify.agent, {
        url: ctx.endpoint.url!, secrets: ctx.endpoint.secrets, eventId: ctx.event.eventId, body, timeoutMs: config.notify.webhookTimeoutMs,
      });
      const durationMs = performance.now() - t0;
      const verdict = webhookVerdict(a.statusCode);
      if (verdict === 'delivered') return { status: 'succeeded', statusCode: a.statusCode, response: a.body || null, error: null, durationMs, nextAttemptAt: null, disableEndpoint: null };
      if (verdict === 'disable') {
        return { status: 'failed', statusCode: 410, response: a.body || null, error: 'HTTP 410 Gone: the endpoint is disabled', durationMs, nextAttemptAt: null, disableEndpoint: `HTTP 410 Gone at ${new Date().toISOString()}` };
      }
      const honour = a.statusCode === 429 || a.statusCode >= 500;
      const retryAfter = honour ? parseRetryAfter(a.retryAfter, Date.now()) : null;
      const error = a.statusCode >= 300 && a.statusCode < 400 ? `HTTP ${a.statusCode}: redirects are not followed` : `HTTP ${a.statusCode}${retryAfter !== null ? ` (Retry-After ${retryAfter} s)` : ''}`;
      return { status: 'failed', statusCode: a.statusCode, response: a.body || null, error, durationMs, nextAttemptAt: retryAt(ctx, retryAfter), disableEndpoint: null };
    } catch (err) {
      const e = err as Error & { code?: string };
      const error = e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT'
        ? `no answer within ${config.notify.webhookTimeoutMs / 1000} s`
        : `${e.code ? `${e.code}: ` : ''}${e.message}`;
      return { status: 'failed', statusCode: null, response: null, error, durationMs: performance.now() - t0, nextAttemptAt: retryAt(ctx, null), disableEndpoint: null };
    }
  }

  async function emailAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
    const t0 = performance.now();
    const envelope = envelopeOf(config, ctx.event);
    try {
      const a = await sendMail(deps.notify.mailer, {
        from: config.notify.smtp.from, to: ctx.endpoint.recipients, eventId: ctx.event.eventId, mail: renderMail(envelope, ctx.event.eventId), eventType: ctx.event.type,
      });
      const code = Number(/^(\d{3})/.exec(a.response)?.[1] ?? 250);
      const durationMs = performance.now() - t0;
      if (a.rejected.length && !a.accepted.length) {
        return { status: 'failed', statusCode: code, response: a.response, error: `every recipient refused: ${a.rejected.join(', ')}`, durationMs, nextAttemptAt: retryAt(ctx, null), disableEndpoint: null };
      }
      const partly = a.rejected.length ? `refused: ${a.rejected.join(', ')}` : null;
      return { status: 'succeeded', statusCode: code, response: a.response, error: partly, durationMs, nextAttemptAt: null, disableEndpoint: null };
    } catch (err) {
      const reply = smtpReply(err);
      const permanent = reply.code !== null && reply.code >= 500 && reply.code < 600;
      return {
        status: 'failed', statusCode: reply.code, response: reply.response, error: (err as Error).message, durationMs: performance.now() - t0,
        // 5xx is a permanent refusal (RFC 5321 §4.2.1): retrying the same message changes nothing.
        nextAttemptAt: permanent ? null : retryAt(ctx, null), disableEndpoint: null,
      };
    }
  }

  return {
    /** Outbox → deliveries (one per subscribed endpoint); the endpoints that got some are woken. */
    async notifyFanOut(): Promise<{ events: number; endpoints: number[] }> {
      let events = 0;
      const endpoints = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const r = await fanOutEvents(db, 1000);
        events += r.events;
        r.endpoints.forEach((e) => endpoints.add(e));
        if (r.events < 1000) break;
      }
      return { events, endpoints: [...endpoints] };
    },

    /** The endpoint's due deliveries (after a fan-out of what waits in the outbox). */
    async notifyClaim(input: { endpointId: number; exclude: number[]; limit: number }): Promise<Claim> {
      await fanOutEvents(db, 1000);
      return claimDueDeliveries(db, input.endpointId, input.exclude, input.limit);
    },

    /**
     * Delivers an endpoint's due deliveries for up to `maxSeconds` (then returns `more` when some are still
     * due): claims as many as there are free slots of max_concurrency (beginAttempts: `sending` rows first),
     * sends them (p-limit at the endpoint's bound), and records the outcomes RECORD_BATCH at a time
     * (finishAttempts); new events in the outbox are fanned out as it goes. A 410 is recorded at once with the
     * endpoint's disabling and ends the run. Heartbeats every 2 s; cancelled, it stops claiming and records
     * what it sent. Throws only when PostgreSQL does (Temporal retries it; unrecorded attempts become `lost`).
     */
    async notifyDeliver(input: { endpointId: number; maxSeconds: number }): Promise<DeliverResult> {
      const actx = currentContext();
      const until = Date.now() + input.maxSeconds * 1000;
      const r: DeliverResult = { state: 'active', concurrency: 1, attempts: 0, delivered: 0, retrying: 0, failed: 0, maxInFlight: 0, nextDueAt: null, more: false };
      const limit = pLimit(1);
      /** Claimed by this run and not yet recorded (excluded from the next claims). */
      const unrecorded = new Set<number>();
      let sending = 0;
      let toRecord: { attemptId: number; deliveryId: number; outcome: AttemptOutcome }[] = [];
      let recording: Promise<void> = Promise.resolve();
      let recordTimer: NodeJS.Timeout | undefined;
      let failure: unknown;
      let disabled = false;
      let lastFanOut = 0;
      // An attempt ending (or its record) pokes the loop; a poke before the loop waits is not lost (`poked`).
      let poked = false;
      let wake: (() => void) | undefined;
      const poke = () => {
        poked = true;
        wake?.();
        wake = undefined;
      };
      let emptyClaimAt = -Infinity;
      const count = (status: DeliveryStatus) => {
        if (status === 'delivered') r.delivered++;
        else if (status === 'retrying') r.retrying++;
        else if (status === 'failed') r.failed++;
      };
      const record = () => {
        if (recordTimer) clearTimeout(recordTimer);
        recordTimer = undefined;
        const batch = toRecord;
        toRecord = [];
        if (!batch.length) return recording;
        recording = recording
          .then(() => finishAttempts(db, batch))
          .then(
            () => batch.forEach((b) => count(deliveryStatusAfter(b.outcome))),
            (err: unknown) => void (failure ??= err),
          )
          .finally(() => {
            batch.forEach((b) => unrecorded.delete(b.deliveryId));
            poke();
          });
        return recording;
      };
      const send = async (a: AttemptContext) => {
        let outcome: AttemptOutcome;
        try {
          outcome = a.endpoint.kind === 'webhook' ? await webhookAttempt(a) : await emailAttempt(a);
        } catch (err) {
          // rendering or signing threw (a bug): recorded as a failed attempt, retried on the schedule
          outcome = { status: 'failed', statusCode: null, response: null, error: (err as Error).message, durationMs: 0, nextAttemptAt: retryAt(a, null), disableEndpoint: null };
        }
        if (outcome.disableEndpoint) {
          disabled = true;
          try {
            count(await finishAttempt(db, a, outcome));
          } catch (err) {
            failure ??= err;
          }
          unrecorded.delete(a.deliveryId);
        } else {
          toRecord.push({ attemptId: a.attemptId, deliveryId: a.deliveryId, outcome });
          if (toRecord.length >= RECORD_BATCH) void record();
          else recordTimer ??= setTimeout(() => void record(), RECORD_WAIT_MS);
        }
        sending--; // after its outcome is queued or recorded: the loop ends only with every outcome in hand
        poke();
      };
      const beat = actx ? setInterval(() => actx.heartbeat(), HEARTBEAT_MS) : undefined;
      try {
        for (;;) {
          const stopping = failure !== undefined || disabled || r.state !== 'active' || Date.now() >= until || !!actx?.cancellationSignal.aborted;
          if (stopping && sending === 0) break;
          // Claim when a quarter of the slots (or all) are free: fewer, larger statements than one per attempt.
          poked = false;
          if (!stopping && deliveriesToClaim({ concurrency: r.concurrency, sending, msSinceEmptyClaim: Date.now() - emptyClaimAt }) > 0) {
            let claimed: AttemptContext[];
            try {
              if (Date.now() - lastFanOut >= FAN_OUT_EVERY_MS) {
                await fanOutEvents(db, 1000);
                lastFanOut = Date.now();
              }
              const ep = await deliveryEndpoint(db, input.endpointId);
              r.state = ep.state;
              r.concurrency = ep.concurrency;
              if (ep.state !== 'active' || !ep.endpoint) continue;
              limit.concurrency = ep.concurrency;
              // the bound just read (it may have changed): every free slot, or none
              claimed = await beginAttempts(db, ep.endpoint, WORKER, [...unrecorded], Math.max(0, ep.concurrency - sending));
            } catch (err) {
              // PostgreSQL failing: stop claiming, let the sends in flight end and try to record them, then throw
              // (a retry started now would take this run's unrecorded deliveries again, beside their sends)
              failure ??= err;
              continue;
            }
            for (const a of claimed) {
              unrecorded.add(a.deliveryId);
              sending++;
              r.attempts++;
              void limit(send, a);
            }
            r.maxInFlight = Math.max(r.maxInFlight, sending);
            if (claimed.length) continue;
            if (sending === 0) break; // nothing due
            emptyClaimAt = Date.now();
          }
          if (poked) continue;
          // wait for an attempt to end (at most a moment: the time budget, a cancellation, a pause ending)
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, stopping ? 1_000 : EMPTY_CLAIM_PAUSE_MS);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        await record();
        if (failure !== undefined) throw failure;
      } finally {
        if (beat) clearInterval(beat);
        if (recordTimer) clearTimeout(recordTimer);
      }
      if (disabled) r.state = 'disabled';
      if (r.state === 'active') {
        r.nextDueAt = await nextDueAt(db, input.endpointId);
        r.more = r.nextDueAt !== null && Date.parse(r.nextDueAt) <= Date.now();
      }
      return r;
    },

    /** One attempt of one delivery: recorded before and after the send (see above). */
    async notifyAttempt(input: { deliveryId: number }): Promise<AttemptResult> {
      const ctx = await beginAttempt(db, input.deliveryId, WORKER);
      if ('skipped' in ctx) return { status: ctx.skipped, nextAttemptAt: ctx.nextAttemptAt };
      const outcome = await heartbeatWhile(ctx.endpoint.kind === 'webhook' ? webhookAttempt(ctx) : emailAttempt(ctx));
      const status = await finishAttempt(db, ctx, outcome);
      return { status, nextAttemptAt: outcome.nextAttemptAt?.toISOString() ?? null };
    },
  };
}
