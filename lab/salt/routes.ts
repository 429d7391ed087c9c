/**
 * salt-api (rest_cherrypy) routes: / (welcome and lowstate), /login, /logout, /jobs, /minions,
 * /run and /token, plus a small /lab/* control API for tests in other processes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runLowstateChunk, SALT_CLIENTS } from './clients.js';
import { SaltHttpError, sendHtmlError } from './html-errors.js';
import type { JobRunner } from './job-runner.js';
import { JOB_FAULT_KINDS, type JobFaultKind } from './faults.js';
import { jidToTime, listJob, returnsFromResult } from './jobs.js';
import { SNAPPER_MODULE_STATES, type SnapperModuleState } from './modules.js';
import type { SaltStats } from './stats.js';
import type { SaltToken, TokenStore } from './tokens.js';

export interface SaltCredentials {
  user: string;
  password: string;
  eauth: string;
}

export interface SaltRouteDeps {
  readonly runner: JobRunner;
  readonly tokens: TokenStore;
  readonly stats: SaltStats;
  readonly credentials: SaltCredentials;
  readonly perms: readonly string[];
}

function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-auth-token'];
  if (typeof header === 'string' && header !== '') return header;
  const cookie = req.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === 'session_id' && v) return v;
  }
  return undefined;
}

function requireToken(deps: SaltRouteDeps, req: FastifyRequest): SaltToken {
  const t = deps.tokens.lookup(tokenOf(req));
  if (!t) throw new SaltHttpError(401, 'No permission -- see authorization schemes');
  return t;
}

function checkCredentials(deps: SaltRouteDeps, body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  const c = deps.credentials;
  return b.username === c.user && b.password === c.password && b.eauth === c.eauth;
}

async function runLowstate(deps: SaltRouteDeps, body: unknown, user: string): Promise<unknown[]> {
  if (!Array.isArray(body)) throw new SaltHttpError(400, 'Lowstates must be a list');
  const out: unknown[] = [];
  for (const chunk of body) out.push(await runLowstateChunk(deps.runner, chunk, user));
  return out;
}

export function registerSaltRoutes(app: FastifyInstance, deps: SaltRouteDeps): void {
  const { runner, tokens, stats } = deps;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof SaltHttpError) return sendHtmlError(reply, err.status, err.message);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendHtmlError(reply, 406, 'Content type not supported');
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return sendHtmlError(reply, err.statusCode, err.message);
    return reply.code(500).send({ status: 500, return: 'An unexpected error occurred' });
  });
  app.setNotFoundHandler((req, reply) => sendHtmlError(reply, 404, `The path '${req.url}' was not found.`));

  app.get('/', () => ({ return: 'Welcome', clients: [...SALT_CLIENTS] }));

  app.post('/login', async (req, reply) => {
    if (!checkCredentials(deps, req.body)) return sendHtmlError(reply, 401, 'Could not authenticate using provided credentials');
    const t = tokens.create(deps.credentials.user, deps.credentials.eauth, deps.perms);
    stats.logins++;
    const expires = new Date(t.expire * 1000).toUTCString();
    return reply
      .header('X-Auth-Token', t.token)
      .header('Set-Cookie', `session_id=${t.token}; expires=${expires}; Path=/`)
      .send({ return: [{ token: t.token, start: t.start, expire: t.expire, user: t.user, eauth: t.eauth, perms: [...t.perms] }] });
  });

  app.post('/logout', async (req) => {
    const token = tokenOf(req);
    if (token) tokens.revoke(token);
    return { return: 'Your token has been cleared' };
  });

  app.post('/', async (req) => {
    const t = requireToken(deps, req);
    return { return: await runLowstate(deps, req.body, t.user) };
  });

  // No session: credentials or a raw token in every chunk.
  app.post('/run', async (req) => {
    if (!Array.isArray(req.body)) throw new SaltHttpError(400, 'Lowstates must be a list');
    for (const chunk of req.body as unknown[]) {
      const c = (chunk ?? {}) as Record<string, unknown>;
      const ok = typeof c.token === 'string' ? tokens.lookup(c.token) !== undefined : checkCredentials(deps, c);
      if (!ok) throw new SaltHttpError(401, 'No permission -- see authorization schemes');
    }
    return { return: await runLowstate(deps, req.body, deps.credentials.user) };
  });

  app.post('/token', async (req, reply) => {
    if (!checkCredentials(deps, req.body)) return sendHtmlError(reply, 401, 'Could not authenticate using provided credentials');
    const t = tokens.create(deps.credentials.user, deps.credentials.eauth, deps.perms);
    return [{ token: t.token, start: t.start, expire: t.expire, name: t.user, eauth: t.eauth }];
  });

  app.get('/jobs', async (req) => {
    requireToken(deps, req);
    const out: Record<string, unknown> = {};
    for (const job of runner.jobs.all()) {
      out[job.jid] = { Function: job.fun, Arguments: job.arguments, Target: job.tgt, 'Target-type': job.tgtType, User: job.user, StartTime: jidToTime(job.jid) };
    }
    return { return: [out] };
  });

  app.get<{ Params: { jid: string } }>('/jobs/:jid', async (req) => {
    requireToken(deps, req);
    const info = listJob(runner.jobs.get(req.params.jid), req.params.jid, runner.jobFaults.take(req.params.jid));
    return { info: [info], return: [returnsFromResult(info)] };
  });

  const minions = async (req: FastifyRequest<{ Params: { mid?: string } }>) => {
    const t = requireToken(deps, req);
    const [ret] = await runLowstate(deps, [{ client: 'local', tgt: req.params.mid ?? '*', fun: 'grains.items' }], t.user);
    return { return: [ret] };
  };
  app.get('/minions', minions);
  app.get('/minions/:mid', minions);
  app.post('/minions', async (req, reply: FastifyReply) => {
    const t = requireToken(deps, req);
    if (!Array.isArray(req.body)) throw new SaltHttpError(400, 'Lowstates must be a list');
    const chunks = (req.body as unknown[]).map((c) => ({ ...((c ?? {}) as object), client: 'local_async' }));
    const ret = (await runLowstate(deps, chunks, t.user)) as Array<{ jid?: string }>;
    return reply.code(202).send({ return: ret, _links: { jobs: ret.map((r) => ({ href: `/jobs/${r.jid ?? ''}` })) } });
  });

  app.get('/lab/stats', () => ({ ...stats.snapshot(), activeTokens: tokens.active }));
  app.delete('/lab/stats', () => {
    stats.reset();
    return { reset: true };
  });
  app.post('/lab/tokens/expire', () => ({ expired: tokens.expireAll() }));

  // Job cache faults: {"kind":"loadMissing"|"cacheUnreachable","jid"?:"...","times"?:N|"always"}.
  app.get('/lab/faults', () => ({ rules: runner.jobFaults.list() }));
  app.post('/lab/faults', async (req, reply) => {
    const b = (req.body ?? {}) as { kind?: unknown; jid?: unknown; times?: unknown };
    if (!JOB_FAULT_KINDS.includes(b.kind as JobFaultKind)) return reply.code(400).send({ error: `kind must be one of ${JOB_FAULT_KINDS.join(', ')}` });
    try {
      const rule = runner.jobFaults.inject({
        kind: b.kind as JobFaultKind,
        ...(typeof b.jid === 'string' ? { jid: b.jid } : {}),
        ...(typeof b.times === 'number' || b.times === 'always' ? { times: b.times } : {}),
      });
      return reply.code(201).send(rule);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
  });
  app.delete('/lab/faults', () => ({ cleared: runner.jobFaults.clear() }));

  // Optional modules per minion: {"state":"loaded"|"no-dbus"|"snapper-missing"|"no-system-bus"|"virtual-false"|"absent"}.
  app.get<{ Params: { mid: string } }>('/lab/minions/:mid/modules', async (req, reply) => {
    const sys = runner.system(req.params.mid);
    if (!sys) return reply.code(404).send({ error: `no minion ${req.params.mid}` });
    return { snapper: runner.modules.snapper(sys) };
  });
  app.put<{ Params: { mid: string } }>('/lab/minions/:mid/modules/snapper', async (req, reply) => {
    const sys = runner.system(req.params.mid);
    if (!sys) return reply.code(404).send({ error: `no minion ${req.params.mid}` });
    const state = ((req.body ?? {}) as { state?: unknown }).state;
    if (!SNAPPER_MODULE_STATES.includes(state as SnapperModuleState)) return reply.code(400).send({ error: `state must be one of ${SNAPPER_MODULE_STATES.join(', ')}` });
    try {
      runner.modules.setSnapper(sys, state as SnapperModuleState);
    } catch (err) {
      return reply.code(409).send({ error: (err as Error).message });
    }
    return { snapper: runner.modules.snapper(sys) };
  });
}
