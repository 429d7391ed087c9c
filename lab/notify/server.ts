import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

// The lab's notification sinks, on loopback: a real SMTP server (npm smtp-server, nodemailer's own) whose
// mail is kept in memory, and a webhook receiver that checks each request's Standard Webhooks signature (the
// npm implementation; the tests check with Python's as well) and answers as told: fail N times first, a
// status, a Retry-After, a delay. `GET /lab/mail` and `GET /lab/webhooks` show what arrived.

/** The lab's webhook secret (lab only: the lab's endpoint is pre-configured with it). */
export const LAB_WEBHOOK_SECRET = `whsec_${Buffer.from('spm-lab-webhook-secret-32-bytes!').toString('base64')}`;

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string | null;
  eventId: string | null;
  eventType: string | null;
  receivedAt: string;
}

export interface ReceivedWebhook {
  hook: string;
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  body: string;
  /** The signature checked against the hook's secret(s) with the npm standardwebhooks. */
  verified: boolean;
  answered: number;
  receivedAt: string;
}

export interface HookBehaviour {
  /** The secrets the receiver accepts (any of them). */
  secrets?: string[];
  /** Answer the first N requests with failStatus (then `status`). */
  failTimes?: number;
  failStatus?: number;
  status?: number;
  retryAfter?: string;
  delayMs?: number;
  /** Keep no copy of the requests (a bench's tens of thousands). */
  dropBodies?: boolean;
  /** Called when a request arrives, before it is answered (tests use it to kill a worker mid-delivery). */
  onReceive?: (w: ReceivedWebhook) => void | Promise<void>;
}

export interface NotifyLab {
  httpUrl: string;
  smtpUrl: string;
  hookUrl(name: string): string;
  mails: ReceivedMail[];
  webhooks: ReceivedWebhook[];
  setHook(name: string, b: HookBehaviour): void;
  /** Per hook: requests received, in flight now, and the most in flight at once. */
  load(): Record<string, { inFlight: number; maxInFlight: number; received: number }>;
  stopSmtp(): Promise<void>;
  startSmtp(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server | SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err);
    (server as Server).once('error', onError);
    (server as Server).listen(port, host, () => {
      (server as Server).off('error', onError);
      const net = server instanceof SMTPServer ? server.server : server;
      resolve((net.address() as AddressInfo | null)?.port ?? port);
    });
  });
}

