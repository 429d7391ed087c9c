import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Agent } from 'undici';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import type { DeliveryStatus } from '../../db/database.js';
import {
  beginAttempt, claimDueDeliveries, fanOutEvents, finishAttempt, type AttemptContext, type AttemptOutcome, type Claim,
} from '../../db/queries/notifications.js';
import { nextAttemptDelaySeconds, parseRetryAfter, webhookVerdict, type EventEnvelope } from '../../domain/notification-events.js';
import { dashboardPath, renderMail } from '../../domain/notification-render.js';
import { createMailer, sendMail, smtpReply } from './email.js';
import { createWebhookAgent, sendWebhook } from './webhook.js';

// Delivery of outbox events (workflows/notify.ts drives these): fan-out into deliveries, claiming the due
// ones of an endpoint, and ONE attempt of one delivery per activity. An attempt is recorded before it sends
// (a `sending` row) and after (its outcome and the next attempt), so a worker killed in between leaves a
// visible `lost` attempt and Temporal's retry of the activity sends again with the same webhook-id: the
// receiver may see an event twice, never two ids for one event and never none. Only ids enter workflow
// history: payloads, secrets and SMTP credentials stay in PostgreSQL and in this process.

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
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return p; // called outside an activity (the bench's direct calls)
  }
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
