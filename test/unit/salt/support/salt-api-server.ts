// A tiny real salt-api (rest_cherrypy) look-alike on 127.0.0.1:0 for the Salt client tests: /login,
// /logout, POST / with lowstate chunks and GET /jobs/<jid>, answering with the reference's shapes
// (HTML error pages, full_return maps, job info). Each test scripts the per-function replies; the
// client is never mocked.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PASSWORD = 'S3cret-salt-pa55!';
export const USER = 'orchestrator';
export const EAUTH = 'sharedsecret';

export interface RecordedRequest {
  method: string;
  path: string;
  token: string | undefined;
  body: unknown;
}

export type Chunk = Record<string, unknown> & { client: string; fun: string; tgt: unknown };

/** What a scripted handler may answer: a JSON `return[0]`, or a raw HTTP reply. */
export type ChunkReply = { return0: unknown } | { status: number; html?: string; json?: unknown; text?: string } | 'hang';

export interface FakeSaltApi {
  url: string;
  requests: RecordedRequest[];
  /** Tokens the server accepts right now (clear it to simulate expiry or a salt-api restart). */
  valid: Set<string>;
  issued: string[];
  loginDelayMs: number;
  /** When set, every authenticated request answers 401 (an ACL that denies everything). */
  rejectAll: boolean;
  /** When set, /login answers this instead (e.g. 503 "Salt Master is not available"). */
  loginFailure: { status: number; html: string } | undefined;
  /** Scripted lowstate handler: POST / chunks. */
  onChunk: (chunk: Chunk) => ChunkReply | Promise<ChunkReply>;
  /** Scripted /jobs/<jid> handler: `poll` counts from 1 per jid. */
  onJob: (jid: string, poll: number) => ChunkReply | { body: unknown };
  count(path: string): number;
  chunks(): Chunk[];
  close(): Promise<void>;
}

/** CherryPy's error page, as salt-api sends for 401/400/503/504 (reference §1.3). */
export function cherrypyPage(status: string, message: string): string {
  return `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html>
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8"></meta>
    <title>${status}</title>
    <style type="text/css">
    #powered_by { margin-top: 20px; border-top: 2px solid black; font-style: italic; }
    #traceback { color: red; }
    </style>
</head>
    <body>
        <h2>${status}</h2>
        <p>${message}</p>
        <pre id="traceback">Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/cherrypy/_cprequest.py", line 638, in respond</pre>
    <div id="powered_by">
      <span>
        Powered by <a href="http://www.cherrypy.dev">CherryPy 18.8.0</a>
      </span>
    </div>
    </body>
</html>
`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': type, ...headers });
  response.end(body);
}

const json = (response: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) =>
  send(response, status, JSON.stringify(value), 'application/json', headers);

function reply(response: ServerResponse, answer: ChunkReply | { body: unknown }): void {
  if (answer === 'hang') return;
  if ('return0' in answer) return json(response, 200, { return: [answer.return0] });
  if ('body' in answer) return json(response, 200, answer.body);
  if (answer.json !== undefined) return json(response, answer.status, answer.json);
  if (answer.text !== undefined) return send(response, answer.status, answer.text, 'text/plain');
  send(response, answer.status, answer.html ?? cherrypyPage(String(answer.status), ''), 'text/html;charset=utf-8');
}

let tokenSeed = 0;

