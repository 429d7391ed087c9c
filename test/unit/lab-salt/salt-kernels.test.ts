// What a rollback meets through salt-api: several kernels per package, pkg.remove and its refusals, the
// boot default through cmd.run_all, the running kernel in grains, reboots onto the boot default, snapper
// undo of the whole package state, and the host faults of the package manager, systemd and the boot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, grubMenuEntry, kernelReleaseOf, manualClock, packageVersionString, vmlinuzPath, type Erratum, type LabSystem, type ManualClock, type Os } from '../../../lab/fleet/index.js';
import { startSaltLab, type SaltLab } from '../../../lab/salt/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { labJson, Rpc } from '../lab/helpers.js';
import { SaltApi } from './helpers.js';

let clock: ManualClock;
let fleet: Fleet;
let salt: SaltLab;
let uyuni: UyuniLab;
let api: SaltApi;
let rpc: Rpc;
let sk: string;
const used = new Set<number>();

beforeAll(async () => {
  clock = manualClock();
  fleet = new Fleet({ clock, testSystemsPerOs: 2, prodSystemsPerOs: 12, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  uyuni = await startUyuniLab({ fleet });
  salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 20, snapperMs: 20, rebootMs: 10 } });
  api = new SaltApi(salt.url);
  await api.login();
  rpc = new Rpc(uyuni.url);
  sk = await rpc.login();
});
afterAll(async () => {
  await salt.close();
  await uyuni.close();
});

/** A system no other test touched, so each test starts from the generated state. */
function fresh(os: Os, opts: { btrfs?: boolean } = {}): LabSystem {
  const sys = fleet.systems.find((s) => s.os === os && !used.has(s.id) && (opts.btrfs === undefined || s.btrfs === opts.btrfs));
  expect(sys, `an unused ${os} system`).toBeDefined();
  used.add(sys!.id);
  return sys!;
}

/** Through UYUNI's XML-RPC, with allowModules (main's lab puts RHEL on a modular channel that refuses without it). */
async function applyThroughUyuni(sys: LabSystem, e: Erratum): Promise<void> {
  const [aid] = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [sys.id], [e.id], new Date(clock()), true]);
  clock.advance(1000);
  expect((await rpc.call<{ status: string }>('system.getEventDetails', [sk, sys.id, aid])).status).toBe('Completed');
}

const kernelErratum = (sys: LabSystem, personality: 'none' | 'reboot_hang' = 'none') => {
  const e = fleet.findErratum({ os: sys.os, kernel: true, personality, relevantTo: sys.id, unscheduled: true });
  expect(e).toBeDefined();
  return e!;
};
const image = (e: Erratum) => fleet.packagesOf(e).find((p) => p.family === fleet.catalog.kernelImageFamily[p.os])!;
const truth = (sys: LabSystem) => labJson<{ packages: Record<string, string[]>; runningKernel: string; bootDefault: string | null; kernels: string[] }>(uyuni.baseUrl, 'GET', `/lab/systems/${sys.id}/packages`).then((r) => r.json);
const runAll = (sys: LabSystem, cmd: string) => api.full(sys.minionId, 'cmd.run_all', { arg: [cmd] }) as Promise<{ ret: { pid: number; retcode: number; stdout: string; stderr: string }; retcode: number }>;
const rebootAndWait = async (sys: LabSystem) => {
  expect(await api.one(sys.minionId, 'system.reboot')).toBe('');
  clock.advance(1000);
  expect(await api.one(sys.minionId, 'test.ping')).toBe(true);
};

