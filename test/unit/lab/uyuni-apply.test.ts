import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock, type Os, type Personality } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { labJson, Rpc } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let clock: ManualClock;
const testSid: Record<Os, number> = { ubuntu: 0, rhel: 0 };

beforeAll(async () => {
  clock = manualClock();
  lab = await startUyuniLab({ clock, actionPickupMs: 200, actionCompleteMs: 800, rebootMs: 1000 });
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  testSid.ubuntu = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
  testSid.rhel = lab.fleet.group('test-rhel9')!.systemIds[0]!;
});
afterAll(async () => {
  await lab.close();
});

interface ErratumView {
  id: number;
  advisoryName: string;
  stopsService?: string;
  packages: Array<{ id: number; name: string; version: string; release: string }>;
}
interface SystemView {
  up: boolean;
  hung: boolean;
  rebootNeeded: boolean;
  services: Record<string, boolean>;
  cpuPercent: number;
  memoryPercent: number;
  bootTimeSec: number;
}

async function find(os: Os, personality: Personality, extra = ''): Promise<ErratumView> {
  const res = await labJson<{ errata: ErratumView[] }>(lab.baseUrl, 'GET', `/lab/errata/find?os=${os}&personality=${personality}&relevantTo=test&unscheduled=true${extra}`);
  expect(res.status).toBe(200);
  return res.json.errata[0]!;
}
const systemState = async (sid: number) => (await labJson<SystemView>(lab.baseUrl, 'GET', `/lab/systems/${sid}`)).json;
const eventStatus = async (sid: number, aid: number) => (await rpc.call<{ status: string }>('system.getEventDetails', [sk, sid, aid])).status;

async function applyAndFinish(sid: number, erratumId: number): Promise<number> {
  const [aid] = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [sid], [erratumId], new Date(clock()), true, true]);
  clock.advance(1000);
  return aid!;
}

describe('scheduleApplyErrata end to end', () => {
  it('progresses to Completed, changes packages, drops the erratum, counts one apply, refuses a re-schedule', async () => {
    const sid = testSid.rhel;
    const e = await find('rhel', 'none', '&kernel=false');
    const before = await rpc.call<Array<{ name: string; release: string }>>('system.listInstalledPackages', [sk, sid]);
    const relevantBefore = await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid]);
    expect(relevantBefore.map((x) => x.id)).toContain(e.id);

    const [aid] = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [sid], [e.id], true]);
    expect(await eventStatus(sid, aid!)).toBe('Queued');
    expect((await rpc.call<Array<{ server_id: number }>>('schedule.listInProgressSystems', [sk, aid])).map((s) => s.server_id)).toEqual([sid]);
    expect((await rpc.fault('system.scheduleApplyErrata', [sk, sid, [e.id], true])).faultCode).toBe(2600);

    clock.advance(200);
    expect(await eventStatus(sid, aid!)).toBe('Picked Up');
    clock.advance(800);
    const details = await rpc.call<Record<string, unknown>>('system.getEventDetails', [sk, sid, aid]);
    expect(details).toMatchObject({ id: aid, history_type: 'Patch Update', status: 'Completed', result_code: 0 });
    expect(details.completed).toBeInstanceOf(Date);
    expect(details.picked_up).toBeInstanceOf(Date);
    const done = await rpc.call<Array<Record<string, unknown>>>('schedule.listCompletedSystems', [sk, aid]);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ server_id: sid, server_name: 'test-rhel9-01.lab.example', base_channel: 'rhel9-baseos-x86_64' });
    expect(await rpc.call('schedule.listFailedSystems', [sk, aid])).toEqual([]);

    const after = await rpc.call<Array<{ name: string; release: string }>>('system.listInstalledPackages', [sk, sid]);
    for (const p of e.packages) {
      expect(after.find((x) => x.name === p.name)?.release).toBe(p.release);
      expect(before.find((x) => x.name === p.name)?.release).not.toBe(p.release);
    }
    const relevantAfter = await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid]);
    expect(relevantAfter.map((x) => x.id)).not.toContain(e.id);
    expect(relevantAfter).toHaveLength(relevantBefore.length - 1);

    const applies = await labJson<{ applies: Array<{ systemId: number; erratumId: number; applied: number }> }>(lab.baseUrl, 'GET', '/lab/applies');
    expect(applies.json.applies.find((a) => a.systemId === sid && a.erratumId === e.id)?.applied).toBe(1);
    const again = await rpc.fault('system.scheduleApplyErrata', [sk, [sid], [e.id], true]);
    expect(again).toMatchObject({ faultCode: 2600, faultString: 'redstone.xmlrpc.XmlRpcFault: Invalid errata' });

    const events = await rpc.call<Array<Record<string, unknown>>>('system.listSystemEvents', [sk, sid, 'Patch Update']);
    const ev = events.find((x) => x.id === aid)!;
    expect(ev).toMatchObject({ action_type: 'Patch Update', successful_count: 1, failed_count: 0, scheduler_user: 'admin' });
    expect(ev.earliest_action).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+$/);
    expect(ev.completed_date).toBeInstanceOf(Date);
  });

  it('groups production systems with the identical errata set into one action', async () => {
    const e = lab.fleet.catalog.byOs.ubuntu.find((x) => x.personality === 'none' && lab.fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length >= 3)!;
    const sids = lab.fleet.affectedSystems(e.id).filter((s) => s.stage === 'prod').map((s) => s.id);
    const ids = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, sids, [e.id], true]);
    expect(ids).toHaveLength(1);
    clock.advance(1000);
    expect(await rpc.call<unknown[]>('schedule.listCompletedSystems', [sk, ids[0]])).toHaveLength(sids.length);
  });

  it('reboots: boot time changes and reboot-needed clears once the system is back', async () => {
    const sid = testSid.ubuntu;
    const k = await find('ubuntu', 'none', '&kernel=true');
    await applyAndFinish(sid, k.id);
    expect((await systemState(sid)).rebootNeeded).toBe(true);
    const suggested = await rpc.call<Array<{ id: number }>>('system.listSuggestedReboot', [sk]);
    expect(suggested.map((s) => s.id)).toContain(sid);
    const bootBefore = (await rpc.call<Array<{ last_boot: Date }>>('systemgroup.listSystemsMinimal', [sk, 'test-ubuntu-2404']))[0]!.last_boot;
    const aid = await rpc.call<number>('system.scheduleReboot', [sk, sid, new Date(clock())]);
    expect(typeof aid).toBe('number');
    clock.advance(200);
    expect((await systemState(sid)).up).toBe(false);
    clock.advance(1000);
    expect(await eventStatus(sid, aid)).toBe('Completed');
    const state = await systemState(sid);
    expect(state).toMatchObject({ up: true, rebootNeeded: false, bootTimeSec: Math.floor(clock() / 1000) });
    const bootAfter = (await rpc.call<Array<{ last_boot: Date }>>('systemgroup.listSystemsMinimal', [sk, 'test-ubuntu-2404']))[0]!.last_boot;
    expect(bootAfter.getTime()).toBeGreaterThan(bootBefore.getTime());
    expect(bootAfter.getTime()).toBe(Math.floor(clock() / 1000) * 1000);
  });

  it('rolls back by installing the previous package ids: the erratum is relevant again', async () => {
    const sid = testSid.ubuntu;
    const e = await find('ubuntu', 'none', '&kernel=false');
    await applyAndFinish(sid, e.id);
    const previous = e.packages.map((p) => {
      const build = lab.fleet.package(p.id)!;
      return lab.fleet.packageAt('ubuntu', build.family, build.build - 1)!.id;
    });
    const aid = await rpc.call<number>('system.schedulePackageInstall', [sk, sid, previous, new Date(clock()), true]);
    clock.advance(1000);
    expect(await eventStatus(sid, aid)).toBe('Completed');
    const relevant = await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid]);
    expect(relevant.map((x) => x.id)).toContain(e.id);
  });
});

