import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallMetrics } from '../../activities/shared/call-metrics.js';
import { observed } from '../../activities/shared/call-observer.js';
import { startWorkerEndpoint, type WorkerEndpoint } from '../../temporal/worker-endpoint.js';

// The worker's metrics port: liveness, readiness (with the reason when not ready), and /metrics passing the
// SDK's exposition through beside the process's own registry.

describe('worker endpoint', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function start(opts: { state: () => string; checks?: Parameters<typeof startWorkerEndpoint>[0]['checks']; sdkMetricsUrl?: string; registry?: Registry }): Promise<WorkerEndpoint> {
    const endpoint = await startWorkerEndpoint({ host: '127.0.0.1', port: 0, registry: opts.registry ?? new Registry(), state: opts.state, checks: opts.checks ?? [], checkTimeoutMs: 200, ...(opts.sdkMetricsUrl ? { sdkMetricsUrl: opts.sdkMetricsUrl } : {}) });
    closers.push(() => endpoint.close());
    return endpoint;
  }
  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: await res.text() };
  };

  it('is alive while starting, running and draining; not once the worker failed', async () => {
    let state = 'STARTING';
    const e = await start({ state: () => state });
    for (const s of ['STARTING', 'RUNNING', 'DRAINING', 'STOPPING']) {
      state = s;
      expect((await get(`${e.url}/healthz`)).status, s).toBe(200);
    }
    state = 'FAILED';
    const failed = await get(`${e.url}/livez`);
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.body)).toEqual({ status: 'failed', worker: 'FAILED' });
  });

  it('is ready only while RUNNING with every check passing; otherwise 503 naming what is wrong', async () => {
    let state = 'RUNNING';
    let pgDown = false;
    const e = await start({
      state: () => state,
      checks: [
        { name: 'temporal', check: async () => undefined },
        { name: 'postgres', check: async () => { if (pgDown) throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } },
      ],
    });
    const ready = await get(`${e.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', worker: 'RUNNING', checks: { temporal: 'ok', postgres: 'ok' } });
    pgDown = true;
    await new Promise((r) => setTimeout(r, 1_100)); // one round of checks per second
    const down = await get(`${e.url}/readyz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).checks.postgres).toBe('down: connect ECONNREFUSED 127.0.0.1:5432');
    pgDown = false;
    state = 'DRAINING';
    await new Promise((r) => setTimeout(r, 1_100));
    const draining = await get(`${e.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ status: 'not ready', worker: 'DRAINING' });
  });

  it('a check that hangs is a timeout, not a hung probe', async () => {
    const e = await start({ state: () => 'RUNNING', checks: [{ name: 'temporal', check: () => new Promise(() => undefined) }] });
    const started = Date.now();
    const res = await get(`${e.url}/readyz`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).checks.temporal).toBe('down: temporal: no answer within 200 ms');
  });

  it('/metrics is the SDK exposition followed by the registry; unknown paths are 404', async () => {
    const sdk = createServer((_req, res) => res.end('# TYPE temporal_worker_start counter\ntemporal_worker_start{task_queue="q"} 1\n'));
    await new Promise<void>((r) => sdk.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => sdk.close(() => r())));
    const registry = new Registry();
    new Counter({ name: 'spm_test_counter_total', help: 'x', registers: [registry] }).inc(3);
    const e = await start({ state: () => 'RUNNING', registry, sdkMetricsUrl: `http://127.0.0.1:${(sdk.address() as AddressInfo).port}/metrics` });
    const m = await get(`${e.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^temporal_worker_start\{task_queue="q"\} 1$/m);
    expect(m.body).toMatch(/^spm_test_counter_total 3$/m);
    expect(m.body.indexOf('temporal_worker_start')).toBeLessThan(m.body.indexOf('spm_test_counter_total'));
    expect((await get(`${e.url}/nope`)).status).toBe(404);
  });
});

describe('call metrics', () => {
  it('counts calls by outcome, errors by class and latency; the observer never changes the result', async () => {
    const registry = new Registry();
    const observer = createCallMetrics(registry);
    class UyuniFault extends Error {}
    expect(await observed(observer, 'uyuni', 'auth.login', async () => 'key')).toBe('key');
    await expect(observed(observer, 'uyuni', 'system.scheduleApplyErrata', async () => { throw new UyuniFault('fault 2600'); })).rejects.toThrow('fault 2600');
    await expect(observed(() => { throw new Error('broken observer'); }, 'salt', 'test.ping', async () => 7)).resolves.toBe(7);
    const text = await registry.metrics();
    expect(text).toMatch(/^spm_external_calls_total\{system="uyuni",method="auth.login",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^spm_external_calls_total\{system="uyuni",method="system.scheduleApplyErrata",outcome="error"\} 1$/m);
    expect(text).toMatch(/^spm_external_call_errors_total\{system="uyuni",method="system.scheduleApplyErrata",error="UyuniFault"\} 1$/m);
    expect(text).toMatch(/^spm_external_call_duration_seconds_count\{system="uyuni",method="auth.login"\} 1$/m);
  });
});