describe('pkg.list_pkgs and pkg.install with install-only kernels', () => {
  it('rhel: several kernels comma-joined (Salt\u2019s string sort), as lists with versions_as_list=True', async () => {
    const sys = fresh('rhel');
    // Builds 28 and 29 have releases 427.97.1 and 427.100.1: a string sort puts 100 first.
    const k28 = fleet.packageAt('rhel', 'kernel', 28)!;
    const k29 = fleet.packageAt('rhel', 'kernel', 29)!;
    expect([k28.release, k29.release]).toEqual(['427.97.1.el9_4', '427.100.1.el9_4']);
    const before = fleet.installedBuilds(sys.id, 'kernel').map(packageVersionString);
    const ret = await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ kernel: packageVersionString(k29) }, { kernel: packageVersionString(k28) }] } });
    // installonly_limit 3 (running one kept): one of the two older kernels went.
    const listed = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    const kernels = listed.kernel!.split(',');
    expect(kernels).toHaveLength(3);
    expect(kernels).toEqual([...kernels].sort());
    expect(kernels.indexOf(packageVersionString(k29))).toBeLessThan(kernels.indexOf(packageVersionString(k28)));
    expect(kernels).toEqual(expect.arrayContaining([packageVersionString(k28), packageVersionString(k29), packageVersionString(fleet.kernel(sys.id).running)]));
    expect(ret).toMatchObject({ retcode: 0, ret: { kernel: { old: before.join(','), new: listed.kernel }, 'kernel-core': { old: before.join(','), new: listed['kernel-core'] } } });
    const asList = await api.one<Record<string, string[]>>(sys.minionId, 'pkg.list_pkgs', { kwarg: { versions_as_list: true } });
    expect(asList.kernel).toEqual(kernels);
    expect(asList['kernel-tools']).toHaveLength(1);
    expect(await api.one(sys.minionId, 'pkg.version', { arg: ['kernel'] })).toBe(listed.kernel);
  });

  it('rhel: a kernel pin shows as {"kernel": {"old": "a,b", "new": "a,b,c"}} and pulls its build in', async () => {
    const sys = fresh('rhel');
    const e = kernelErratum(sys);
    const oldKernels = (await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs')).kernel!;
    const pin = fleet.packagesOf(e).find((p) => p.name === 'kernel')!;
    const ret = await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ kernel: packageVersionString(pin) }] } });
    expect((ret as { ret: Record<string, { old: string; new: string }> }).ret.kernel).toEqual({ old: oldKernels, new: [...oldKernels.split(','), packageVersionString(pin)].sort().join(',') });
    // dnf pulled kernel-core, kernel-modules and kernel-modules-core of the same build in.
    expect(Object.keys((ret as { ret: object }).ret).sort()).toEqual(['kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core']);
    // The same pin again: nothing to do.
    expect(await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ kernel: packageVersionString(pin) }] } })).toEqual({});
    // kernel-tools and kernel-tools-libs were not pinned: the erratum is still relevant.
    expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    const tools = fleet.packagesOf(e).filter((p) => p.name.startsWith('kernel-tools'));
    await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: tools.map((p) => ({ [p.name]: packageVersionString(p) })) } });
    expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
  });

  it('ubuntu: installing an ABI kernel name installs that package (and its modules); the old names stay', async () => {
    const sys = fresh('ubuntu');
    const e = kernelErratum(sys);
    const img = image(e);
    const before = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    const ret = await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ [img.name]: packageVersionString(img) }] } });
    const modules = fleet.packagesOf(e).find((p) => p.name.startsWith('linux-modules-'))!;
    expect(ret).toMatchObject({ retcode: 0, ret: { [img.name]: { old: '', new: packageVersionString(img) }, [modules.name]: { old: '', new: packageVersionString(modules) } } });
    const after = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    for (const name of Object.keys(before).filter((n) => n.startsWith('linux-image-'))) expect(after[name]).toBe(before[name]);
    expect(Object.keys(after).filter((n) => n.startsWith('linux-image-'))).toHaveLength(3);
  });
});