export async function startFakeSaltApi(setup: Partial<Pick<FakeSaltApi, 'onChunk' | 'onJob' | 'loginDelayMs'>> = {}): Promise<FakeSaltApi> {
  const requests: RecordedRequest[] = [];
  const polls = new Map<string, number>();
  const state = {
    valid: new Set<string>(),
    issued: [] as string[],
    loginDelayMs: setup.loginDelayMs ?? 0,
    rejectAll: false,
    loginFailure: undefined as { status: number; html: string } | undefined,
    onChunk: setup.onChunk ?? ((): ChunkReply => ({ return0: {} })),
    onJob: setup.onJob ?? ((jid: string): ChunkReply | { body: unknown } => ({
      body: { return: [{}], info: [{ jid, Error: 'Cannot contact returner or no job with this jid' }] },
    })),
  };
  const unauthorized = (response: ServerResponse) =>
    send(response, 401, cherrypyPage('401 Unauthorized', 'No permission -- see authorization schemes'), 'text/html;charset=utf-8');

  const server = createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      const token = request.headers['x-auth-token'];
      const path = request.url ?? '/';
      let body: unknown;
      try {
        body = raw === '' ? undefined : (JSON.parse(raw) as unknown);
      } catch {
        body = raw;
      }
      requests.push({ method: request.method ?? '', path, token: typeof token === 'string' ? token : undefined, body });
      const authorized = typeof token === 'string' && state.valid.has(token) && !state.rejectAll;

      if (path === '/login' && request.method === 'POST') {
        if (state.loginFailure !== undefined) return reply(response, state.loginFailure);
        const creds = body as { username?: string; password?: string; eauth?: string } | undefined;
        if (creds?.username !== USER || creds.password !== PASSWORD || creds.eauth !== EAUTH) return unauthorized(response);
        if (state.loginDelayMs > 0) await sleep(state.loginDelayMs);
        // CherryPy session ids are 40 hex chars (the reference: "The returned token is hex").
        const issued = createHash('sha1').update(`token-${++tokenSeed}`).digest('hex');
        state.valid.add(issued);
        state.issued.push(issued);
        const start = Date.now() / 1000;
        return json(
          response,
          200,
          { return: [{ token: issued, start, expire: start + 43200, user: USER, eauth: EAUTH, perms: ['.*', '@runner', '@wheel', '@jobs'] }] },
          { 'x-auth-token': issued, 'set-cookie': `session_id=${issued}; expires=Sat, 01 Jan 2050 00:00:00 GMT; Path=/` },
        );
      }
      if (path === '/logout' && request.method === 'POST') {
        if (typeof token === 'string') state.valid.delete(token);
        return json(response, 200, { return: 'Your token has been cleared' });
      }
      if (!authorized) return unauthorized(response);
      if (path === '/' && request.method === 'POST') {
        if (!Array.isArray(body)) return send(response, 400, cherrypyPage('400 Bad Request', 'Lowstates must be a list'), 'text/html');
        const chunk = body[0] as Chunk;
        return reply(response, await state.onChunk(chunk));
      }
      const job = /^\/jobs\/([^/]+)$/.exec(path);
      if (job !== null && request.method === 'GET') {
        const jid = decodeURIComponent(job[1] as string);
        const poll = (polls.get(jid) ?? 0) + 1;
        polls.set(jid, poll);
        return reply(response, state.onJob(jid, poll));
      }
      send(response, 404, cherrypyPage('404 Not Found', 'The path was not found.'), 'text/html');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeSaltApi = Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (p: string) => requests.filter((r) => r.path === p || (p === '/jobs' && r.path.startsWith('/jobs/'))).length,
    chunks: () => requests.filter((r) => r.path === '/' && Array.isArray(r.body)).map((r) => (r.body as Chunk[])[0] as Chunk),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return fake;
}

// ---- reference shapes ----------------------------------------------------------------------------

let jidSeed = 0;
export const newJid = (): string => `2026010112000012${String(++jidSeed).padStart(4, '0')}`;

/** One minion's full_return entry. */
export function full(ret: unknown, retcode = 0, jid = '20260101120000000001'): Record<string, unknown> {
  return { ret, retcode, jid, out: 'nested' };
}

/**
 * A /jobs/<jid> body: `info[0]` with the expected Minions and Result per returned minion,
 * `return[0]` with the returned values only.
 */
export function jobBody(
  jid: string,
  fun: string,
  minions: string[],
  returned: Record<string, { return: unknown; retcode?: number; success?: boolean }>,
): { return: unknown[]; info: unknown[] } {
  const returnMap = Object.fromEntries(Object.entries(returned).map(([m, r]) => [m, r.return]));
  return {
    return: [returnMap],
    info: [
      {
        jid,
        Function: fun,
        Arguments: [],
        Target: minions.length === 1 ? minions : minions.join(','),
        'Target-type': 'list',
        User: USER,
        StartTime: '2026, Jan 01 12:00:00.123456',
        Minions: minions,
        Result: returned,
      },
    ],
  };
}
