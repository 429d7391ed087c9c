import { Pool } from 'undici';

// An open-loop load generator: requests are sent on a fixed schedule (every 1000/rate ms) whether or not
// earlier ones have answered, and each latency is measured from the request's scheduled time, so queueing
// shows up (no coordinated omission). autocannon's own rate limit fires each connection's quota at the
// start of every second, which measures its bursts rather than the server at a steady rate.

export interface OpenLoopResult {
  sent: number;
  ok: number;
  failed: number;
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function openLoop(url: string, opts: { rate: number; seconds: number; headers?: Record<string, string>; connections?: number }): Promise<OpenLoopResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: opts.connections ?? 64, pipelining: 1 });
  const path = `${target.pathname}${target.search}`;
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) {
      const scheduled = start + sent * interval;
      sent++;
      inflight.push(
        pool
          .request({ method: 'GET', path, headers: opts.headers ?? {} })
          .then(async (res) => {
            await res.body.dump();
            latencies.push(performance.now() - scheduled);
            if (res.statusCode < 400) ok++;
            else failed++;
          })
          .catch(() => {
            failed++;
          }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  const sorted = latencies.sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return {
    sent, ok, failed, achievedRate: Math.round(sent / elapsed),
    p50: r(percentile(sorted, 50)), p90: r(percentile(sorted, 90)), p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) ?? NaN),
  };
}