describe('pkg.remove', () => {
  it('rhel: removes name-version of one kernel (and what depends on it); refuses the running kernel', async () => {
    const sys = fresh('rhel');
    const e = kernelErratum(sys);
    await applyThroughUyuni(sys, e);
    const running = fleet.kernel(sys.id).running;
    const core = fleet.packagesOf(e).find((p) => p.name === 'kernel-core')!;
    const listed = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
    const remaining = listed.kernel!.split(',').filter((v) => v !== packageVersionString(core)).join(',');
    const ret = await api.full(sys.minionId, 'pkg.remove', { kwarg: { pkgs: [{ 'kernel-core': packageVersionString(core) }] } });
    expect(ret).toMatchObject({
      retcode: 0,
      ret: {
        kernel: { old: listed.kernel, new: remaining },
        'kernel-core': { old: listed['kernel-core'], new: remaining },
        'kernel-modules': { old: listed['kernel-modules'], new: remaining },
        'kernel-modules-core': { old: listed['kernel-modules-core'], new: remaining },
      },
    });
    expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    // A version that is not installed is skipped: nothing to do.
    expect(await api.one(sys.minionId, 'pkg.remove', { kwarg: { pkgs: [{ kernel: packageVersionString(core) }] } })).toEqual({});

    const before = await truth(sys);
    const refused = await api.full(sys.minionId, 'pkg.remove', { kwarg: { pkgs: [{ 'kernel-core': packageVersionString(running) }] } });
    expect(refused).toMatchObject({ retcode: 1 });
    expect((refused as { ret: string }).ret).toMatch(/^ERROR: Error occurred removing package\(s\)/);
    expect((refused as { ret: string }).ret).toContain('Error: The operation would result in removing the following protected packages: kernel-core');
    expect(await truth(sys)).toEqual(before);
    // Without a version yum removes every installed kernel — the running one included, so it refuses.
    expect(await api.full(sys.minionId, 'pkg.remove', { arg: ['kernel-core'] })).toMatchObject({ retcode: 1 });
    expect(await truth(sys)).toEqual(before);
  });

  it('ubuntu: removes the new kernel by name; the running one aborts in the prerm', async () => {
    const sys = fresh('ubuntu');
    const e = kernelErratum(sys);
    await applyThroughUyuni(sys, e);
    const img = image(e);
    const names = fleet.packagesOf(e).map((p) => p.name);
    const ret = await api.full(sys.minionId, 'pkg.remove', { kwarg: { pkgs: names } });
    expect(ret).toMatchObject({ retcode: 0, ret: Object.fromEntries(names.map((n) => [n, { old: packageVersionString(fleet.packagesOf(e).find((p) => p.name === n)!), new: '' }])) });
    expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    expect((await truth(sys)).packages[img.name]).toBeUndefined();

    const running = fleet.kernel(sys.id).running;
    const before = await truth(sys);
    const refused = (await api.full(sys.minionId, 'pkg.remove', { kwarg: { pkgs: [running.name] } })) as { ret: string; retcode: number };
    expect(refused.retcode).toBe(1);
    expect(refused.ret).toMatch(/^ERROR: Problem encountered removing package\(s\)/);
    expect(refused.ret).toContain('You are attempting to remove the running kernel');
    expect(refused.ret).toContain('E: Sub-process /usr/bin/dpkg returned an error code (1)');
    expect(await truth(sys)).toEqual(before);
  });

  it('removes an added dependency and reinstalls a removed package at its old version', async () => {
    for (const os of ['ubuntu', 'rhel'] as const) {
      const sys = fresh(os);
      const adds = fleet.findErratum({ os, adds: true, personality: 'none', relevantTo: sys.id })!;
      const dep = fleet.erratumEffectOnPackages(sys.id, adds.id).adds[0]!;
      const removes = fleet.findErratum({ os, removes: true, personality: 'none', relevantTo: sys.id, exclude: [adds.id] })!;
      const gone = fleet.erratumEffectOnPackages(sys.id, removes.id).removes[0]!;
      const goneVersion = (await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs'))[gone]!;
      await applyThroughUyuni(sys, adds);
      await applyThroughUyuni(sys, removes);
      const listed = await api.one<Record<string, string>>(sys.minionId, 'pkg.list_pkgs');
      expect(listed[dep]).toBeDefined();
      expect(listed[gone]).toBeUndefined();
      expect(await api.one(sys.minionId, 'pkg.remove', { arg: [dep] })).toEqual({ [dep]: { old: listed[dep], new: '' } });
      expect(fleet.isRelevant(sys.id, adds.id)).toBe(true);
      expect(await api.one(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ [gone]: goneVersion }] } })).toEqual({ [gone]: { old: '', new: goneVersion } });
      expect((await truth(sys)).packages[gone]).toEqual([goneVersion]);
    }
  });
});

