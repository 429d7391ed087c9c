// The salt lab and the UYUNI lab on ONE fleet: what one changes, the other sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, manualClock, packageVersionString, type Erratum, type LabSystem, type ManualClock, type Personality } from '../../../lab/fleet/index.js';
import { startSaltLab, type SaltLab } from '../../../lab/salt/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { Rpc } from '../lab/helpers.js';
import { SaltApi } from './helpers.js';

let clock: ManualClock;
let fleet: Fleet;
let salt: SaltLab;
let uyuni: UyuniLab;
let api: SaltApi;
let rpc: Rpc;
let sk: string;

beforeAll(async () => {
  clock = manualClock();
  fleet = new Fleet({ clock, prodSystemsPerOs: 2, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  uyuni = await startUyuniLab({ fleet });
  salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 30, snapperMs: 30, rebootMs: 10 } });
  api = new SaltApi(salt.url);
  await api.login();
  rpc = new Rpc(uyuni.url);
  sk = await rpc.login();
});
afterAll(async () => {
  await salt.close();
  await uyuni.close();
});

const relevantIds = async (sid: number) => (await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid])).map((e) => e.id);

/** Applies an erratum through UYUNI's XML-RPC and lets the action finish. */
async function applyThroughUyuni(sys: LabSystem, e: Erratum): Promise<void> {
  const [aid] = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [sys.id], [e.id], true]);
  clock.advance(1000);
  const ev = await rpc.call<{ status: string }>('system.getEventDetails', [sk, sys.id, aid]);
  expect(ev.status).toBe('Completed');
}

function erratumFor(sys: LabSystem, personality: Personality, extra: { service?: string } = {}): Erratum {
  const e = fleet.findErratum({ os: sys.os, personality, relevantTo: sys.id, unscheduled: true, kernel: false, ...extra });
  expect(e, `${personality} erratum for ${sys.name}`).toBeDefined();
  return e!;
}

