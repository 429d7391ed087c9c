import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { Rpc } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let rhelTest: number;
let ubuntuTest: number;
const USER = 'com.redhat.rhn.domain.user.legacy.UserImpl';

beforeAll(async () => {
  lab = await startUyuniLab({ clock: manualClock() });
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  rhelTest = lab.fleet.group('test-rhel9')!.systemIds[0]!;
  ubuntuTest = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
});
afterAll(async () => {
  await lab.close();
});

describe('discovery', () => {
  it('lists groups with the group struct', async () => {
    const groups = await rpc.call<Array<Record<string, unknown>>>('systemgroup.listAllGroups', [sk]);
    expect(groups[0]).toEqual({ id: 11, name: 'test-ubuntu-2404', description: 'Ubuntu 24.04 test systems', system_count: 1, org_id: 1 });
  });

  it('lists a group as server details (no IP) and as system overviews', async () => {
    const details = await rpc.call<Array<Record<string, unknown>>>('systemgroup.listSystems', [sk, 'prod-rhel9']);
    expect(details).toHaveLength(10);
    expect(details[0]).toMatchObject({ profile_name: 'prod-rhel9-001.lab.example', minion_id: 'prod-rhel9-001.lab.example', base_entitlement: 'salt_entitled', release: '9.4' });
    expect(details[0]).not.toHaveProperty('ip');
    expect(details[0]!.last_boot).toBeInstanceOf(Date);
    const minimal = await rpc.call<Array<Record<string, unknown>>>('systemgroup.listSystemsMinimal', [sk, 'test-rhel9']);
    expect(minimal).toHaveLength(1);
    expect(Object.keys(minimal[0]!).sort()).toEqual(['created', 'extra_pkg_count', 'id', 'last_boot', 'last_checkin', 'name', 'outdated_pkg_count']);
    expect(minimal[0]!.outdated_pkg_count).toBeGreaterThan(10);
  });

  it('gives each system its loopback address through getNetwork', async () => {
    const net = await rpc.call<Record<string, string>>('system.getNetwork', [sk, rhelTest]);
    expect(net).toEqual({ ip: lab.fleet.system(rhelTest)!.ip, ip6: '', hostname: 'test-rhel9-01.lab.example' });
  });

  it('lists CVEs, packages and affected systems of an advisory', async () => {
    const e = lab.fleet.findErratum({ os: 'rhel', relevantTo: 'test', type: 'Security Advisory' })!;
    expect(await rpc.call('errata.listCves', [sk, e.advisoryName])).toEqual([...e.cves]);
    const affected = await rpc.call<Array<{ id: number }>>('errata.listAffectedSystems', [sk, e.advisoryName]);
    expect(affected.map((s) => s.id)).toEqual(lab.fleet.affectedSystems(e.id).map((s) => s.id));
    expect(affected.map((s) => s.id)).toContain(rhelTest);
    const bugfix = lab.fleet.findErratum({ os: 'rhel', type: 'Bug Fix Advisory' })!;
    expect(await rpc.call('errata.listCves', [sk, bugfix.advisoryName])).toEqual([]);
  });
});

describe('faults for unknown things', () => {
  it('unknown system → -208', async () => {
    const f = await rpc.fault('system.getRelevantErrata', [sk, 1000010999]);
    expect(f.faultCode).toBe(-208);
    expect(f.faultString).toBe('redstone.xmlrpc.XmlRpcFault: No such system - sid = 1000010999');
  });

  it('unknown advisory → -208', async () => {
    const f = await rpc.fault('errata.getDetails', [sk, 'NOPE-1']);
    expect(f.faultCode).toBe(-208);
    expect(f.faultString).toBe('redstone.xmlrpc.XmlRpcFault: The patch NOPE-1 cannot be found.');
  });

  it('unknown system when scheduling a reboot → -1 Could not find server', async () => {
    const f = await rpc.fault('system.scheduleReboot', [sk, 1000010999, new Date()]);
    expect(f.faultCode).toBe(-1);
    expect(f.faultString).toBe('redstone.xmlrpc.XmlRpcFault: unhandled internal exception: Could not find server 1000010999 for user admin');
  });

  it('unknown action → -1, unknown event → -216', async () => {
    expect((await rpc.fault('schedule.listCompletedSystems', [sk, 424242])).faultString).toContain('Could not find action with id: 424242');
    expect((await rpc.fault('system.getEventDetails', [sk, rhelTest, 424242])).faultCode).toBe(-216);
  });

  it('empty lists → 1213', async () => {
    expect(await rpc.fault('system.scheduleApplyErrata', [sk, [], [5001]])).toMatchObject({ faultCode: 1213, faultString: 'redstone.xmlrpc.XmlRpcFault: No systems specified.' });
    expect(await rpc.fault('system.scheduleApplyErrata', [sk, [rhelTest], []])).toMatchObject({ faultCode: 1213, faultString: 'redstone.xmlrpc.XmlRpcFault: No errata to apply.' });
  });
});