describe('boot default through cmd.run_all, the running kernel through grains and uname', () => {
  it('rhel: grubby reads and sets the default; a reboot boots it; grains follow the running kernel', async () => {
    const sys = fresh('rhel');
    const old = fleet.kernel(sys.id).running;
    const e = kernelErratum(sys);
    await applyThroughUyuni(sys, e);
    const fresh_ = fleet.packagesOf(e).find((p) => p.name === 'kernel-core')!;
    expect(await runAll(sys, 'grubby --default-kernel')).toMatchObject({ retcode: 0, ret: { retcode: 0, stdout: vmlinuzPath(fresh_), stderr: '' } });
    expect(await api.one(sys.minionId, 'grains.item', { arg: ['kernelrelease'] })).toEqual({ kernelrelease: kernelReleaseOf(old) });
    expect(await runAll(sys, 'uname -r')).toMatchObject({ ret: { stdout: kernelReleaseOf(old) } });

    const set = await runAll(sys, `grubby --set-default=${vmlinuzPath(old)}`);
    expect(set).toMatchObject({ retcode: 0, ret: { retcode: 0, stdout: `The default is /boot/loader/entries/${sys.machineId}-${kernelReleaseOf(old)}.conf with index 1 and kernel ${vmlinuzPath(old)}` } });
    expect(await api.one(sys.minionId, 'cmd.run', { arg: ['grubby --default-kernel'] })).toBe(vmlinuzPath(old));
    const wrong = await runAll(sys, 'grubby --set-default=/boot/vmlinuz-5.14.0-1.el9.x86_64');
    expect(wrong).toMatchObject({ retcode: 1, ret: { retcode: 1, stdout: '', stderr: 'The param /boot/vmlinuz-5.14.0-1.el9.x86_64 is incorrect' } });
    expect(fleet.kernel(sys.id).bootDefault?.id).toBe(old.id);

    await runAll(sys, `grubby --set-default ${vmlinuzPath(fresh_)}`);
    await rebootAndWait(sys);
    expect(await api.one(sys.minionId, 'grains.item', { arg: ['kernelrelease'] })).toEqual({ kernelrelease: kernelReleaseOf(fresh_) });
    expect((await api.one<Record<string, unknown>>(sys.minionId, 'grains.items')).kernelrelease).toBe(kernelReleaseOf(fresh_));
    expect(await api.one(sys.minionId, 'cmd.run', { arg: ['uname -r'] })).toBe(kernelReleaseOf(fresh_));
    // UYUNI's reboot action boots the boot default too.
    await runAll(sys, `grubby --set-default=${vmlinuzPath(old)}`);
    await rpc.call('system.scheduleReboot', [sk, sys.id, new Date(clock())]);
    clock.advance(1300);
    expect(await api.one(sys.minionId, 'cmd.run', { arg: ['uname -r'] })).toBe(kernelReleaseOf(old));
  });

  it('ubuntu: grub-set-default takes the menu entry, grub-editenv lists it; nothing listed while the newest is the default', async () => {
    const sys = fresh('ubuntu');
    const old = fleet.kernel(sys.id).running;
    const e = kernelErratum(sys);
    await applyThroughUyuni(sys, e);
    expect(await runAll(sys, 'grub-editenv /boot/grub/grubenv list')).toMatchObject({ retcode: 0, ret: { stdout: '' } });
    const entry = grubMenuEntry(old);
    expect(entry).toBe(`Advanced options for Ubuntu>Ubuntu, with Linux ${kernelReleaseOf(old)}`);
    expect(await runAll(sys, `grub-set-default '${entry}'`)).toMatchObject({ retcode: 0, ret: { retcode: 0 } });
    expect(await runAll(sys, 'grub-editenv /boot/grub/grubenv list')).toMatchObject({ ret: { stdout: `saved_entry=${entry}` } });
    expect(await runAll(sys, `grub-set-default "Advanced options for Ubuntu>Ubuntu, with Linux 6.8.0-1-generic"`)).toMatchObject({ retcode: 1, ret: { retcode: 1 } });
    expect(fleet.kernel(sys.id).bootDefault?.id).toBe(old.id);
    await rebootAndWait(sys);
    expect(await api.one(sys.minionId, 'grains.item', { arg: ['kernelrelease'] })).toEqual({ kernelrelease: kernelReleaseOf(old) });
    // Removing the saved kernel's entry falls back to the newest: grubenv has no saved entry any more.
    const older = fleet.kernel(sys.id).installed.find((b) => b.build < old.build)!;
    await runAll(sys, `grub-set-default '${grubMenuEntry(older)}'`);
    await api.one(sys.minionId, 'pkg.remove', { arg: [older.name] });
    expect(await runAll(sys, 'grub-editenv /boot/grub/grubenv list')).toMatchObject({ ret: { stdout: '' } });
    expect(fleet.kernel(sys.id).bootDefault?.id).toBe(image(e).id);
  });

  it('answers any other command as /bin/sh would a missing one (127), per distribution', async () => {
    const rhel = fresh('rhel');
    const ubuntu = fresh('ubuntu');
    expect(await runAll(rhel, "grub-set-default 'x'")).toMatchObject({ retcode: 127, ret: { retcode: 127, stdout: '', stderr: '/bin/sh: line 1: grub-set-default: command not found' } });
    expect(await runAll(ubuntu, 'grubby --default-kernel')).toMatchObject({ retcode: 127, ret: { stderr: '/bin/sh: 1: grubby: not found' } });
    expect(await runAll(rhel, 'grubby --info=ALL')).toMatchObject({ retcode: 127 });
    expect(await runAll(ubuntu, 'rm -rf /boot')).toMatchObject({ retcode: 127, ret: { stderr: '/bin/sh: 1: rm: not found' } });
    expect(await api.full(ubuntu.minionId, 'cmd.run', { arg: ['uname -a'] })).toMatchObject({ retcode: 127, ret: '/bin/sh: 1: uname: not found' });
  });
});

