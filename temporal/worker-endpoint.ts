import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

// The worker's HTTP port (WORKER_METRICS_HOST:WORKER_METRICS_PORT):
//   GET /metrics  the Temporal SDK's series (the Rust core serves them on a loopback port of its own; they are
//                 fetched and passed through) followed by the process's prom-client registry (UYUNI / salt /
//                 Prometheus call metrics, Node process metrics)
//   GET /healthz  liveness: 200 while the process answers and the worker has not failed
//   GET /readyz   readiness: 200 only while the worker polls its task queue and Temporal and PostgreSQL answer
// Kubernetes probes and the systemd units' checks use the last two.

export interface ReadinessCheck {
  name: string;
  /** Resolves when healthy; throws (or times out) otherwise. */
  check(): Promise<void>;
}

export interface WorkerEndpointOptions {
  host: string;
  port: number;
  registry: Registry;
  /** http://127.0.0.1:<port>/metrics of the SDK's own exporter, if any. */
  sdkMetricsUrl?: string;
  /** The worker's state, or 'STARTING' before it exists. */
  state: () => string;
  checks: ReadinessCheck[];
  checkTimeoutMs?: number;
}

export interface WorkerEndpoint {
  url: string;
  close(): Promise<void>;
}

const LIVE_STATES = new Set(['STARTING', 'INITIALIZED', 'RUNNING', 'STOPPING', 'DRAINING', 'DRAINED']);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function startWorkerEndpoint(opts: WorkerEndpointOptions): Promise<WorkerEndpoint> {
  const timeoutMs = opts.checkTimeoutMs ?? 2_000;
  // Probes come every few seconds, from several places: one round of checks at a time, kept for a second.
  let lastReadiness: { at: number; result: Promise<{ ready: boolean; body: Record<string, unknown> }> } | undefined;

  const readiness = () => {
    if (lastReadiness && Date.now() - lastReadiness.at < 1_000) return lastReadiness.result;
    const result = (async () => {
      const state = opts.state();
      const checks: Record<string, string> = {};
      await Promise.all(
        opts.checks.map(async (c) => {
          try {
            await withTimeout(c.check(), timeoutMs, c.name);
            checks[c.name] = 'ok';
          } catch (err) {
            checks[c.name] = `down: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
          }
        }),
      );
      const ready = state === 'RUNNING' && Object.values(checks).every((v) => v === 'ok');
      return { ready, body: { status: ready ? 'ready' : 'not ready', worker: state, checks } };
    })();
    lastReadiness = { at: Date.now(), result };
    return result;
  };

  const sdkMetrics = async (): Promise<string> => {
    if (!opts.sdkMetricsUrl) return '';
    try {
      const res = await fetch(opts.sdkMetricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? await res.text() : '';
    } catch {
      return '';
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    if (path === '/healthz' || path === '/livez') {
      const state = opts.state();
      const live = LIVE_STATES.has(state);
      return send(res, live ? 200 : 503, { status: live ? 'alive' : 'failed', worker: state });
    }
    if (path === '/readyz') {
      const { ready, body } = await readiness();
      return send(res, ready ? 200 : 503, body);
    }
    if (path === '/metrics') {
      const [sdk, own] = await Promise.all([sdkMetrics(), opts.registry.metrics()]);
      res.writeHead(200, { 'content-type': opts.registry.contentType });
      res.end(sdk ? `${sdk.trimEnd()}\n${own}` : own);
      return;
    }
    return send(res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
