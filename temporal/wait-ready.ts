import { pathToFileURL } from 'node:url';
import { loadConfigOrExit } from '../config/config.js';

// `node dist/temporal/wait-ready.js [timeout-seconds]`: waits until this host's worker answers 200 on /readyz
// (its metrics port, from the same configuration the worker reads), exit 0; exit 1 with the last answer when
// it does not within the timeout (default 120 s). The systemd unit runs it as ExecStartPost, so
// `systemctl start spm-worker` returns once the worker polls its task queue, and units ordered after it
// start only then.

export function readinessUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${local}:${port}/readyz`;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.worker.metricsPort === 0) {
    process.stderr.write('wait-ready: WORKER_METRICS_PORT=0: the worker has no health endpoint to wait for\n');
    process.exit(78);
  }
  const timeoutSeconds = Number(process.argv[2] ?? 120);
  const url = readinessUrl(config.worker.metricsHost, config.worker.metricsPort);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) {
        process.stdout.write(`wait-ready: ${url} ready\n`);
        return;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`wait-ready: ${url} not ready within ${timeoutSeconds} s (last: ${last.slice(0, 500)})\n`);
  process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`wait-ready: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
