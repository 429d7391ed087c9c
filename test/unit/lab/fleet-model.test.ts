import { describe, expect, it } from 'vitest';
import { generateFleet, FIRST_SYSTEM_ID, OSES, PERSONALITIES, type Fleet } from '../../../lab/fleet/index.js';

const fleet: Fleet = generateFleet();

describe('fleet generation', () => {
  it('is byte-identical for the same seed and different for another', () => {
    const a = JSON.stringify(generateFleet({ seed: 7 }).describe());
    const b = JSON.stringify(generateFleet({ seed: 7 }).describe());
    const c = JSON.stringify(generateFleet({ seed: 8 }).describe());
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(JSON.stringify(fleet.describe())).toBe(JSON.stringify(generateFleet().describe()));
  });

  it('reproduces the seed benchmark: 2 test systems with exactly 634 distinct relevant errata', () => {
    const tests = fleet.systems.filter((s) => s.stage === 'test');
    expect(tests).toHaveLength(2);
    const distinct = new Set(tests.flatMap((s) => fleet.relevantErrata(s.id).map((e) => e.id)));
    expect(distinct.size).toBe(634);
    expect(fleet.truth().distinctRelevantTest).toBe(634);
  });

  it('lays out the four groups with ten production systems each', () => {
    expect(fleet.groups.map((g) => g.name)).toEqual(['test-ubuntu-2404', 'test-rhel9', 'prod-ubuntu-2404', 'prod-rhel9']);
    expect(fleet.groups.map((g) => g.systemIds.length)).toEqual([1, 1, 10, 10]);
    expect(fleet.groups.every((g) => g.orgId === 1)).toBe(true);
    expect(fleet.systems[0]?.id).toBe(FIRST_SYSTEM_ID);
    expect(fleet.systems.map((s) => s.name)).toContain('test-ubuntu-01.lab.example');
    expect(fleet.systems.map((s) => s.name)).toContain('prod-rhel9-007.lab.example');
  });

  it('gives every system a unique loopback address other than 127.0.0.1', () => {
    const big = generateFleet({ testSystemsPerOs: 2, prodSystemsPerOs: 400, errataPerOs: 60, relevantPerSystem: 20 });
    const ips = big.systems.map((s) => s.ip);
    expect(new Set(ips).size).toBe(ips.length);
    expect(ips).not.toContain('127.0.0.1');
    expect(ips.every((ip) => /^127\.0\.\d{1,3}\.\d{1,3}$/.test(ip))).toBe(true);
  });

  it('describes each system with os, release, services, btrfs and baselines', () => {
    for (const s of fleet.systems) {
      expect(s.osRelease).toBe(s.os === 'ubuntu' ? '24.04' : '9.4');
      expect(Object.keys(s.services)).toEqual(s.os === 'ubuntu' ? ['ssh', 'cron', 'nginx'] : ['sshd', 'crond', 'httpd']);
      expect(s.minionId).toBe(s.name);
      expect(s.cpuBaseline).toBeGreaterThan(0);
      expect(s.memoryBaseline).toBeGreaterThan(0);
      expect(fleet.installedPackages(s.id).length).toBeGreaterThan(50);
    }
    const tests = generateFleet({ testSystemsPerOs: 4, prodSystemsPerOs: 0, errataPerOs: 40, relevantPerSystem: 30 }).systems;
    expect(tests.filter((s) => s.btrfs)).toHaveLength(4);
    expect(tests.filter((s) => s.btrfs && s.os === 'rhel')).toHaveLength(2);
  });
});

