import { describe, expect, it } from 'vitest';
import { FleetError, generateFleet, manualClock, type Erratum, type Fleet, type LabSystem, type Os, type Personality } from '../../../lab/fleet/index.js';

function setup() {
  const clock = manualClock();
  const fleet = generateFleet({ clock, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  const testSystem = (os: Os): LabSystem => fleet.system(fleet.group(os === 'ubuntu' ? 'test-ubuntu-2404' : 'test-rhel9')!.systemIds[0]!)!;
  const run = (ms: number) => {
    clock.advance(ms);
    fleet.tick();
  };
  const erratum = (os: Os, personality: Personality): Erratum => fleet.findErratum({ os, personality, relevantTo: 'test', kernel: personality === 'reboot_hang' ? true : false })!;
  return { clock, fleet, testSystem, run, erratum };
}

function status(fleet: Fleet, actionId: number, sid: number) {
  return fleet.action(actionId)!.systems.get(sid)!.status;
}

describe('applying an erratum', () => {
  it('moves Queued → Picked Up → Completed with time and changes the system', () => {
    const { fleet, testSystem, run, erratum } = setup();
    const sys = testSystem('rhel');
    const e = erratum('rhel', 'none');
    const pkgs = fleet.packagesOf(e);
    const before = pkgs.map((p) => fleet.installedBuild(sys.id, p.family).build);
    expect(before.every((b, i) => b < pkgs[i]!.build)).toBe(true);
    const v0 = fleet.version;

    const [actionId] = fleet.scheduleApplyErrata([sys.id], [e.id]);
    expect(fleet.version).toBeGreaterThan(v0);
    expect(status(fleet, actionId!, sys.id)).toBe('Queued');
    expect(fleet.isScheduled(sys.id, e.id)).toBe(true);
    run(199);
    expect(status(fleet, actionId!, sys.id)).toBe('Queued');
    run(1);
    expect(status(fleet, actionId!, sys.id)).toBe('Picked Up');
    run(800);
    expect(status(fleet, actionId!, sys.id)).toBe('Completed');

    expect(pkgs.map((p) => fleet.installedBuild(sys.id, p.family).id)).toEqual(pkgs.map((p) => p.id));
    expect(fleet.isRelevant(sys.id, e.id)).toBe(false);
    expect(fleet.isScheduled(sys.id, e.id)).toBe(false);
    expect(fleet.applyCount(sys.id, e.id)).toBe(1);
    expect(fleet.action(actionId!)!.systems.get(sys.id)!.resultMsg).toContain(e.advisoryName);
  });

  it('refuses to schedule an erratum twice or one that is not relevant (onlyRelevant)', () => {
    const { fleet, testSystem, erratum } = setup();
    const sys = testSystem('ubuntu');
    const e = erratum('ubuntu', 'none');
    fleet.scheduleApplyErrata([sys.id], [e.id]);
    expect(() => fleet.scheduleApplyErrata([sys.id], [e.id])).toThrow(FleetError);
    const rhelErratum = erratum('rhel', 'none');
    expect(() => fleet.scheduleApplyErrata([sys.id], [rhelErratum.id])).toThrow(/Invalid errata/);
    // onlyRelevant=false skips instead of failing.
    expect(fleet.scheduleApplyErrata([sys.id], [e.id, rhelErratum.id], { onlyRelevant: false })).toEqual([]);
    expect(() => fleet.scheduleApplyErrata([], [e.id])).toThrow('No systems specified.');
    expect(() => fleet.scheduleApplyErrata([sys.id], [])).toThrow('No errata to apply.');
  });

  it('gives systems with the identical errata set one shared action', () => {
    const { fleet } = setup();
    const prod = fleet.systemsOf('rhel', 'prod');
    const e = fleet.catalog.byOs.rhel.find((x) => x.personality === 'none' && prod.filter((s) => s.relevant.has(x.id)).length >= 3)!;
    const targets = prod.filter((s) => s.relevant.has(e.id)).map((s) => s.id);
    const ids = fleet.scheduleApplyErrata(targets, [e.id]);
    expect(ids).toHaveLength(1);
    expect(fleet.action(ids[0]!)!.systems.size).toBe(targets.length);
  });

  it('sets reboot-needed for kernel errata, and a reboot changes boot time and clears it', () => {
    const { fleet, testSystem, run, clock } = setup();
    const sys = testSystem('ubuntu');
    const k = fleet.findErratum({ os: 'ubuntu', kernel: true, personality: 'none', relevantTo: sys.id })!;
    fleet.scheduleApplyErrata([sys.id], [k.id]);
    run(1000);
    expect(sys.rebootNeeded).toBe(true);
    const bootBefore = sys.bootTimeSec;
    const reboot = fleet.scheduleReboot(sys.id);
    run(200);
    expect(status(fleet, reboot, sys.id)).toBe('Picked Up');
    expect(sys.up).toBe(false);
    run(1000);
    expect(status(fleet, reboot, sys.id)).toBe('Completed');
    expect(sys.up).toBe(true);
    expect(sys.rebootNeeded).toBe(false);
    expect(sys.bootTimeSec).toBe(Math.floor(clock() / 1000));
    expect(sys.bootTimeSec).toBeGreaterThan(bootBefore);
  });

  it('rolls back by package install of the previous builds: erratum relevant again, service restored', () => {
    const { fleet, testSystem, run, erratum } = setup();
    const sys = testSystem('rhel');
    const e = erratum('rhel', 'stop_service');
    fleet.scheduleApplyErrata([sys.id], [e.id]);
    run(1000);
    expect(sys.services[e.stopsService!]).toBe(false);
    const previous = fleet.packagesOf(e).map((p) => fleet.packageAt(p.os, p.family, p.build - 1)!.id);
    const action = fleet.schedulePackageInstall([sys.id], previous);
    run(1000);
    expect(status(fleet, action, sys.id)).toBe('Completed');
    expect(fleet.packagesOf(e).map((p) => fleet.installedBuild(sys.id, p.family).build)).toEqual(fleet.packagesOf(e).map((p) => p.build - 1));
    expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
    expect(sys.services[e.stopsService!]).toBe(true);
  });

  it('installs by NEVRA and rejects unknown packages', () => {
    const { fleet, testSystem, run } = setup();
    const sys = testSystem('ubuntu');
    const pkg = fleet.installedPackages(sys.id).find((p) => p.build > 0)!;
    const older = fleet.packageAt('ubuntu', pkg.family, pkg.build - 1)!;
    fleet.schedulePackageInstallByNevra([sys.id], [{ name: older.name, epoch: older.epoch, version: older.version, release: older.release, arch: older.arch }]);
    run(1000);
    expect(fleet.installedBuild(sys.id, pkg.family).id).toBe(older.id);
    expect(() => fleet.schedulePackageInstallByNevra([sys.id], [{ name: 'nope', epoch: '', version: '1', release: '1', arch: 'x86_64' }])).toThrow(/Invalid package/);
  });
});

describe('fault personalities in the model', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: fail_apply fails with a message and changes nothing`, () => {
      const { fleet, testSystem, run, erratum } = setup();
      const sys = testSystem(os);
      const e = erratum(os, 'fail_apply');
      const before = fleet.installedPackages(sys.id).map((p) => p.id);
      const [id] = fleet.scheduleApplyErrata([sys.id], [e.id]);
      run(1000);
      const st = fleet.action(id!)!.systems.get(sys.id)!;
      expect(st.status).toBe('Failed');
      expect(st.resultMsg).toMatch(/Failed to apply patch/);
      expect(fleet.installedPackages(sys.id).map((p) => p.id)).toEqual(before);
      expect(fleet.isRelevant(sys.id, e.id)).toBe(true);
      expect(fleet.applyCount(sys.id, e.id)).toBe(0);
    });

    it(`${os}: stop_service stops the named service`, () => {
      const { fleet, testSystem, run, erratum } = setup();
      const sys = testSystem(os);
      const e = erratum(os, 'stop_service');
      expect(sys.criticalServices).toContain(e.stopsService);
      fleet.scheduleApplyErrata([sys.id], [e.id]);
      run(1000);
      expect(sys.services[e.stopsService!]).toBe(false);
      expect(Object.values(sys.services).filter((up) => !up)).toHaveLength(1);
    });

    it(`${os}: cpu_spike adds 40 % CPU`, () => {
      const { fleet, testSystem, run, erratum } = setup();
      const sys = testSystem(os);
      const before = fleet.metrics(sys.id).cpuPercent;
      fleet.scheduleApplyErrata([sys.id], [erratum(os, 'cpu_spike').id]);
      run(1000);
      expect(fleet.metrics(sys.id).cpuPercent).toBeCloseTo(Math.min(100, before + 40), 5);
    });

    it(`${os}: memory_leak makes memory climb over time`, () => {
      const { fleet, testSystem, run, erratum } = setup();
      const sys = testSystem(os);
      const base = fleet.metrics(sys.id).memoryPercent;
      fleet.scheduleApplyErrata([sys.id], [erratum(os, 'memory_leak').id]);
      run(1000);
      const m1 = fleet.metrics(sys.id).memoryPercent;
      run(5000);
      const m2 = fleet.metrics(sys.id).memoryPercent;
      expect(m1).toBeGreaterThan(base);
      expect(m2).toBeGreaterThan(m1);
    });

    it(`${os}: reboot_hang — the reboot after it never comes back`, () => {
      const { fleet, testSystem, run, erratum } = setup();
      const sys = testSystem(os);
      const e = erratum(os, 'reboot_hang');
      expect(e.kernel && e.rebootSuggested).toBe(true);
      fleet.scheduleApplyErrata([sys.id], [e.id]);
      run(1000);
      const reboot = fleet.scheduleReboot(sys.id);
      run(60_000);
      expect(status(fleet, reboot, sys.id)).toBe('Picked Up');
      expect(sys.up).toBe(false);
      expect(sys.hung).toBe(true);
      // Anything else queued for it waits.
      const next = fleet.findErratum({ os, personality: 'none', relevantTo: sys.id, unscheduled: true })!;
      const [queued] = fleet.scheduleApplyErrata([sys.id], [next.id]);
      run(60_000);
      expect(status(fleet, queued!, sys.id)).toBe('Queued');
      fleet.recoverSystem(sys.id);
      expect(status(fleet, reboot, sys.id)).toBe('Failed');
      run(1000);
      expect(status(fleet, queued!, sys.id)).toBe('Completed');
    });
  }
});
