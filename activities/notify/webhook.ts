import { Agent, request } from 'undici';
import { Webhook } from 'standardwebhooks';

// One webhook attempt, signed per Standard Webhooks: `webhook-id` (the event id, the same on every retry),
// `webhook-timestamp` (this attempt), `webhook-signature` (`v1,<base64>` per active secret: two during a
// rotation). Redirects are never followed (undici's request() does not); one timeout covers headers and body.

export interface WebhookRequest {
  url: string;
  secrets: readonly string[];
  eventId: string;
  body: string;
  timeoutMs: number;
  now?: Date;
}

export interface WebhookAnswer {
  statusCode: number;
  retryAfter: string | null;
  /** The first bytes of the receiver's answer (for the attempt log). */
  body: string;
}

const MAX_BODY_KEPT = 1024;

/** `v1,<sig> v1,<sig>`: one signature per secret, space-separated (receivers accept any). */
export function signatureHeader(secrets: readonly string[], eventId: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(eventId, at, body)).join(' ');
}

export function createWebhookAgent(): Agent {
  return new Agent({ connections: 64, keepAliveTimeout: 10_000, connect: { timeout: 5_000 } });
}

export async function sendWebhook(agent: Agent, r: WebhookRequest): Promise<WebhookAnswer> {
  const at = r.now ?? new Date();
  const signal = AbortSignal.timeout(r.timeoutMs);
  const res = await request(r.url, {
    method: 'POST',
    dispatcher: agent,
    signal,
    headersTimeout: r.timeoutMs,
    bodyTimeout: r.timeoutMs,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'spm-orchestrator-webhooks/1',
      'webhook-id': r.eventId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatureHeader(r.secrets, r.eventId, at, r.body),
    },
    body: r.body,
  });
  let kept = '';
  try {
    for await (const chunk of res.body) {
      kept += (chunk as Buffer).toString('utf8');
      if (kept.length >= MAX_BODY_KEPT) break;
    }
  } finally {
    res.body.destroy();
  }
  const ra = res.headers['retry-after'];
  return { statusCode: res.statusCode, retryAfter: Array.isArray(ra) ? (ra[0] ?? null) : (ra ?? null), body: kept.slice(0, MAX_BODY_KEPT) };
}
