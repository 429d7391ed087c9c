// The fleet's package truth: kernels side by side, running vs boot default, added and removed packages,
// relevance that follows the installed packages, and the host faults of the package manager and the boot.
import { describe, expect, it } from 'vitest';
import { FleetError, generateFleet, INSTALLONLY_LIMIT, kernelRelease, kernelReleaseOf, manualClock, type Erratum, type Fleet, type LabSystem, type Os } from '../../../lab/fleet/index.js';

function setup() {
  const clock = manualClock();
  const fleet = generateFleet({ clock, prodSystemsPerOs: 2, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  const testSystem = (os: Os): LabSystem => fleet.systemsOf(os, 'test')[0]!;
  const run = (ms: number) => {
    clock.advance(ms);
    fleet.tick();
  };
  /** Applies through a UYUNI errata action and lets it finish. */
  const apply = (sys: LabSystem, e: Erratum) => {
    const [aid] = fleet.scheduleApplyErrata([sys.id], [e.id]);
    run(1000);
    expect(fleet.action(aid!)!.systems.get(sys.id)!.status).toBe('Completed');
  };
  const reboot = (sys: LabSystem) => {
    fleet.rebootNow(sys.id);
    run(1000);
  };
  return { clock, fleet, testSystem, run, apply, reboot };
}

const imageFamily = (fleet: Fleet, os: Os) => fleet.catalog.kernelImageFamily[os];
const kernelBuilds = (fleet: Fleet, sys: LabSystem) => fleet.installedBuilds(sys.id, imageFamily(fleet, sys.os)).map((b) => b.build);
const plainKernels = (fleet: Fleet, sys: LabSystem, n: number) => {
  const list = fleet.findErrata({ os: sys.os, kernel: true, personality: 'none', relevantTo: sys.id }, n);
  expect(list).toHaveLength(n);
  return list;
};

describe('install-only kernels', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: a kernel erratum installs the new kernel beside the running one and makes it the boot default`, () => {
      const { fleet, testSystem, apply, reboot } = setup();
      const sys = testSystem(os);
      const [k] = plainKernels(fleet, sys, 1);
      const runningBefore = fleet.kernel(sys.id).running;
      const newBuild = fleet.erratumBuild(k!);
      apply(sys, k!);
      expect(kernelBuilds(fleet, sys)).toEqual([runningBefore.build - 1, runningBefore.build, newBuild]);
      // Every build of the family is listed (UYUNI's listInstalledPackages reads installedPackages).
      const family = os === 'rhel' ? 'kernel' : imageFamily(fleet, os);
      expect(fleet.installedPackages(sys.id).filter((p) => p.family === family)).toHaveLength(3);
      const view = fleet.kernel(sys.id);
      expect(view.running.id).toBe(runningBefore.id);
      expect(view.bootDefault?.build).toBe(newBuild);
      // uname -r (grains kernelrelease, node_uname_info) is the RUNNING kernel until a reboot.
      expect(kernelRelease(fleet, sys)).toBe(kernelReleaseOf(runningBefore));
      expect(fleet.isRelevant(sys.id, k!.id)).toBe(false);
      reboot(sys);
      expect(sys.up).toBe(true);
      expect(fleet.kernel(sys.id).running.build).toBe(newBuild);
      expect(kernelRelease(fleet, sys)).toBe(kernelReleaseOf(fleet.kernel(sys.id).bootDefault!));
    });
  }

  it('rhel: installonly_limit keeps 3 kernels, removing the oldest one that is not running', () => {
    const { fleet, testSystem, apply, reboot } = setup();
    const sys = testSystem('rhel');
    const running = fleet.kernel(sys.id).running.build;
    const [previous] = kernelBuilds(fleet, sys);
    expect(previous).toBe(running - 1);
    const errata = plainKernels(fleet, sys, 3);
    const ks = errata.map((e) => fleet.erratumBuild(e));
    expect(INSTALLONLY_LIMIT).toBe(3);
    apply(sys, errata[0]!);
    expect(kernelBuilds(fleet, sys)).toEqual([previous, running, ks[0]]);
    reboot(sys);
    expect(fleet.kernel(sys.id).running.build).toBe(ks[0]);
    fleet.setBootDefault(sys.id, previous);
    reboot(sys);
    expect(fleet.kernel(sys.id).running.build).toBe(previous);
    apply(sys, errata[1]!);
    // The running (oldest) kernel is kept; the oldest other one goes, from every install-only package.
    expect(kernelBuilds(fleet, sys)).toEqual([previous, ks[0], ks[1]]);
    for (const family of ['kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core']) {
      expect(fleet.installedBuilds(sys.id, family).map((b) => b.build)).toEqual([previous, ks[0], ks[1]]);
    }
    // kernel-tools upgrades normally.
    expect(fleet.installedBuilds(sys.id, 'kernel-tools').map((b) => b.build)).toEqual([ks[1]]);
    reboot(sys);
    expect(fleet.kernel(sys.id).running.build).toBe(ks[1]);
    apply(sys, errata[2]!);
    expect(kernelBuilds(fleet, sys)).toEqual([ks[0], ks[1], ks[2]]);
  });

  it('ubuntu: ABI-named kernels are new package names; apt keeps every old one', () => {
    const { fleet, testSystem, apply } = setup();
    const sys = testSystem('ubuntu');
    const errata = plainKernels(fleet, sys, 4);
    const names = (pattern: RegExp) => fleet.installedPackages(sys.id).filter((p) => pattern.test(p.name)).map((p) => p.name);
    const before = names(/^linux-image-/);
    for (const e of errata) apply(sys, e);
    const images = names(/^linux-image-/);
    expect(images).toHaveLength(before.length + 4);
    expect(images).toEqual(expect.arrayContaining([...before, ...errata.map((e) => fleet.packagesOf(e).find((p) => p.name.startsWith('linux-image-'))!.name)]));
    expect(names(/^linux-modules-/)).toHaveLength(before.length + 4);
    expect(names(/^linux-headers-6\.8\.0-\d+$/)).toHaveLength(before.length + 4);
  });

  it('every system starts with the kernel before its own still installed, running its own', () => {
    const { fleet } = setup();
    for (const s of fleet.systems) {
      const [older, newer, ...rest] = kernelBuilds(fleet, s);
      expect(rest).toEqual([]);
      expect(newer).toBe(older! + 1);
      expect(fleet.kernel(s.id).running.build).toBe(newer);
      expect(fleet.kernel(s.id).bootDefault?.build).toBe(newer);
    }
  });
});

describe('boot default and reboots', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: setting the old kernel as default boots it; the new one stays installed`, () => {
      const { fleet, testSystem, apply, reboot } = setup();
      const sys = testSystem(os);
      const old = fleet.kernel(sys.id).running;
      const [k] = plainKernels(fleet, sys, 1);
      apply(sys, k!);
      reboot(sys);
      expect(fleet.kernel(sys.id).running.build).toBe(fleet.erratumBuild(k!));
      expect(fleet.setBootDefault(sys.id, old.build)).toBe(true);
      expect(fleet.kernel(sys.id).bootDefault?.id).toBe(old.id);
      expect(fleet.kernel(sys.id).running.build).toBe(fleet.erratumBuild(k!));
      reboot(sys);
      expect(fleet.kernel(sys.id).running.id).toBe(old.id);
      // An unknown kernel is refused and changes nothing.
      expect(fleet.setBootDefault(sys.id, 9_999)).toBe(false);
      expect(fleet.kernel(sys.id).bootDefault?.id).toBe(old.id);
    });
  }

  it('a reboot_hang kernel hangs only while it is the boot default', () => {
    const { fleet, testSystem, apply, reboot, run } = setup();
    const sys = testSystem('rhel');
    const e = fleet.findErratum({ os: 'rhel', personality: 'reboot_hang', relevantTo: sys.id })!;
    const old = fleet.kernel(sys.id).running;
    apply(sys, e);
    expect(sys.hangOnReboot).toBe(true);
    fleet.setBootDefault(sys.id, old.build);
    expect(sys.hangOnReboot).toBe(false);
    fleet.setBootDefault(sys.id, fleet.erratumBuild(e));
    expect(sys.hangOnReboot).toBe(true);
    reboot(sys);
    expect(sys).toMatchObject({ up: false, hung: true });
    run(60_000);
    expect(sys.up).toBe(false);
    // The power cycle boots the kernel it ran before (picked in the menu); the default is still the bad one.
    fleet.recoverSystem(sys.id);
    expect(sys.up).toBe(true);
    expect(fleet.kernel(sys.id).running.id).toBe(old.id);
    expect(sys.hangOnReboot).toBe(true);
  });
});