describe('errata metadata', () => {
  const ubuntu = fleet.catalog.byOs.ubuntu;
  const rhel = fleet.catalog.byOs.rhel;

  it('names and classifies Ubuntu notices like USNs', () => {
    for (const e of ubuntu) {
      expect(e.advisoryName).toMatch(/^USN-\d{4}-\d$/);
      expect(e.type).toBe('Security Advisory');
      expect(e.status).toBe('stable');
      expect(e.severity).toBeUndefined();
      expect(e.cves.length).toBeGreaterThanOrEqual(1);
      expect(e.cves.length).toBeLessThanOrEqual(5);
      for (const p of fleet.packagesOf(e)) {
        expect(['amd64-deb', 'all-deb']).toContain(p.arch);
        expect(p.release).toMatch(/ubuntu|build|\d+\.\d+|^1/);
      }
    }
    expect(new Set(ubuntu.map((e) => e.advisoryName)).size).toBe(ubuntu.length);
  });

  it('names and classifies RHEL errata as RHSA/RHBA/RHEA with severities only on security ones', () => {
    for (const e of rhel) {
      expect(e.advisoryName).toMatch(/^RH[SBE]A-20\d\d:\d{4,5}$/);
      expect(e.status).toBe('final');
      if (e.advisoryName.startsWith('RHSA')) {
        expect(e.type).toBe('Security Advisory');
        expect(['Critical', 'Important', 'Moderate', 'Low']).toContain(e.severity);
        expect(e.synopsis).toBe(`${e.severity}: ${e.source} security update`);
        expect(e.cves.length).toBeGreaterThanOrEqual(1);
      } else {
        expect(e.type).toBe(e.advisoryName.startsWith('RHBA') ? 'Bug Fix Advisory' : 'Product Enhancement Advisory');
        expect(e.severity).toBeUndefined();
        expect(e.cves).toHaveLength(0);
      }
      for (const p of fleet.packagesOf(e)) {
        expect(['x86_64', 'noarch']).toContain(p.arch);
        expect(p.release).toMatch(/\.el9/);
      }
    }
    expect(rhel.some((e) => e.type === 'Bug Fix Advisory')).toBe(true);
    expect(rhel.some((e) => e.type === 'Product Enhancement Advisory')).toBe(true);
  });

  it('uses CVE-YYYY-NNNNN ids, ISO dates and realistic kernel and config-bearing packages', () => {
    for (const e of fleet.catalog.errata) {
      for (const c of e.cves) expect(c).toMatch(/^CVE-20\d\d-\d{5}$/);
      expect(e.issueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.updateDate >= e.issueDate).toBe(true);
    }
    const ubuntuKernel = fleet.findErratum({ os: 'ubuntu', kernel: true });
    const rhelKernel = fleet.findErratum({ os: 'rhel', kernel: true });
    expect(ubuntuKernel?.rebootSuggested).toBe(true);
    expect(fleet.packagesOf(ubuntuKernel!).some((p) => p.name.startsWith('linux-image-'))).toBe(true);
    expect(fleet.packagesOf(rhelKernel!).map((p) => p.name)).toEqual(expect.arrayContaining(['kernel', 'kernel-core']));
    const withConfig = fleet.catalog.errata.filter((e) => e.configFiles.length > 0);
    expect(withConfig.length).toBeGreaterThan(fleet.catalog.errata.length / 4);
    expect(fleet.catalog.errata.some((e) => fleet.packagesOf(e).some((p) => p.name === 'openssh-server'))).toBe(true);
    const sizes = fleet.catalog.errata.map((e) => e.packageIds.length);
    expect(Math.min(...sizes)).toBe(1);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(5);
  });

  it('keeps a downgrade target (the previous build) for every updated package, except a newly added one', () => {
    let added = 0;
    for (const e of fleet.catalog.errata.slice(0, 100)) {
      for (const p of fleet.packagesOf(e)) {
        expect(fleet.packageAt(p.os, p.family, p.build)).toBe(p);
        if (fleet.familyInfo(p.os, p.family).sinceBuild === p.build) {
          expect(fleet.packageAt(p.os, p.family, p.build - 1)).toBeUndefined();
          added++;
        } else expect(fleet.packageAt(p.os, p.family, p.build - 1)).toBeDefined();
      }
    }
    expect(added).toBeGreaterThan(0);
  });
});

describe('fault personalities', () => {
  it('exist on both OSes and are relevant to the test systems', () => {
    for (const os of OSES) {
      for (const personality of PERSONALITIES) {
        const e = fleet.findErratum({ os, personality, relevantTo: 'test' });
        expect(e, `${os} ${personality}`).toBeDefined();
        expect(e?.os).toBe(os);
      }
      const kernelHang = fleet.findErratum({ os, personality: 'reboot_hang' });
      expect(kernelHang?.kernel).toBe(true);
    }
  });

  it('stop_service errata name the critical service, one for each', () => {
    expect(fleet.findErratum({ os: 'rhel', personality: 'stop_service', service: 'httpd', relevantTo: 'test' })?.source).toBe('httpd');
    expect(fleet.findErratum({ os: 'ubuntu', personality: 'stop_service', service: 'nginx', relevantTo: 'test' })?.source).toBe('nginx');
    for (const os of OSES) {
      for (const svc of os === 'ubuntu' ? ['ssh', 'cron', 'nginx'] : ['sshd', 'crond', 'httpd']) {
        expect(fleet.findErratum({ os, personality: 'stop_service', service: svc, relevantTo: 'test' }), svc).toBeDefined();
      }
    }
  });

  it('production shares many errata with the test systems', () => {
    const prod = fleet.systems.filter((s) => s.stage === 'prod' && s.os === 'rhel');
    const test = new Set(fleet.relevantErrata(fleet.group('test-rhel9')!.systemIds[0]!).map((e) => e.id));
    for (const s of prod) {
      const shared = fleet.relevantErrata(s.id).filter((e) => test.has(e.id)).length;
      expect(shared).toBeGreaterThan(200);
    }
    expect(fleet.findErratum({ os: 'rhel', personality: 'stop_service', relevantTo: 'prod' })).toBeDefined();
  });
});

describe('scale', () => {
  it('generates 2,000 systems × 3,000 errata quickly (timing printed, not asserted)', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const big = generateFleet({ testSystemsPerOs: 10, prodSystemsPerOs: 990, errataPerOs: 1500, relevantPerSystem: 300 });
    const ms = performance.now() - t0;
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`[lab] generated ${big.systems.length} systems × ${big.catalog.errata.length} errata in ${ms.toFixed(0)} ms (heap +${heapMb.toFixed(0)} MB)`);
    expect(big.systems).toHaveLength(2000);
    expect(big.catalog.errata).toHaveLength(3000);
    expect(big.relevantErrata(big.systems[1500]!.id)).toHaveLength(300);
    for (const os of OSES) for (const p of PERSONALITIES) expect(big.findErratum({ os, personality: p, relevantTo: 'test' })).toBeDefined();
  });

  it('rejects fleets beyond 10,100 systems (the max scale of 10,000 production systems and its test systems) or 5,000 errata', () => {
    expect(() => generateFleet({ prodSystemsPerOs: 5100 })).toThrow(RangeError);
    expect(() => generateFleet({ errataPerOs: 2501 })).toThrow(RangeError);
  });
});
