// A REAL Prometheus (Debian package) scraping the lab's node exporters through file_sd.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startExportersOnFreePort, writeTargets, type Exporters } from '../../../lab/exporter/index.js';
import { Fleet, type LabSystem } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { Rpc } from '../../unit/lab/helpers.js';

let fleet: Fleet;
let exporters: Exporters;
const prometheus = { url: inject('prometheusUrl'), log: () => '(the run’s shared Prometheus)' };
let uyuni: UyuniLab;
let targetsFile: string;

beforeAll(async () => {
  // Wall-clock fleet: Prometheus scrapes in real time.
  fleet = new Fleet({ prodSystemsPerOs: 1, actionPickupMs: 50, actionCompleteMs: 100, rebootMs: 6000 });
  uyuni = await startUyuniLab({ fleet });
  exporters = await startExportersOnFreePort({ fleet, labId: 'integration' });
  // The run's one real Prometheus (test/setup/global-setup.ts) picks this file up through file_sd.
  targetsFile = path.join(inject('prometheusTargetsDir'), `${exporters.labId}.json`);
  await writeTargets(targetsFile, exporters.targetGroups());
});
afterAll(async () => {
  if (targetsFile) rmSync(targetsFile, { force: true });
  await exporters?.close();
  await uyuni?.close();
});

async function instant(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data.result;
}

const cpuQuery = (sys: LabSystem) => `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="${exporters.instanceOf(sys)}"}[10s])))`;
const memQuery = (sys: LabSystem) => {
  const i = exporters.instanceOf(sys);
  return `100 * (1 - node_memory_MemAvailable_bytes{instance="${i}"} / node_memory_MemTotal_bytes{instance="${i}"})`;
};

async function poll<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(500);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)}); prometheus log:\n${prometheus.log()}`);
}

const valueOf = (r: Array<{ value: [number, string] }>) => (r[0] ? Number(r[0].value[1]) : Number.NaN);

describe('real Prometheus over the lab exporters', () => {
  it("computes each system's CPU % and memory % within a few points of the fleet's", async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    // rate() under-extrapolates until the [10s] window holds a full window of 1 s samples.
    const cpu = await poll('CPU %', () => instant(cpuQuery(sys)), (r) => r.length === 1 && Math.abs(valueOf(r) - fleet.metrics(sys.id).cpuPercent) < 3, 30_000);
    expect(cpu[0]!.metric).toEqual({ instance: exporters.instanceOf(sys) });
    // And it stays there.
    await sleep(2000);
    expect(Math.abs(valueOf(await instant(cpuQuery(sys))) - fleet.metrics(sys.id).cpuPercent)).toBeLessThan(3);
    expect(Math.abs(valueOf(await instant(memQuery(sys))) - fleet.metrics(sys.id).memoryPercent)).toBeLessThan(0.5);
    // The run's one Prometheus also scrapes the labs of files running beside this one: only this lab's targets.
    const up = await instant(`up{lab="${exporters.labId}"}`);
    expect(up).toHaveLength(fleet.systems.length);
    expect(up.every((s) => s.value[1] === '1' && s.metric.job === 'node' && s.metric.lab === 'integration')).toBe(true);
  });

  it('sees a cpu_spike erratum applied through UYUNI raise CPU by about 40 points', async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    await poll('baseline', () => instant(cpuQuery(sys)), (r) => r.length === 1 && Math.abs(valueOf(r) - fleet.metrics(sys.id).cpuPercent) < 3, 30_000);
    const base = fleet.metrics(sys.id).cpuPercent;
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: sys.id })!;
    const rpc = new Rpc(uyuni.url);
    const sk = await rpc.login();
    await rpc.call('system.scheduleApplyErrata', [sk, [sys.id], [e.id], true]);
    const expected = Math.min(100, base + 40);
    const spiked = await poll('spike', () => instant(cpuQuery(sys)), (r) => Math.abs(valueOf(r) - expected) < 3, 40_000);
    expect(valueOf(spiked) - base).toBeGreaterThan(35);
  });

  it('marks a rebooting system down (up = 0) and up again once it is back', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const upQuery = `up{instance="${exporters.instanceOf(sys)}"}`;
    await poll('up before', () => instant(upQuery), (r) => r[0]?.value[1] === '1', 10_000);
    fleet.rebootNow(sys.id);
    await poll('down', () => instant(upQuery), (r) => r[0]?.value[1] === '0', 10_000);
    await poll('up again', () => instant(upQuery), (r) => r[0]?.value[1] === '1', 15_000);
  });
});
