import { sql } from 'kysely';
import { Agent, request } from 'undici';
import type { TemporalHandle } from '../../client.js';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';

export type DependencyName = 'postgres' | 'temporal' | 'uyuni' | 'prometheus';

export interface DependencyStatus {
  status: 'up' | 'down';
  required: boolean;
  latency_ms: number;
  target: string;
  error?: string;
}

const CHECK_TIMEOUT_MS = 2_500;

async function timed(target: string, required: boolean, probe: (signal: AbortSignal) => Promise<void>): Promise<DependencyStatus> {
  const started = performance.now();
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    await Promise.race([
      probe(signal),
      new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), { once: true }),
      ),
    ]);
    return { status: 'up', required, latency_ms: Math.round(performance.now() - started), target };
  } catch (err) {
    return {
      status: 'down',
      required,
      latency_ms: Math.round(performance.now() - started),
      target,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

function origin(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** Probes each dependency in parallel, each with its own deadline, and reports status and latency. */
export function createDependencyChecks(deps: { config: Readonly<Config>; db: Db; temporal: TemporalHandle }) {
  const { config } = deps;
  const required = new Set(config.health.required);
  const uyuniAgent = new Agent({ connect: { rejectUnauthorized: config.uyuni.verifyTls }, keepAliveTimeout: 10_000 });
  const promAgent = new Agent({ keepAliveTimeout: 10_000 });

  const checks: Record<DependencyName, () => Promise<DependencyStatus>> = {
    postgres: () =>
      timed(`${config.db.connectionString ? 'DATABASE_URL' : `${config.db.host}:${config.db.port}/${config.db.database}`}`, required.has('postgres'), async () => {
        await sql`select 1`.execute(deps.db);
      }),
    temporal: () =>
      timed(`${config.temporal.address}/${config.temporal.namespace}`, required.has('temporal'), async () => {
        await deps.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.temporal.connection.workflowService.describeNamespace({ namespace: config.temporal.namespace }),
        );
      }),
    uyuni: () =>
      // Reachability only: the worker holds the UYUNI session; GET /rpc/api answers a redirect without auth.
      timed(origin(config.uyuni.url), required.has('uyuni'), async (signal) => {
        const res = await request(config.uyuni.url, { method: 'GET', dispatcher: uyuniAgent, signal });
        await res.body.dump();
        if (res.statusCode >= 500) throw new Error(`HTTP ${res.statusCode}`);
      }),
    prometheus: () =>
      timed(origin(config.prometheus.url), required.has('prometheus'), async (signal) => {
        const res = await request(`${config.prometheus.url}/-/ready`, { method: 'GET', dispatcher: promAgent, signal });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`/-/ready answered HTTP ${res.statusCode}`);
      }),
  };

  return {
    async checkAll() {
      const names = Object.keys(checks) as DependencyName[];
      const results = await Promise.all(names.map((n) => checks[n]()));
      const dependencies = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<DependencyName, DependencyStatus>;
      const requiredDown = names.filter((n) => dependencies[n].required && dependencies[n].status === 'down');
      const anyDown = names.some((n) => dependencies[n].status === 'down');
      return {
        status: requiredDown.length ? ('down' as const) : anyDown ? ('degraded' as const) : ('ok' as const),
        down: names.filter((n) => dependencies[n].status === 'down'),
        dependencies,
      };
    },
    async close() {
      await Promise.all([uyuniAgent.close(), promAgent.close()]);
    },
  };
}
