/**
 * Starts a REAL Prometheus (Debian package `prometheus`) on loopback for integration tests:
 * 1 s scrapes of the lab's exporters through file_sd, data in a directory of the caller's, ready
 * when `/-/ready` answers 200 (reference/prometheus.md §2.3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CANDIDATES = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

export class PrometheusNotFoundError extends Error {
  constructor(tried: readonly string[]) {
    super(
      `Prometheus binary not found (tried ${tried.join(', ')} and $PROMETHEUS_BIN). ` +
        'Install it with: apt-get install -y --no-install-recommends prometheus',
    );
    this.name = 'PrometheusNotFoundError';
  }
}

/** $PROMETHEUS_BIN, else the Debian package's /usr/bin/prometheus. */
export function findPrometheusBinary(): string {
  const tried = [process.env.PROMETHEUS_BIN, ...CANDIDATES].filter((p): p is string => !!p);
  for (const p of tried) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next one
    }
  }
  throw new PrometheusNotFoundError(tried);
}

export interface PrometheusOptions {
  /** 0 or absent = a free port. */
  port?: number;
  dataDir: string;
  /** file_sd glob, e.g. `<dir>/targets/*.json`. */
  targetsGlob: string;
  scrapeIntervalSeconds?: number;
  /** ms to wait for /-/ready. */
  readyTimeoutMs?: number;
  binary?: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly configFile: string;
  /** stderr so far (Prometheus logs there): for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export function prometheusConfig(targetsGlob: string, scrapeIntervalSeconds: number): string {
  const every = `${scrapeIntervalSeconds}s`;
  // JSON is YAML: no YAML library needed, and no quoting surprises in paths.
  return `${JSON.stringify(
    {
      global: { scrape_interval: every, scrape_timeout: every, evaluation_interval: every },
      scrape_configs: [{ job_name: 'node', file_sd_configs: [{ files: [targetsGlob], refresh_interval: '1s' }] }],
    },
    null,
    2,
  )}\n`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = opts.binary ?? findPrometheusBinary();
  mkdirSync(opts.dataDir, { recursive: true });
  const configFile = path.join(opts.dataDir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(opts.targetsGlob, opts.scrapeIntervalSeconds ?? 1));
  if (opts.port && opts.port > 0) return launch(binary, configFile, opts.port, opts);
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(binary, configFile, await freePort(), opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !/address already in use/.test(err.message)) throw err;
    }
  }
}

async function launch(binary: string, configFile: string, port: number, opts: PrometheusOptions): Promise<RunningPrometheus> {
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(opts.dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitExit(child, 2000);
    }
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
    }
    // Prometheus 2.42 logs a failed bind and keeps running without a web listener.
    if (/Unable to start web listener|address already in use/.test(stderr)) {
      await stop();
      throw new Error(`prometheus could not listen on 127.0.0.1:${port} (address already in use):\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus on ${url} not ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${stderr}`);
    }
    await sleep(100);
  }
  return { url, port, pid: child.pid ?? 0, configFile, log: () => stderr, stop };
}
