/**
 * The UYUNI XML-RPC lab: a Fastify app serving /rpc/api over one shared fleet model, plus the
 * /lab/* JSON control API. `buildUyuniLab` gives the app unstarted (to mount it in a combined lab
 * process); `startUyuniLab` listens on loopback.
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Fleet, type FleetOptions } from '../fleet/index.js';
import { registerControlRoutes } from './control-routes.js';
import { Dispatcher, type Credentials, type MethodDef } from './dispatcher.js';
import { authMethods } from './handlers/auth.js';
import { errataMethods } from './handlers/errata.js';
import { maintenanceMethods } from './handlers/maintenance.js';
import { packagesMethods } from './handlers/packages.js';
import { scheduleMethods } from './handlers/schedule.js';
import { systemMethods } from './handlers/system.js';
import { systemgroupMethods } from './handlers/systemgroup.js';
import { FaultInjector } from './injection.js';
import { ResponseCache } from './response-cache.js';
import { registerRpcRoute } from './rpc-route.js';
import { SessionStore } from './sessions.js';
import { CallStats } from './stats.js';

export const DEFAULT_CREDENTIALS: Credentials = { user: 'admin', password: 'lab-admin-password' };

export interface UyuniLabOptions {
  host?: string;
  /** 0 = pick a free port. */
  port?: number;
  /** Fleet generation options, or an existing fleet to share with other lab servers. */
  fleet?: FleetOptions | Fleet;
  credentials?: Partial<Credentials>;
  /** Added to every call (the benchmark uses 25). */
  latencyMs?: number;
  perMethodLatencyMs?: Record<string, number>;
  sessionLifetimeSeconds?: number;
  actionPickupMs?: number;
  actionCompleteMs?: number;
  rebootMs?: number;
  /** Clock for sessions and (when the lab creates the fleet) actions. */
  clock?: () => number;
  /** Upper bound for the serialized-response cache (default 128 MiB). */
  cacheMaxBytes?: number;
  /** Fastify/pino logging (default off). */
  logger?: boolean;
}

export interface UyuniLabParts {
  readonly app: FastifyInstance;
  readonly fleet: Fleet;
  readonly faults: FaultInjector;
  readonly sessions: SessionStore;
  readonly stats: CallStats;
  readonly cache: ResponseCache;
  /** Ends pending latency waits and hung calls; call before app.close(). */
  abortInFlight(): void;
}

export interface UyuniLab extends UyuniLabParts {
  /** Full endpoint, e.g. http://127.0.0.1:PORT/rpc/api */
  readonly url: string;
  /** http://127.0.0.1:PORT — the /lab/* control API lives here. */
  readonly baseUrl: string;
  readonly port: number;
  readonly host: string;
  expireSessions(): number;
  close(): Promise<void>;
}

export function uyuniMethods(): MethodDef[] {
  return [...authMethods(), ...systemgroupMethods(), ...systemMethods(), ...errataMethods(), ...scheduleMethods(), ...packagesMethods(), ...maintenanceMethods()];
}

export function buildUyuniLab(opts: UyuniLabOptions = {}): UyuniLabParts {
  const clock = opts.clock ?? (opts.fleet instanceof Fleet ? opts.fleet.options.clock : Date.now);
  const fleet =
    opts.fleet instanceof Fleet
      ? opts.fleet
      : new Fleet({
          ...(opts.fleet ?? {}),
          clock,
          ...(opts.actionPickupMs !== undefined ? { actionPickupMs: opts.actionPickupMs } : {}),
          ...(opts.actionCompleteMs !== undefined ? { actionCompleteMs: opts.actionCompleteMs } : {}),
          ...(opts.rebootMs !== undefined ? { rebootMs: opts.rebootMs } : {}),
        });
  const credentials: Credentials = { ...DEFAULT_CREDENTIALS, ...opts.credentials };
  const sessions = new SessionStore(clock, opts.sessionLifetimeSeconds ?? 3600);
  const faults = new FaultInjector({ globalMs: opts.latencyMs ?? 0, perMethod: opts.perMethodLatencyMs ?? {} });
  const stats = new CallStats();
  const cache = new ResponseCache(opts.cacheMaxBytes ?? 128 * 1024 * 1024);
  const dispatcher = new Dispatcher(uyuniMethods(), { fleet, sessions, credentials }, cache);
  const shutdown = new AbortController();
  const hung = new Set<Socket>();

  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true, bodyLimit: 32 * 1024 * 1024 });
  // XML-RPC bodies are kept as the raw string; the codec parses them. Like the servlet, accept
  // any content type (JSON keeps its own parser for the /lab API).
  app.addContentTypeParser(['text/xml', 'application/xml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  registerRpcRoute(app, { fleet, dispatcher, faults, sessions, stats, shutdown: shutdown.signal, hung });
  registerControlRoutes(app, { fleet, faults, sessions, stats, cache });

  return {
    app,
    fleet,
    faults,
    sessions,
    stats,
    cache,
    abortInFlight: () => {
      shutdown.abort();
      for (const socket of hung) socket.destroy();
      hung.clear();
    },
  };
}

export async function startUyuniLab(opts: UyuniLabOptions = {}): Promise<UyuniLab> {
  const parts = buildUyuniLab(opts);
  const host = opts.host ?? '127.0.0.1';
  await parts.app.listen({ host, port: opts.port ?? 0 });
  const address = parts.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    ...parts,
    url: `${baseUrl}/rpc/api`,
    baseUrl,
    port,
    host,
    expireSessions: () => parts.sessions.expireAll(),
    close: () => {
      closing ??= (async () => {
        parts.abortInFlight();
        await parts.app.close();
      })();
      return closing;
    },
  };
}