describe('removing kernels', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: removing the new kernel makes its erratum relevant again; the running kernel is refused`, () => {
      const { fleet, testSystem, apply } = setup();
      const sys = testSystem(os);
      const e = fleet.findErratum({ os, personality: 'reboot_hang', relevantTo: sys.id })!;
      const running = fleet.kernel(sys.id).running;
      apply(sys, e);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
      const before = fleet.packageTruth(sys.id);

      const refused = fleet.removePackages(sys.id, [{ family: imageFamily(fleet, os), build: running }]);
      expect(refused.refused).toEqual([{ kind: 'running_kernel', build: running }]);
      expect(fleet.packageTruth(sys.id)).toEqual(before);

      // kernel-core / linux-modules of the new build takes what depends on it along.
      const target = os === 'rhel' ? 'kernel-core' : 'linux-modules-6.8.0-ABI-generic';
      const build = fleet.packagesOf(e).find((p) => p.family === target)!;
      expect(fleet.removePackages(sys.id, [{ family: target, build }]).refused).toEqual([]);
      expect(kernelBuilds(fleet, sys)).toEqual([running.build - 1, running.build]);
      if (os === 'rhel') for (const f of ['kernel', 'kernel-modules', 'kernel-modules-core']) expect(fleet.installedBuilds(sys.id, f).map((b) => b.build)).toEqual([running.build - 1, running.build]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
      expect(fleet.kernel(sys.id).bootDefault?.id).toBe(running.id);
      expect(sys.hangOnReboot).toBe(false);
    });
  }

  it('rhel: removing only the kernel meta package keeps the boot entry (and the erratum relevant)', () => {
    const { fleet, testSystem, apply } = setup();
    const sys = testSystem('rhel');
    const [k] = plainKernels(fleet, sys, 1);
    apply(sys, k!);
    const meta = fleet.packagesOf(k!).find((p) => p.family === 'kernel')!;
    fleet.removePackages(sys.id, [{ family: 'kernel', build: meta }]);
    expect(fleet.isRelevant(sys.id, k!.id)).toBe(true);
    expect(fleet.kernel(sys.id).bootDefault?.build).toBe(fleet.erratumBuild(k!));
  });
});

describe('added and removed packages', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: an erratum that adds a dependency installs it; removing it makes the erratum relevant again`, () => {
      const { fleet, testSystem, apply } = setup();
      const sys = testSystem(os);
      const e = fleet.findErratum({ os, adds: true, personality: 'none', relevantTo: sys.id })!;
      expect(e).toBeDefined();
      const { adds } = fleet.erratumEffectOnPackages(sys.id, e.id);
      expect(adds).toHaveLength(1);
      const dep = adds[0]!;
      expect(fleet.installedBuilds(sys.id, dep)).toEqual([]);
      apply(sys, e);
      expect(fleet.installedBuilds(sys.id, dep).map((b) => b.build)).toEqual([fleet.erratumBuild(e)]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
      fleet.removePackages(sys.id, [{ family: dep }]);
      expect(fleet.installedBuilds(sys.id, dep)).toEqual([]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
      fleet.installPackages(sys.id, [fleet.packageAt(os, dep, fleet.erratumBuild(e))!]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
    });

    it(`${os}: an erratum that removes a package removes it; the old version can be reinstalled`, () => {
      const { fleet, testSystem, apply } = setup();
      const sys = testSystem(os);
      const e = fleet.findErratum({ os, removes: true, personality: 'none', relevantTo: sys.id })!;
      const gone = fleet.erratumEffectOnPackages(sys.id, e.id).removes[0]!;
      const old = fleet.installedBuild(sys.id, gone);
      const info = fleet.familyInfo(os, gone);
      const obsoleter = fleet.installedBuild(sys.id, info.obsoletedBy!);
      apply(sys, e);
      expect(fleet.installedBuilds(sys.id, gone)).toEqual([]);
      expect(fleet.installedPackages(sys.id).some((p) => p.name === gone)).toBe(false);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
      // Reinstalled at its old version: the erratum stays applied (its obsoleting package is still new) ...
      fleet.installPackages(sys.id, [old]);
      expect(fleet.installedBuilds(sys.id, gone)).toEqual([old]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
      // ... until that one is downgraded too.
      fleet.installPackages(sys.id, [obsoleter]);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    });
  }

  it('every kind is relevant to each test system at the seed scale', () => {
    const { fleet } = setup();
    for (const os of ['ubuntu', 'rhel'] as const) {
      for (const q of [{ adds: true }, { removes: true }, { kernel: true }]) expect(fleet.findErratum({ os, relevantTo: 'test', ...q }), `${os} ${JSON.stringify(q)}`).toBeDefined();
    }
  });
});

describe('relevance follows the installed packages', () => {
  it('applying a newer build settles the older errata of that source, without their fault personalities', () => {
    const { fleet, testSystem } = setup();
    const sys = testSystem('rhel');
    // Two relevant errata of one source, the older one faulty.
    const faulty = fleet.catalog.byOs.rhel.find((e) => e.personality === 'cpu_spike' && fleet.isRelevant(sys.id, e.id))!;
    const newer = fleet.catalog.byOs.rhel.find((e) => e.source === faulty.source && e.id > faulty.id && fleet.isRelevant(sys.id, e.id) && e.personality === 'none')!;
    expect(newer).toBeDefined();
    fleet.installPackages(sys.id, fleet.packagesOf(newer));
    expect(fleet.isRelevant(sys.id, newer.id)).toBe(false);
    expect(fleet.isRelevant(sys.id, faulty.id)).toBe(false);
    expect(sys.effects).toEqual([]);
    // Below the faulty build both are relevant again; installing exactly the faulty build brings its fault.
    const before = fleet.packagesOf(faulty).map((p) => fleet.packageAt('rhel', p.family, p.build - 1)!);
    fleet.installPackages(sys.id, before);
    expect(fleet.isRelevant(sys.id, faulty.id)).toBe(true);
    expect(fleet.isRelevant(sys.id, newer.id)).toBe(true);
    fleet.installPackages(sys.id, fleet.packagesOf(faulty));
    expect(fleet.isRelevant(sys.id, faulty.id)).toBe(false);
    expect(sys.effects.map((x) => x.kind)).toEqual(['cpu_spike']);
    fleet.installPackages(sys.id, before);
    expect(sys.effects).toEqual([]);
  });

  it('scheduleApplyErrata refuses an erratum the packages already cover', () => {
    const { fleet, testSystem } = setup();
    const sys = testSystem('ubuntu');
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'none', kernel: false, relevantTo: sys.id })!;
    fleet.installPackages(sys.id, fleet.packagesOf(e));
    expect(() => fleet.scheduleApplyErrata([sys.id], [e.id])).toThrow(FleetError);
  });
});