describe('snapper undo restores the package state and the boot default, not the running kernel', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: kernels, added and removed packages, services and the boot entry come back; the running kernel needs a reboot`, async () => {
      const sys = fresh(os, { btrfs: true });
      const before = await truth(sys);
      const snap = (await api.one<number>(sys.minionId, 'snapper.create_snapshot', { kwarg: { description: 'spm pre-patch' } })) as number;
      const k = kernelErratum(sys);
      const adds = fleet.findErratum({ os, adds: true, personality: 'none', relevantTo: sys.id })!;
      const removes = fleet.findErratum({ os, removes: true, personality: 'none', relevantTo: sys.id, exclude: [adds.id] })!;
      const stop = fleet.findErratum({ os, personality: 'stop_service', relevantTo: sys.id, unscheduled: true, kernel: false })!;
      for (const e of [k, adds, removes, stop]) await applyThroughUyuni(sys, e);
      await rebootAndWait(sys);
      const patched = await truth(sys);
      expect(patched.runningKernel).toBe(kernelReleaseOf(image(k)));
      expect(patched.packages).not.toEqual(before.packages);
      expect(sys.services[stop.stopsService!]).toBe(false);

      const undo = await api.full(sys.minionId, 'snapper.undo', { kwarg: { num_pre: snap, num_post: 0 } });
      expect(undo).toMatchObject({ retcode: 0, ret: { create: expect.any(String), modify: expect.any(String), delete: expect.any(String) } });
      const counts = (undo as { ret: Record<string, string> }).ret;
      // The new kernel's packages and the added dependency are deleted; the removed package is created again.
      expect(Number(counts.delete)).toBeGreaterThanOrEqual(fleet.packagesOf(k).filter((p) => fleet.familyInfo(os, p.family).multi).length + 1);
      expect(Number(counts.create)).toBeGreaterThanOrEqual(1);
      const restored = await truth(sys);
      expect(restored.packages).toEqual(before.packages);
      expect(restored.bootDefault).toBe(before.bootDefault);
      expect(restored.kernels).toEqual(before.kernels);
      // The running kernel is not on disk: it is still the new one, though its packages are gone.
      expect(restored.runningKernel).toBe(patched.runningKernel);
      expect(await api.one(sys.minionId, 'service.status', { arg: [stop.stopsService] })).toBe(true);
      for (const e of [k, adds, removes, stop]) expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
      await rebootAndWait(sys);
      expect((await truth(sys)).runningKernel).toBe(before.runningKernel);
    });
  }
});

describe('host faults through salt', () => {
  const arm = async (body: Record<string, unknown>) => {
    const res = await labJson(uyuni.baseUrl, 'POST', '/lab/host-faults', body);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  };

  it('downgrade_sticks: pkg.install reports success without that package, which stays new', async () => {
    const sys = fresh('rhel');
    const e = fleet.findErrata({ os: 'rhel', personality: 'none', kernel: false, relevantTo: sys.id }, 40).find((x) => x.packageIds.length >= 2)!;
    await applyThroughUyuni(sys, e);
    const [stuck, other] = fleet.packagesOf(e);
    const prev = (p: typeof stuck) => fleet.packageAt('rhel', p!.family, p!.build - 1)!;
    await arm({ kind: 'downgrade_sticks', systemId: sys.id, package: stuck!.name });
    const ret = await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: fleet.packagesOf(e).map((p) => ({ [p.name]: packageVersionString(prev(p)) })) } });
    expect(ret).toMatchObject({ retcode: 0, ret: { [other!.name]: { old: packageVersionString(other!), new: packageVersionString(prev(other)) } } });
    expect((ret as { ret: Record<string, unknown> }).ret[stuck!.name]).toBeUndefined();
    expect((await truth(sys)).packages[stuck!.name]).toEqual([packageVersionString(stuck!)]);
  });

  it('install_fails: the next pkg.install is a CommandExecutionError naming the missing version, and changes nothing', async () => {
    const sys = fresh('ubuntu');
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'none', kernel: false, relevantTo: sys.id })!;
    await arm({ kind: 'install_fails', systemId: sys.id });
    const before = await truth(sys);
    const p = fleet.packagesOf(e)[0]!;
    const ret = (await api.full(sys.minionId, 'pkg.install', { kwarg: { pkgs: [{ [p.name]: packageVersionString(p) }] } })) as { ret: string; retcode: number };
    expect(ret.retcode).toBe(1);
    expect(ret.ret).toMatch(/^ERROR: Problem encountered installing package\(s\)/);
    expect(ret.ret).toContain(`E: Version '${packageVersionString(p)}' for '${p.name}' was not found`);
    expect(await truth(sys)).toEqual(before);
  });

  it('service_stays_down: after the next snapper undo the unit is down and service.start cannot start it', async () => {
    const sys = fresh('ubuntu', { btrfs: true });
    const snap = await api.one<number>(sys.minionId, 'snapper.create_snapshot');
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'none', kernel: false, relevantTo: sys.id })!;
    await applyThroughUyuni(sys, e);
    await arm({ kind: 'service_stays_down', systemId: sys.id, service: 'ssh' });
    await api.one(sys.minionId, 'snapper.undo', { kwarg: { num_pre: snap, num_post: 0 } });
    expect(await api.one(sys.minionId, 'service.status', { arg: ['ssh'] })).toBe(false);
    expect(await api.one(sys.minionId, 'service.start', { arg: ['ssh'] })).toBe(false);
    expect(await api.one(sys.minionId, 'service.status', { arg: ['ssh'] })).toBe(false);
    const rules = await labJson<{ rules: Array<{ kind: string; systemId: number; fired: number }> }>(uyuni.baseUrl, 'GET', '/lab/host-faults');
    expect(rules.json.rules.find((r) => r.kind === 'service_stays_down' && r.systemId === sys.id)?.fired).toBe(1);
  });

  it('reboot_hangs: system.reboot never comes back until POST /lab/systems/:id/recover', async () => {
    const sys = fresh('rhel');
    await arm({ kind: 'reboot_hangs', systemId: sys.id });
    expect(await api.one(sys.minionId, 'system.reboot')).toBe('');
    clock.advance(600_000);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(false);
    const recovered = await labJson<{ up: boolean }>(uyuni.baseUrl, 'POST', `/lab/systems/${sys.id}/recover`);
    expect(recovered.json.up).toBe(true);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(true);
    await rebootAndWait(sys);
  });
});
