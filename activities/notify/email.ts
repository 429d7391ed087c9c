import { createTransport, type Transporter } from 'nodemailer';
import type { Config } from '../../config/config.js';
import type { RenderedMail } from '../../domain/notification-render.js';

// Email through nodemailer: one pooled transport per worker from SMTP_URL (its credentials stay inside the
// transport: never logged, never in an activity's input or result), STARTTLS required unless SMTP_REQUIRE_TLS
// is off, short timeouts instead of nodemailer's minutes.

export interface MailAnswer {
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as …`. */
  response: string;
  accepted: string[];
  rejected: string[];
}

export class SmtpNotConfiguredError extends Error {
  override name = 'SmtpNotConfiguredError';
  constructor() {
    super('SMTP_URL is not set: email endpoints cannot be delivered');
  }
}

export function createMailer(smtp: Config['notify']['smtp']): Transporter | null {
  if (!smtp.url) return null;
  const tls = new URL(smtp.url).protocol === 'smtps:';
  return createTransport({
    url: smtp.url,
    pool: true,
    maxConnections: smtp.maxConnections,
    maxMessages: 100,
    secure: tls,
    requireTLS: !tls && smtp.requireTls,
    ignoreTLS: !tls && !smtp.requireTls,
    tls: { rejectUnauthorized: smtp.verifyTls },
    connectionTimeout: smtp.timeoutMs,
    greetingTimeout: smtp.timeoutMs,
    socketTimeout: smtp.timeoutMs,
    dnsTimeout: smtp.timeoutMs,
    logger: false,
    debug: false,
  });
}

export async function sendMail(
  mailer: Transporter | null,
  m: { from: string; to: readonly string[]; eventId: string; mail: RenderedMail; eventType: string },
): Promise<MailAnswer> {
  if (!mailer) throw new SmtpNotConfiguredError();
  const info = await mailer.sendMail({
    from: m.from,
    to: [...m.to],
    subject: m.mail.subject,
    text: m.mail.text,
    html: m.mail.html,
    // The same Message-ID on every retry: a mail client shows a retried event once.
    messageId: `<${m.eventId}@spm-orchestrator>`,
    headers: { 'X-SPM-Event-Id': m.eventId, 'X-SPM-Event-Type': m.eventType },
  });
  const list = (v: unknown) => (Array.isArray(v) ? v.map((a) => (typeof a === 'string' ? a : String((a as { address?: string }).address ?? a))) : []);
  return { response: String((info as { response?: string }).response ?? ''), accepted: list(info.accepted), rejected: list(info.rejected) };
}

/** An SMTP error's reply code and text, when the server gave one (5xx is permanent per RFC 5321). */
export function smtpReply(err: unknown): { code: number | null; response: string | null } {
  const e = err as { responseCode?: unknown; response?: unknown };
  return { code: typeof e.responseCode === 'number' ? e.responseCode : null, response: typeof e.response === 'string' ? e.response : null };
}