describe('host faults', () => {
  it('install_fails: the next install fails with the tool\u2019s error and changes nothing; the one after works', () => {
    const { fleet, testSystem } = setup();
    for (const os of ['ubuntu', 'rhel'] as const) {
      const sys = testSystem(os);
      const e = fleet.findErratum({ os, personality: 'none', kernel: false, relevantTo: sys.id })!;
      const before = fleet.packageTruth(sys.id);
      fleet.addHostFault({ kind: 'install_fails', systemId: sys.id });
      const p = fleet.packagesOf(e)[0]!;
      expect(() => fleet.installPackages(sys.id, fleet.packagesOf(e))).toThrow(
        os === 'ubuntu' ? `E: Version '${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}' for '${p.name}' was not found` : `Error: Unable to find a match: ${p.name}-${p.version}-${p.release}`,
      );
      expect(fleet.packageTruth(sys.id)).toEqual(before);
      fleet.installPackages(sys.id, fleet.packagesOf(e));
      expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
    }
    expect(fleet.hostFaults.list().map((r) => r.fired)).toEqual([1, 1]);
  });

  it('install_fails fails a UYUNI package install action too', () => {
    const { fleet, testSystem, run } = setup();
    const sys = testSystem('rhel');
    const p = fleet.installedPackages(sys.id).find((x) => x.build > 0 && !fleet.familyInfo('rhel', x.family).multi) ?? fleet.installedPackages(sys.id)[0]!;
    fleet.addHostFault({ kind: 'install_fails', systemId: sys.id });
    const aid = fleet.schedulePackageInstall([sys.id], [p.id]);
    run(1000);
    expect(fleet.action(aid)!.systems.get(sys.id)).toMatchObject({ status: 'Failed', resultCode: 1, resultMsg: expect.stringContaining('Unable to find a match') });
  });

  it('downgrade_sticks: that one package stays at its new version, the others go down', () => {
    const { fleet, testSystem, apply } = setup();
    const sys = testSystem('rhel');
    const e = fleet.findErrata({ os: 'rhel', personality: 'none', kernel: false, relevantTo: sys.id }, 50).find((x) => x.packageIds.length >= 2)!;
    apply(sys, e);
    const [stuck, other] = fleet.packagesOf(e);
    fleet.addHostFault({ kind: 'downgrade_sticks', systemId: sys.id, package: stuck!.name });
    const previous = fleet.packagesOf(e).map((p) => fleet.packageAt('rhel', p.family, p.build - 1)!);
    // An upgrade of that package is not a downgrade: the fault waits.
    expect(fleet.installPackages(sys.id, [stuck!]).stuck).toEqual([]);
    expect(fleet.installPackages(sys.id, previous).stuck).toEqual([stuck!.name]);
    expect(fleet.installedBuild(sys.id, stuck!.family).id).toBe(stuck!.id);
    expect(fleet.installedBuild(sys.id, other!.family).id).toBe(previous[1]!.id);
    expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    // Fired once: the next downgrade works.
    fleet.installPackages(sys.id, previous);
    expect(fleet.installedBuild(sys.id, stuck!.family).id).toBe(previous[0]!.id);
  });

  it('service_stays_down: after the next rollback the unit is stopped and does not start until the faults are cleared', () => {
    const { fleet, testSystem, apply } = setup();
    const sys = testSystem('ubuntu');
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'none', kernel: false, relevantTo: sys.id })!;
    apply(sys, e);
    fleet.addHostFault({ kind: 'service_stays_down', systemId: sys.id, service: 'nginx' });
    // An upgrade is no rollback.
    fleet.installPackages(sys.id, fleet.packagesOf(fleet.findErratum({ os: 'ubuntu', personality: 'none', kernel: false, relevantTo: sys.id })!));
    expect(sys.services.nginx).toBe(true);
    fleet.installPackages(sys.id, fleet.packagesOf(e).map((p) => fleet.packageAt('ubuntu', p.family, p.build - 1)!));
    expect(sys.services.nginx).toBe(false);
    expect(fleet.setServiceState(sys.id, 'nginx', true)).toBe(false);
    expect(fleet.metrics(sys.id).services.nginx).toBe(false);
    expect(fleet.brokenUnits(sys.id)).toEqual(['nginx']);
    expect(fleet.clearHostFaults()).toBe(1);
    expect(fleet.setServiceState(sys.id, 'nginx', true)).toBe(true);
  });

  it('reboot_hangs: the next reboot never comes back until a power cycle; the one after is fine', () => {
    const { fleet, testSystem, reboot, run } = setup();
    const sys = testSystem('ubuntu');
    fleet.addHostFault({ kind: 'reboot_hangs', systemId: sys.id, times: 1 });
    expect(sys.hangOnReboot).toBe(true);
    const aid = fleet.scheduleReboot(sys.id);
    run(60_000);
    expect(fleet.action(aid)!.systems.get(sys.id)!.status).toBe('Picked Up');
    expect(sys).toMatchObject({ up: false, hung: true });
    fleet.recoverSystem(sys.id);
    expect(fleet.action(aid)!.systems.get(sys.id)!.status).toBe('Failed');
    expect(sys.up).toBe(true);
    expect(sys.hangOnReboot).toBe(false);
    reboot(sys);
    expect(sys.up).toBe(true);
  });

  it('validates the faults it arms', () => {
    const { fleet, testSystem } = setup();
    const sys = testSystem('rhel');
    expect(() => fleet.addHostFault({ kind: 'downgrade_sticks', systemId: sys.id })).toThrow(/package/);
    expect(() => fleet.addHostFault({ kind: 'service_stays_down', systemId: sys.id, service: 'nginx' })).toThrow(/service/);
    expect(() => fleet.addHostFault({ kind: 'reboot_hangs', systemId: 1 })).toThrow(/systemId/);
  });
});
