// The lab's host controls over HTTP: host faults, the package ground truth, the errata finder's package
// filters — and what UYUNI's XML-RPC shows of several kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { labJson, Rpc } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let clock: ManualClock;
let rhel: number;
let ubuntu: number;

beforeAll(async () => {
  clock = manualClock();
  lab = await startUyuniLab({ clock, fleet: { prodSystemsPerOs: 2 }, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  rhel = lab.fleet.group('test-rhel9')!.systemIds[0]!;
  ubuntu = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
});
afterAll(async () => {
  await lab.close();
});

interface Found {
  errata: Array<{ id: number; advisoryName: string; build: number; kernel: boolean; effectOn?: { systemId: number; adds: string[]; removes: string[]; kernels: string[] } }>;
}
interface Truth {
  systemId: number;
  os: string;
  packages: Record<string, string[]>;
  runningKernel: string;
  bootDefault: string | null;
  kernels: string[];
}

const post = (body: unknown) => labJson<Record<string, unknown>>(lab.baseUrl, 'POST', '/lab/host-faults', body);

describe('POST/GET/DELETE /lab/host-faults', () => {
  it('arms a counted fault and lists it with its fire count', async () => {
    const res = await post({ kind: 'install_fails', systemId: rhel, times: 2 });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: expect.any(Number), kind: 'install_fails', systemId: rhel, times: 2, fired: 0 });
    const listed = await labJson<{ rules: unknown[] }>(lab.baseUrl, 'GET', '/lab/host-faults');
    expect(listed.json.rules).toContainEqual(res.json);
    const cleared = await labJson<{ cleared: number }>(lab.baseUrl, 'DELETE', '/lab/host-faults');
    expect(cleared.json.cleared).toBeGreaterThanOrEqual(1);
    expect((await labJson<{ rules: unknown[] }>(lab.baseUrl, 'GET', '/lab/host-faults')).json.rules).toEqual([]);
  });

  it('answers 400 naming the field for a bad fault', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: 'downgrade_sticks', systemId: rhel }, /package/],
      [{ kind: 'service_stays_down', systemId: rhel, service: 'nginx' }, /service/],
      [{ kind: 'reboot_hangs', systemId: 42 }, /systemId/],
      [{ kind: 'disk_full', systemId: rhel }, /kind/],
      [{ kind: 'reboot_hangs', systemId: rhel, times: 0 }, /times/],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String(res.json.message), JSON.stringify(body)).toMatch(field);
    }
    expect((await labJson<{ rules: unknown[] }>(lab.baseUrl, 'GET', '/lab/host-faults')).json.rules).toEqual([]);
  });

  it('reboot_hangs holds UYUNI\u2019s reboot action Picked Up until /lab/systems/:id/recover', async () => {
    expect((await post({ kind: 'reboot_hangs', systemId: ubuntu })).status).toBe(201);
    const aid = await rpc.call<number>('system.scheduleReboot', [sk, ubuntu, new Date(clock())]);
    clock.advance(60_000);
    const status = async () => (await rpc.call<{ status: string }>('system.getEventDetails', [sk, ubuntu, aid])).status;
    expect(await status()).toBe('Picked Up');
    const view = await labJson<{ up: boolean; hung: boolean }>(lab.baseUrl, 'GET', `/lab/systems/${ubuntu}`);
    expect(view.json).toMatchObject({ up: false, hung: true });
    expect((await labJson<{ up: boolean }>(lab.baseUrl, 'POST', `/lab/systems/${ubuntu}/recover`)).json.up).toBe(true);
    expect(await status()).toBe('Failed');
    await labJson(lab.baseUrl, 'DELETE', '/lab/host-faults');
  });
});

describe('GET /lab/systems/:id/packages and the system view', () => {
  it('gives the full inventory, the running kernel and the boot default; UYUNI lists every kernel', async () => {
    const found = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=rhel&kernel=true&personality=none&relevantTo=${rhel}`);
    expect(found.status).toBe(200);
    const k = found.json.errata[0]!;
    expect(k.effectOn).toMatchObject({ systemId: rhel, adds: [], removes: [], kernels: expect.arrayContaining(['kernel', 'kernel-core']) });
    const before = (await labJson<Truth>(lab.baseUrl, 'GET', `/lab/systems/${rhel}/packages`)).json;
    expect(before).toMatchObject({ systemId: rhel, os: 'rhel', bootDefault: before.runningKernel });
    expect(before.packages.kernel).toHaveLength(2);
    expect(before.kernels).toHaveLength(2);

    const [aid] = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [rhel], [k.id], new Date(clock()), true]);
    clock.advance(1000);
    expect((await rpc.call<{ status: string }>('system.getEventDetails', [sk, rhel, aid])).status).toBe('Completed');
    const after = (await labJson<Truth>(lab.baseUrl, 'GET', `/lab/systems/${rhel}/packages`)).json;
    expect(after.packages.kernel).toHaveLength(3);
    expect(after.runningKernel).toBe(before.runningKernel);
    expect(after.bootDefault).not.toBe(before.runningKernel);
    expect(after.kernels[0]).toBe(after.bootDefault);
    const listed = await rpc.call<Array<{ name: string; release: string }>>('system.listInstalledPackages', [sk, rhel]);
    expect(listed.filter((p) => p.name === 'kernel-core').map((p) => p.release).sort()).toEqual(after.packages['kernel-core']!.map((v) => v.split('-')[1]).sort());
    const view = (await labJson<Record<string, unknown>>(lab.baseUrl, 'GET', `/lab/systems/${rhel}`)).json;
    expect(view).toMatchObject({ runningKernel: after.runningKernel, bootDefault: after.bootDefault, kernels: after.kernels, brokenServices: [] });
    expect((await labJson(lab.baseUrl, 'GET', '/lab/systems/42/packages')).status).toBe(404);
  });
});

describe('/lab/errata/find package filters', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: adds=true, removes=true and kernel=true find errata that do that on a test system`, async () => {
      const adds = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&adds=true&relevantTo=test&limit=3`);
      expect(adds.status).toBe(200);
      for (const e of adds.json.errata) expect(e.effectOn?.adds.length).toBeGreaterThan(0);
      const removes = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&removes=true&relevantTo=test&limit=3`);
      for (const e of removes.json.errata) expect(e.effectOn?.removes.length).toBeGreaterThan(0);
      const plain = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&adds=false&removes=false&kernel=false&relevantTo=test&limit=5`);
      for (const e of plain.json.errata) expect(e.effectOn).toMatchObject({ adds: [], removes: [], kernels: [] });
      const kernels = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&kernel=true&relevantTo=test`);
      expect(kernels.json.errata[0]?.effectOn?.kernels.length).toBeGreaterThanOrEqual(4);
      // Without relevantTo the catalog decides: a build that introduces or drops a binary.
      const anyAdds = await labJson<Found>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&adds=true`);
      expect(anyAdds.json.errata[0]?.effectOn).toBeUndefined();
      expect(anyAdds.json.errata[0]?.build).toBeGreaterThanOrEqual(3);
    });
  }
});