describe('overload resolution', () => {
  it('wrong argument count → Could not find method, listing the Java types', async () => {
    const f = await rpc.fault('system.getRelevantErrata', [sk]);
    expect(f.faultCode).toBe(-1);
    expect(f.faultString).toBe(`redstone.xmlrpc.XmlRpcFault: Could not find method: getRelevantErrata in class: com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: [${USER}]`);
    const g = await rpc.fault('system.getRelevantErrata', [sk, rhelTest, true]);
    expect(g.faultString).toBe(
      `redstone.xmlrpc.XmlRpcFault: Could not find method: getRelevantErrata in class: com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: [${USER}, java.lang.Integer, java.lang.Boolean]`,
    );
  });

  it('unknown method and wrong types → Could not find method', async () => {
    const f = await rpc.fault('errata.nope', [sk, 'x']);
    expect(f.faultString).toBe(`redstone.xmlrpc.XmlRpcFault: Could not find method: nope in class: com.redhat.rhn.frontend.xmlrpc.errata.ErrataHandler with params: [${USER}, java.lang.String]`);
    const g = await rpc.fault('system.getNetwork', [sk, { a: 1 }]);
    expect(g.faultString).toContain('with params: [' + USER + ', redstone.xmlrpc.XmlRpcStruct]');
  });

  it('converts a numeric string for an int parameter like UYUNI does', async () => {
    const net = await rpc.call<Record<string, string>>('system.getNetwork', [sk, String(rhelTest)]);
    expect(net.hostname).toBe('test-rhel9-01.lab.example');
  });

  it('resolves all ten scheduleApplyErrata overloads, each returning an array of action ids', async () => {
    const pick = lab.fleet.findErrata({ os: 'ubuntu', personality: 'none', relevantTo: ubuntuTest }, 10).map((e) => e.id);
    const when = new Date(Date.UTC(2025, 6, 1, 9, 0, 0));
    const variants: unknown[][] = [
      [[ubuntuTest], [pick[0]]],
      [[ubuntuTest], [pick[1]], false],
      [[ubuntuTest], [pick[2]], when],
      [[ubuntuTest], [pick[3]], when, false],
      [[ubuntuTest], [pick[4]], when, false, true],
      [[ubuntuTest], [pick[5]], when, false, true, false],
      [ubuntuTest, [pick[6]]],
      [ubuntuTest, [pick[7]], true],
      [ubuntuTest, [pick[8]], when],
      [ubuntuTest, [pick[9]], when, false],
    ];
    for (const args of variants) {
      const ids = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, ...args]);
      expect(ids, JSON.stringify(args)).toHaveLength(1);
      expect(typeof ids[0]).toBe('number');
    }
    const three = await rpc.fault('system.scheduleApplyErrata', [sk, ubuntuTest, [pick[0]], when, false, true]);
    expect(three.faultString).toContain('Could not find method: scheduleApplyErrata');
  });

  it('schedulePackageInstall returns an int for one system and an array for a list', async () => {
    const pkg = lab.fleet.installedPackages(rhelTest).find((p) => p.build > 0)!;
    const older = lab.fleet.packageAt('rhel', pkg.family, pkg.build - 1)!;
    const one = await rpc.call('system.schedulePackageInstall', [sk, rhelTest, [older.id], new Date()]);
    expect(typeof one).toBe('number');
    const many = await rpc.call('system.schedulePackageInstall', [sk, [rhelTest], [older.id], new Date(), false]);
    expect(Array.isArray(many)).toBe(true);
    expect((await rpc.fault('system.schedulePackageInstall', [sk, rhelTest, [1], new Date()])).faultCode).toBe(2300);
    const byNevra = await rpc.call('system.schedulePackageInstallByNevra', [
      sk,
      rhelTest,
      [{ package_name: older.name, package_epoch: older.epoch, package_version: older.version, package_release: older.release, package_arch: older.arch }],
      new Date(),
    ]);
    expect(typeof byNevra).toBe('number');
    const found = await rpc.call<Array<{ id: number }>>('packages.findByNvrea', [sk, older.name, older.version, older.release, older.epoch, older.arch]);
    expect(found.map((p) => p.id)).toEqual([older.id]);
  });
});
