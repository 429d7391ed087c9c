/**
 * The salt-api lab: rest_cherrypy's HTTP surface over one shared fleet model. `buildSaltLab`
 * gives the app unstarted (to mount it in a combined lab process); `startSaltLab` listens on
 * loopback. Pass the same Fleet as the UYUNI lab so both see one set of systems.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Fleet, type FleetOptions } from '../fleet/index.js';
import type { JobCacheFaults } from './faults.js';
import { DEFAULT_JOB_DURATIONS, JobRunner, type JobDurations } from './job-runner.js';
import { MinionModules } from './modules.js';
import { registerSaltRoutes, type SaltCredentials } from './routes.js';
import { SnapshotStore } from './snapshots.js';
import { SaltStats } from './stats.js';
import { TokenStore } from './tokens.js';

export type { SaltCredentials } from './routes.js';
export type { JobDurations } from './job-runner.js';

export const DEFAULT_SALT_CREDENTIALS: SaltCredentials = { user: 'spm', password: 'lab-salt-secret', eauth: 'sharedsecret' };
/** The ACL a dedicated orchestrator user gets (reference/salt-api.md §1.9). */
export const DEFAULT_SALT_PERMS: readonly string[] = ['.*', '@runner', '@wheel', '@jobs'];

export interface SaltLabOptions {
  /** An existing fleet to share with the UYUNI lab and the exporters, or options to generate one. */
  fleet?: Fleet | FleetOptions;
  host?: string;
  /** 0 = pick a free port. */
  port?: number;
  credentials?: Partial<SaltCredentials>;
  /** token_expire, 43200 s (12 h) by default. */
  tokenLifetimeSeconds?: number;
  jobDurations?: Partial<JobDurations>;
  /** Token clock (epoch ms); defaults to the fleet's clock. */
  clock?: () => number;
  logger?: boolean;
}

export interface SaltLabParts {
  readonly app: FastifyInstance;
  readonly fleet: Fleet;
  readonly stats: SaltStats;
  readonly tokens: TokenStore;
  readonly snapshots: SnapshotStore;
  readonly runner: JobRunner;
  /** Which optional modules (snapper) load on each minion. */
  readonly modules: MinionModules;
  /** Job cache faults for /jobs/<jid> (loadMissing, cacheUnreachable). */
  readonly jobFaults: JobCacheFaults;
  /** Drops every token (a salt-api restart: RAM sessions are gone); returns how many. */
  expireTokens(): number;
}

export interface SaltLab extends SaltLabParts {
  /** http://127.0.0.1:PORT — salt-api's root. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export function buildSaltLab(opts: SaltLabOptions = {}): SaltLabParts {
  const fleet = opts.fleet instanceof Fleet ? opts.fleet : new Fleet(opts.fleet ?? {});
  const clock = opts.clock ?? fleet.options.clock;
  const credentials: SaltCredentials = { ...DEFAULT_SALT_CREDENTIALS, ...opts.credentials };
  const tokens = new TokenStore(clock, opts.tokenLifetimeSeconds ?? 43_200);
  const stats = new SaltStats();
  const snapshots = new SnapshotStore();
  const modules = new MinionModules();
  const runner = new JobRunner(fleet, snapshots, stats, { ...DEFAULT_JOB_DURATIONS, ...opts.jobDurations }, modules);

  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true, bodyLimit: 1024 * 1024 });
  // salt-api takes urlencoded bodies too (one command; `arg` may repeat).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(String(body))) {
      if (k === 'arg') out.arg = [...((out.arg as string[] | undefined) ?? []), v];
      else out[k] = v;
    }
    // rest_cherrypy's lowdata_fmt wraps a form into a one-chunk lowstate; /login takes the form as is.
    done(null, out);
  });
  app.addHook('preHandler', async (req) => {
    if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') && ['/', '/run', '/minions'].includes(req.routeOptions.url ?? '')) {
      req.body = [req.body];
    }
  });
  app.addHook('onClose', async () => runner.close());
  registerSaltRoutes(app, { runner, tokens, stats, credentials, perms: DEFAULT_SALT_PERMS });
  return { app, fleet, stats, tokens, snapshots, runner, modules, jobFaults: runner.jobFaults, expireTokens: () => tokens.expireAll() };
}

export async function startSaltLab(opts: SaltLabOptions = {}): Promise<SaltLab> {
  const parts = buildSaltLab(opts);
  const host = opts.host ?? '127.0.0.1';
  await parts.app.listen({ host, port: opts.port ?? 0 });
  const address = parts.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  let closing: Promise<void> | undefined;
  return {
    ...parts,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    host,
    close: () => (closing ??= parts.app.close()),
  };
}