describe('fault personalities over XML-RPC', () => {
  for (const os of ['ubuntu', 'rhel'] as const) {
    it(`${os}: fail_apply ends Failed with a message and changes nothing`, async () => {
      const sid = testSid[os];
      const e = await find(os, 'fail_apply');
      const aid = await applyAndFinish(sid, e.id);
      const failed = await rpc.call<Array<{ server_id: number; message: string }>>('schedule.listFailedSystems', [sk, aid]);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.message).toContain(`Failed to apply patch ${e.advisoryName}`);
      expect((await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid])).map((x) => x.id)).toContain(e.id);
    });

    it(`${os}: stop_service stops its critical service`, async () => {
      const sid = testSid[os];
      const e = await find(os, 'stop_service');
      await applyAndFinish(sid, e.id);
      expect((await systemState(sid)).services[e.stopsService!]).toBe(false);
    });

    it(`${os}: cpu_spike raises CPU by 40 points`, async () => {
      const sid = testSid[os];
      const before = (await systemState(sid)).cpuPercent;
      await applyAndFinish(sid, (await find(os, 'cpu_spike')).id);
      expect((await systemState(sid)).cpuPercent).toBeCloseTo(Math.min(100, before + 40), 5);
    });

    it(`${os}: memory_leak makes memory climb`, async () => {
      const sid = testSid[os];
      const before = (await systemState(sid)).memoryPercent;
      await applyAndFinish(sid, (await find(os, 'memory_leak')).id);
      const m1 = (await systemState(sid)).memoryPercent;
      clock.advance(10_000);
      const m2 = (await systemState(sid)).memoryPercent;
      expect(m1).toBeGreaterThan(before);
      expect(m2).toBeGreaterThan(m1);
    });
  }

  it('reboot_hang: the reboot stays Picked Up and the system is down until recovered', async () => {
    const sid = testSid.rhel;
    const e = await find('rhel', 'reboot_hang');
    await applyAndFinish(sid, e.id);
    const aid = await rpc.call<number>('system.scheduleReboot', [sk, sid, new Date(clock())]);
    clock.advance(3_600_000);
    sk = await rpc.login(); // an hour idle: the sliding session expired meanwhile
    expect(await eventStatus(sid, aid)).toBe('Picked Up');
    expect((await rpc.call<unknown[]>('schedule.listInProgressSystems', [sk, aid])).length).toBe(1);
    expect(await systemState(sid)).toMatchObject({ up: false, hung: true });
    const recovered = await labJson<SystemView>(lab.baseUrl, 'POST', `/lab/systems/${sid}/recover`);
    expect(recovered.json.up).toBe(true);
    expect(await eventStatus(sid, aid)).toBe('Failed');
  });
});
