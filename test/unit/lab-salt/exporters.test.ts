import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuCount, Fleet, kernelReleaseOf, manualClock, memTotalBytes, type LabSystem, type ManualClock } from '../../../lab/fleet/index.js';
import { CPU_MODES, ExporterPortInUseError, startExporters, startExportersOnFreePort, writeTargets, type Exporters } from '../../../lab/exporter/index.js';

let fleetClock: ManualClock;
let counterClock: ManualClock;
let fleet: Fleet;
let exporters: Exporters;

beforeAll(async () => {
  fleetClock = manualClock();
  counterClock = manualClock(1_800_000_000_000);
  fleet = new Fleet({ clock: fleetClock, prodSystemsPerOs: 2, actionPickupMs: 10, actionCompleteMs: 10, rebootMs: 1000 });
  exporters = await startExportersOnFreePort({ fleet, counterClock, labId: 'unit' });
});
afterAll(async () => {
  await exporters.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict-enough parser of the text format: HELP/TYPE before samples, every line well-formed. */
function parseExposition(text: string): { samples: Sample[]; types: Record<string, string> } {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  const helps = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types[meta[2]!] = meta[3]!;
      else helps.add(meta[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    const value = Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in: ${line}`);
    expect(types[m[1]!], `TYPE before ${m[1]}`).toBeDefined();
    expect(helps.has(m[1]!), `HELP for ${m[1]}`).toBe(true);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

async function scrape(sys: LabSystem): Promise<{ samples: Sample[]; types: Record<string, string>; contentType: string }> {
  const res = await fetch(`http://${exporters.instanceOf(sys)}/metrics`);
  expect(res.status).toBe(200);
  return { ...parseExposition(await res.text()), contentType: res.headers.get('content-type') ?? '' };
}

const idleSum = (samples: Sample[]) => samples.filter((s) => s.name === 'node_cpu_seconds_total' && s.labels.mode === 'idle').reduce((a, s) => a + s.value, 0);
const one = (samples: Sample[], name: string) => samples.find((s) => s.name === name)!.value;

describe('node exporters', () => {
  it('serve node_exporter series for each system on its own loopback address', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    expect(exporters.instanceOf(sys)).toBe(`${sys.ip}:${exporters.port}`);
    expect(exporters.targets).toHaveLength(fleet.systems.length);
    const { samples, types, contentType } = await scrape(sys);
    expect(contentType).toContain('text/plain; version=0.0.4');
    expect(types).toMatchObject({ node_cpu_seconds_total: 'counter', node_memory_MemTotal_bytes: 'gauge', node_boot_time_seconds: 'gauge', node_uname_info: 'gauge' });
    const cpu = samples.filter((s) => s.name === 'node_cpu_seconds_total');
    expect(cpu).toHaveLength(cpuCount(sys) * CPU_MODES.length);
    expect(new Set(cpu.map((s) => s.labels.mode))).toEqual(new Set(CPU_MODES));
    expect(cpuCount(sys)).toBeGreaterThanOrEqual(2);
    expect(one(samples, 'node_boot_time_seconds')).toBe(sys.bootTimeSec);
    expect(one(samples, 'node_time_seconds')).toBe(fleetClock() / 1000);
    expect(one(samples, 'node_memory_MemTotal_bytes')).toBe(memTotalBytes(sys));
    const memPct = 100 * (1 - one(samples, 'node_memory_MemAvailable_bytes') / one(samples, 'node_memory_MemTotal_bytes'));
    expect(memPct).toBeCloseTo(fleet.metrics(sys.id).memoryPercent, 3);
    expect(samples.find((s) => s.name === 'node_uname_info')!.labels).toMatchObject({ sysname: 'Linux', nodename: 'test-rhel9-01', machine: 'x86_64' });
    expect(samples.find((s) => s.name === 'node_exporter_build_info')!.labels.version).toBe('1.5.0');
  });

  it('node_uname_info reports the running kernel: a new kernel shows only after the reboot that boots it', async () => {
    const sys = fleet.systemsOf('ubuntu', 'prod')[0]!;
    const release = async () => (await scrape(sys)).samples.find((s) => s.name === 'node_uname_info')!.labels.release;
    const running = fleet.kernel(sys.id).running;
    expect(await release()).toBe(kernelReleaseOf(running));
    const e = fleet.findErratum({ os: 'ubuntu', kernel: true, personality: 'none', relevantTo: sys.id })!;
    fleet.scheduleApplyErrata([sys.id], [e.id]);
    fleetClock.advance(100);
    fleet.tick();
    const fresh = fleet.kernel(sys.id).bootDefault!;
    expect(fresh.id).not.toBe(running.id);
    expect(await release()).toBe(kernelReleaseOf(running));
    fleet.rebootNow(sys.id);
    fleetClock.advance(1000);
    fleet.tick();
    expect(await release()).toBe(kernelReleaseOf(fresh));
  });

  it("idle counters grow with (1 - CPU %) of the fleet, also after a cpu_spike erratum", async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    const cpus = cpuCount(sys);
    const rate = async (seconds: number) => {
      const a = idleSum((await scrape(sys)).samples);
      counterClock.advance(seconds * 1000);
      const b = idleSum((await scrape(sys)).samples);
      return 100 * (1 - (b - a) / seconds / cpus);
    };
    const base = fleet.metrics(sys.id).cpuPercent;
    expect(await rate(30)).toBeCloseTo(base, 1);

    const e = fleet.findErratum({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: sys.id })!;
    fleet.scheduleApplyErrata([sys.id], [e.id]);
    fleetClock.advance(100);
    fleet.tick();
    expect(fleet.metrics(sys.id).cpuPercent).toBeCloseTo(Math.min(100, base + 40), 5);
    expect(await rate(30)).toBeCloseTo(Math.min(100, base + 40), 1);
  });

  it('a rebooting system refuses scrapes, a hung one never answers; counters restart after the reboot', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const before = idleSum((await scrape(sys)).samples);
    fleet.rebootNow(sys.id);
    await expect(fetch(`http://${exporters.instanceOf(sys)}/metrics`)).rejects.toThrow();
    fleetClock.advance(1000);
    const after = await scrape(sys);
    expect(one(after.samples, 'node_boot_time_seconds')).toBe(Math.floor(fleetClock() / 1000));
    expect(idleSum(after.samples)).toBeLessThan(before);

    const hung = fleet.systemsOf('rhel', 'prod')[1]!;
    hung.hangOnReboot = true; // what an installed reboot_hang erratum leaves behind
    fleet.rebootNow(hung.id);
    await expect(fetch(`http://${exporters.instanceOf(hung)}/metrics`, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/abort|timeout/i);
    fleet.recoverSystem(hung.id);
    expect((await scrape(hung)).samples.length).toBeGreaterThan(10);
  });

  it('reports a taken port as EADDRINUSE', async () => {
    const err = await startExporters({ fleet, port: exporters.port, systems: [fleet.systems[0]!] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExporterPortInUseError);
    expect((err as ExporterPortInUseError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toContain(`${fleet.systems[0]!.ip}:${exporters.port}`);
  });

  it('writes a file_sd target list', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'spm-targets-')), 'lab.json');
    await writeTargets(file, exporters.targetGroups());
    const groups = JSON.parse(readFileSync(file, 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>;
    expect(groups).toEqual([{ targets: [...exporters.targets], labels: { job: 'node', lab: 'unit' } }]);
    expect(groups[0]!.targets[0]).toBe(`127.0.0.2:${exporters.port}`);
  });
});