describe('pkg.* and UYUNI on one fleet', () => {
  it('pkg.list_pkgs and pkg.version agree with UYUNI listInstalledPackages', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    const pkgs = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    const uyuniPkgs = await rpc.call<Array<{ name: string; epoch: string; version: string; release: string }>>('system.listInstalledPackages', [sk, sys.id]);
    // UYUNI lists every installed build (two kernels); Salt comma-joins the versions of one name.
    expect(Object.values(pkgs).flatMap((v) => v.split(',')).length).toBe(uyuniPkgs.length);
    expect(pkgs.kernel?.split(',')).toHaveLength(2);
    // UYUNI sends ' ' for no epoch.
    for (const p of uyuniPkgs) expect(pkgs[p.name]?.split(',')).toContain(`${p.epoch.trim() && p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}`);
    const [name, version] = Object.entries(pkgs).find(([n]) => n !== 'kernel')!;
    expect(await api.one(sys.minionId, 'pkg.version', { arg: [name] })).toBe(version);
    expect(await api.one(sys.minionId, 'pkg.version', { arg: [name, 'not-installed'] })).toEqual({ [name]: version, 'not-installed': '' });
  });

  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: a pinned downgrade makes the applied erratum relevant again in UYUNI; the upgrade pin settles it`, async () => {
      const sys = fleet.systemsOf(os, 'test')[0]!;
      const e = erratumFor(sys, 'none');
      await applyThroughUyuni(sys, e);
      expect(await relevantIds(sys.id)).not.toContain(e.id);

      const packages = fleet.packagesOf(e);
      const previous = packages.map((p) => fleet.packageAt(os, p.family, p.build - 1)!);
      const pins = previous.map((p) => ({ [p.name]: packageVersionString(p) }));
      const ret = await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: pins } });
      const expected = Object.fromEntries(packages.map((p, i) => [p.name, { old: packageVersionString(p), new: packageVersionString(previous[i]!) }]));
      expect(ret).toMatchObject({ ret: expected, retcode: 0 });

      expect(await relevantIds(sys.id)).toContain(e.id);
      const listed = await rpc.call<Array<{ name: string; release: string }>>('system.listInstalledPackages', [sk, sys.id]);
      for (const p of previous) expect(listed.find((x) => x.name === p.name)?.release).toBe(p.release);
      for (const p of previous) expect(salt.stats.installCount(sys.minionId, p.name)).toBe(1);

      // The same pins again change nothing and install nothing.
      expect(await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: pins } })).toEqual({});
      for (const p of previous) expect(salt.stats.installCount(sys.minionId, p.name)).toBe(1);

      // Pinning the erratum's builds installs it as far as UYUNI can tell.
      await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: packages.map((p) => ({ [p.name]: packageVersionString(p) })) } });
      expect(await relevantIds(sys.id)).not.toContain(e.id);
    });
  }

  it('an unknown version is an ERROR string with retcode 1 and installs nothing', async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    const before = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    const [name, version] = Object.entries(before)[0]!;
    const res = (await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ [name]: version }, { curl: '0.0.1-1' }] } })) as { ret: string; retcode: number };
    expect(res.retcode).toBe(1);
    expect(res.ret).toMatch(/^ERROR: /);
    expect(res.ret).toContain("Version '0.0.1-1' for 'curl' was not found");
    expect(await api.one(sys.minionId, 'pkg.list_pkgs')).toEqual(before);
    const rhel = fleet.systemsOf('rhel', 'test')[0]!;
    const missing = (await api.full(rhel.minionId, 'pkg.install', { arg: ['no-such-package'] })) as { ret: string; retcode: number };
    expect(missing).toMatchObject({ retcode: 1, ret: expect.stringContaining('Unable to find a match: no-such-package') });
  });

  it('a downgrade below a stop_service erratum brings the service back', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    const e = erratumFor(sys, 'stop_service', { service: 'httpd' });
    await applyThroughUyuni(sys, e);
    expect(await api.one(sys.minionId, 'service.status', { arg: [e.stopsService] })).toBe(false);
    const pins = fleet.packagesOf(e).map((p) => fleet.packageAt('rhel', p.family, p.build - 1)!).map((p) => ({ [p.name]: packageVersionString(p) }));
    await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: pins } });
    expect(await api.one(sys.minionId, 'service.status', { arg: [e.stopsService] })).toBe(true);
  });
});

describe('services and reboots', () => {
  it('service.status is false after a stop_service erratum applied through UYUNI', async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    const e = erratumFor(sys, 'stop_service', { service: 'nginx' });
    expect(await api.one(sys.minionId, 'service.status', { arg: ['nginx'] })).toBe(true);
    await applyThroughUyuni(sys, e);
    expect(await api.full(sys.minionId, 'service.status', { arg: ['nginx'] })).toMatchObject({ ret: false, retcode: 0 });
    expect(await api.one(sys.minionId, 'service.status', { arg: ['ssh'] })).toBe(true);
    expect(await api.one(sys.minionId, 'service.restart', { arg: ['nginx'] })).toBe(true);
    expect(await api.one(sys.minionId, 'service.status', { arg: ['nginx'] })).toBe(true);
  });

  it('system.reboot takes the minion away for the reboot time and changes the boot time', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[1]!;
    const before = await api.one<{ since_t: number; seconds: number }>(sys.minionId, 'status.uptime');
    expect(before.since_t).toBe(sys.bootTimeSec);
    expect(before.seconds).toBe(Math.floor(clock() / 1000 - sys.bootTimeSec));
    expect(await api.one(sys.minionId, 'system.reboot')).toBe('');
    expect(await api.one(sys.minionId, 'test.ping')).toBe(false);
    clock.advance(999);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(false);
    clock.advance(1);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(true);
    const after = await api.one<{ since_t: number; seconds: number; days: number; time: string; since_iso: string }>(sys.minionId, 'status.uptime');
    expect(after.since_t).toBe(Math.floor(clock() / 1000));
    expect(after.since_t).toBeGreaterThan(before.since_t);
    expect(after).toMatchObject({ seconds: 0, days: 0, time: '0:0' });
    expect(after.since_iso).toBe(new Date(after.since_t * 1000).toISOString().slice(0, 19));
    // UYUNI sees the same boot.
    const details = await rpc.call<Array<{ id: number; last_boot: Date }>>('systemgroup.listSystemsMinimal', [sk, 'prod-rhel9']);
    expect(details.find((d) => d.id === sys.id)!.last_boot.getTime()).toBe(after.since_t * 1000);
  });

  it('after a reboot_hang erratum, system.reboot never comes back: every later call gets false', async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'reboot_hang', relevantTo: sys.id, unscheduled: true })!;
    await applyThroughUyuni(sys, e);
    expect(await api.one(sys.minionId, 'system.reboot')).toBe('');
    clock.advance(3_600_000);
    sk = await rpc.login(); // the hour outlived the UYUNI session
    expect(await api.full(sys.minionId, 'test.ping')).toBe(false);
    expect(await api.one(sys.minionId, 'status.uptime')).toBe(false);
    const res = await api.post([{ client: 'local_async', tgt: sys.minionId, fun: 'test.ping' }]);
    const { jid } = (res.json.return as Array<{ jid: string }>)[0]!;
    await new Promise((r) => setTimeout(r, 30));
    expect((await api.get<{ return: Array<Record<string, unknown>> }>(`/jobs/${jid}`)).json.return[0]).toEqual({});
    // The lab can power-cycle it.
    fleet.recoverSystem(sys.id);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(true);
  });
});

describe('snapper', () => {
  it('does not load on systems without btrfs: Salt 3007 onedir has no python dbus module', async () => {
    const sys = fleet.systems.find((s) => !s.btrfs)!;
    const text = "'snapper' __virtual__ returned False: The snapper module cannot be loaded: missing python dbus module";
    expect(await api.full(sys.minionId, 'snapper.create_snapshot')).toMatchObject({ ret: text, retcode: 1 });
    expect(await api.one(sys.minionId, 'snapper.undo')).toBe(text);
    expect(salt.modules.snapper(sys)).toBe('no-dbus');
  });

  it.each([
    ['no-dbus', "'snapper' __virtual__ returned False: The snapper module cannot be loaded: missing python dbus module"],
    ['snapper-missing', "'snapper' __virtual__ returned False: The snapper module cannot be loaded: snapper is missing"],
    ['no-system-bus', "'snapper' __virtual__ returned False: The snapper module cannot be loaded: None"],
    ['virtual-false', "'snapper' __virtual__ returned False"],
    ['absent', "'snapper.list_snapshots' is not available."],
  ])('a btrfs minion set to %s answers every snapper function with the loader text, and nothing happens', async (state, text) => {
    const sys = fleet.systems.find((s) => s.btrfs && s.stage === 'prod' && s.up)!;
    const control = await api.put(`/lab/minions/${sys.minionId}/modules/snapper`, { state });
    expect(control.status).toBe(200);
    try {
      const before = salt.snapshots.list(sys.id).length;
      expect(await api.full(sys.minionId, 'snapper.list_snapshots')).toMatchObject({ ret: text, retcode: 1 });
      const created = (await api.full(sys.minionId, 'snapper.create_snapshot')) as { ret: string };
      expect(created.ret).toBe(text.replace('snapper.list_snapshots', 'snapper.create_snapshot'));
      expect(salt.snapshots.list(sys.id)).toHaveLength(before);
    } finally {
      await api.put(`/lab/minions/${sys.minionId}/modules/snapper`, { state: 'loaded' });
    }
    expect(await api.full(sys.minionId, 'snapper.list_snapshots')).toMatchObject({ retcode: 0 });
  });

  it('the module control refuses an unknown state, an unknown minion, and loading snapper without btrfs', async () => {
    const ext4 = fleet.systems.find((s) => !s.btrfs)!;
    expect((await api.put(`/lab/minions/${ext4.minionId}/modules/snapper`, { state: 'bogus' })).status).toBe(400);
    expect((await api.put('/lab/minions/no-such-minion/modules/snapper', { state: 'absent' })).status).toBe(404);
    expect((await api.put(`/lab/minions/${ext4.minionId}/modules/snapper`, { state: 'loaded' })).status).toBe(409);
    expect((await api.get<{ snapper: string }>(`/lab/minions/${ext4.minionId}/modules`)).json).toEqual({ snapper: 'no-dbus' });
  });

  it('create_snapshot records versions and services; undo restores both and UYUNI sees it', async () => {
    const sys = fleet.systems.find((s) => s.btrfs && s.stage === 'test' && s.up)!;
    const e = fleet.findErratum({ os: sys.os, personality: 'stop_service', relevantTo: sys.id, unscheduled: true, kernel: false })!;
    const svc = e.stopsService!;
    const pkgsBefore = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    expect(await api.one(sys.minionId, 'service.status', { arg: [svc] })).toBe(true);

    const snap = await api.full(sys.minionId, 'snapper.create_snapshot', { kwarg: { description: 'spm pre-patch' } });
    expect(snap).toMatchObject({ retcode: 0, ret: expect.any(Number) });
    const num = (snap as { ret: number }).ret;
    const list = await api.one<Array<Record<string, unknown>>>(sys.minionId, 'snapper.list_snapshots');
    expect(list[0]).toMatchObject({ id: 0, description: 'current' });
    expect(list.find((s) => s.id === num)).toMatchObject({ type: 'single', user: 'root', description: 'spm pre-patch', cleanup: 'number', userdata: { salt_jid: expect.stringMatching(/^\d{20}$/) } });

    await applyThroughUyuni(sys, e);
    // Something that is not the erratum's doing: a service stopped by hand after the snapshot.
    const other = sys.criticalServices.find((s) => s !== svc)!;
    await api.one(sys.minionId, 'service.stop', { arg: [other] });
    expect(await api.one(sys.minionId, 'service.status', { arg: [svc] })).toBe(false);
    expect(await api.one(sys.minionId, 'pkg.list_pkgs')).not.toEqual(pkgsBefore);
    expect(await relevantIds(sys.id)).not.toContain(e.id);

    const undo = await api.full(sys.minionId, 'snapper.undo', { kwarg: { num_pre: num, num_post: 0 } });
    expect(undo).toMatchObject({ retcode: 0, ret: { create: expect.any(String), modify: expect.any(String), delete: expect.any(String) } });
    expect(Number((undo as { ret: { modify: string } }).ret.modify)).toBeGreaterThanOrEqual(fleet.packagesOf(e).length);
    expect(await api.one(sys.minionId, 'pkg.list_pkgs')).toEqual(pkgsBefore);
    expect(await api.one(sys.minionId, 'service.status', { arg: [svc] })).toBe(true);
    expect(await api.one(sys.minionId, 'service.status', { arg: [other] })).toBe(true);
    expect(await relevantIds(sys.id)).toContain(e.id);
    expect(salt.stats.snapshot().undos[sys.minionId]).toBe(1);
  });

  it('undo of an unknown snapshot is an ERROR string', async () => {
    const sys = fleet.systems.find((s) => s.btrfs && s.up)!;
    expect(await api.full(sys.minionId, 'snapper.undo', { kwarg: { num_pre: 999 } })).toMatchObject({ retcode: 1, ret: expect.stringMatching(/^ERROR: .*Snapshot '999' not found/) });
  });
});