/** Listens on the port asked for, or on a free one when it is taken (a second lab beside the first). */
async function listenSomewhere(make: () => Server | SMTPServer, port: number, host: string): Promise<{ server: Server | SMTPServer; port: number }> {
  const s = make();
  try {
    return { server: s, port: await listen(s, port, host) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    const t = make();
    return { server: t, port: await listen(t, 0, host) };
  }
}

export async function startNotifyLab(opts: { httpPort?: number; smtpPort?: number; host?: string; defaultSecrets?: string[] } = {}): Promise<NotifyLab> {
  const host = opts.host ?? '127.0.0.1';
  const mails: ReceivedMail[] = [];
  const webhooks: ReceivedWebhook[] = [];
  const hooks = new Map<string, HookBehaviour & { seen: number }>();
  const hookOf = (name: string) => {
    let h = hooks.get(name);
    if (!h) hooks.set(name, (h = { seen: 0 }));
    return h;
  };
  const load = new Map<string, { inFlight: number; maxInFlight: number; received: number }>();
  const loadOf = (name: string) => {
    let l = load.get(name);
    if (!l) load.set(name, (l = { inFlight: 0, maxInFlight: 0, received: 0 }));
    return l;
  };

  const makeSmtp = () =>
    new SMTPServer({
      authOptional: true,
      // a stop (the tests' "SMTP down") drops pooled client connections at once instead of waiting 30 s
      closeTimeout: 200,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((m) => {
            const addresses = (v: unknown): string[] => {
              const list = Array.isArray(v) ? v : v ? [v] : [];
              return list.flatMap((a: { value?: { address?: string }[] }) => (a.value ?? []).map((x) => x.address ?? ''));
            };
            mails.push({
              from: addresses(m.from)[0] ?? '',
              to: addresses(m.to),
              subject: m.subject ?? '',
              text: m.text ?? '',
              html: typeof m.html === 'string' ? m.html : '',
              messageId: m.messageId ?? null,
              eventId: (m.headers.get('x-spm-event-id') as string | undefined) ?? null,
              eventType: (m.headers.get('x-spm-event-type') as string | undefined) ?? null,
              receivedAt: new Date().toISOString(),
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });

  let smtp = await listenSomewhere(makeSmtp, opts.smtpPort ?? 0, host);
  const smtpPort = smtp.port;

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (req.method === 'GET' && url.pathname === '/lab/mail') return json(res, 200, mails);
    if (req.method === 'GET' && url.pathname === '/lab/webhooks') {
      const hook = url.searchParams.get('hook');
      return json(res, 200, hook ? webhooks.filter((w) => w.hook === hook) : webhooks);
    }
    if (req.method === 'DELETE' && url.pathname === '/lab/received') {
      mails.length = 0;
      webhooks.length = 0;
      return json(res, 200, { cleared: true });
    }
    const m = /^\/webhook\/([A-Za-z0-9._-]{1,64})$/.exec(url.pathname);
    if (req.method === 'PUT' && url.pathname.startsWith('/lab/hooks/')) {
      const name = url.pathname.slice('/lab/hooks/'.length);
      const b = JSON.parse((await readBody(req)) || '{}') as HookBehaviour;
      setHook(name, b);
      return json(res, 200, { hook: name, ...b });
    }
    if (req.method !== 'POST' || !m) return json(res, 404, { error: 'not found' });
    const name = m[1]!;
    const l = loadOf(name);
    l.received++;
    l.maxInFlight = Math.max(l.maxInFlight, ++l.inFlight);
    res.once('close', () => void l.inFlight--);
    const body = await readBody(req);
    const h = hookOf(name);
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    const secrets = h.secrets ?? opts.defaultSecrets ?? [LAB_WEBHOOK_SECRET];
    const verified = secrets.some((s) => {
      try {
        new Webhook(s).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    h.seen++;
    const failing = h.seen <= (h.failTimes ?? 0);
    const status = !verified ? 401 : failing ? (h.failStatus ?? 503) : (h.status ?? 200);
    const w: ReceivedWebhook = { hook: name, headers, body, verified, answered: status, receivedAt: new Date().toISOString() };
    if (!h.dropBodies) webhooks.push(w);
    await h.onReceive?.(w);
    if (h.delayMs) await new Promise((r) => setTimeout(r, h.delayMs));
    const extra: Record<string, string> = failing && h.retryAfter ? { 'retry-after': h.retryAfter } : {};
    res.writeHead(status, { 'content-type': 'application/json', ...extra }).end(JSON.stringify({ ok: status < 300, verified }));
  };

  const makeHttp = () =>
    createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: String(err) });
      });
    });
  const http = await listenSomewhere(makeHttp, opts.httpPort ?? 0, host);
  const httpUrl = `http://${host}:${http.port}`;

  const setHook = (name: string, b: HookBehaviour) => {
    const h = hookOf(name);
    Object.assign(h, b);
    h.seen = 0;
  };

  let smtpUp = true;
  const stopSmtp = async () => {
    if (!smtpUp) return;
    smtpUp = false;
    await new Promise<void>((r) => (smtp.server as SMTPServer).close(() => r()));
  };
  return {
    httpUrl,
    smtpUrl: `smtp://${host}:${smtpPort}`,
    hookUrl: (name) => `${httpUrl}/webhook/${name}`,
    mails,
    webhooks,
    setHook,
    load: () => Object.fromEntries(load),
    stopSmtp,
    async startSmtp() {
      if (smtpUp) return;
      smtp = { server: makeSmtp(), port: smtpPort };
      await listen(smtp.server, smtpPort, host);
      smtpUp = true;
    },
    async close() {
      await stopSmtp();
      await new Promise<void>((r) => (http.server as Server).close(() => r()));
      (http.server as Server).closeAllConnections?.();
    },
  };
}
