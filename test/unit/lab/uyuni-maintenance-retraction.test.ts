import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../../../lab/fleet/index.js';
import { HOUR_MS } from '../../../lab/fleet/maintenance.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { Rpc } from './helpers.js';

// issue 15 in the lab's UYUNI: retracted advisories (2602) and maintenance windows (maintenance.*, 1334).
let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let clock: ManualClock;

beforeAll(async () => {
  clock = manualClock(Date.UTC(2026, 11, 7, 14, 0, 0));
  lab = await startUyuniLab({ clock, fleet: { maintenance: 'mixed', prodSystemsPerOs: 6 } });
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
});
afterAll(async () => {
  await lab.close();
});

describe('retracted advisories', () => {
  it('a retraction shows in errata.getDetails, leaves the relevant lists, and scheduling it fails with 2602', async () => {
    const sid = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
    const e = lab.fleet.findErratum({ os: 'ubuntu', personality: 'none', relevantTo: sid, unscheduled: true })!;
    expect((await rpc.call<{ advisory_status: string }>('errata.getDetails', [sk, e.advisoryName])).advisory_status).not.toBe('retracted');
    const res = await fetch(`${lab.baseUrl}/lab/errata/${encodeURIComponent(e.advisoryName)}/retract`, { method: 'POST' });
    expect(await res.json()).toMatchObject({ advisoryName: e.advisoryName, advisoryStatus: 'retracted' });
    expect((await rpc.call<{ advisory_status: string }>('errata.getDetails', [sk, e.advisoryName])).advisory_status).toBe('retracted');
    const relevant = await rpc.call<{ id: number }[]>('system.getRelevantErrata', [sk, sid]);
    expect(relevant.map((x) => x.id)).not.toContain(e.id);
    const fault = await rpc.fault('system.scheduleApplyErrata', [sk, [sid], [e.id], new Date(clock()), true]);
    expect(fault.faultCode).toBe(2602);
    expect(fault.faultString).toContain(String(e.id));
    expect(lab.fleet.isScheduled(sid, e.id)).toBe(false);
  });
});

describe('maintenance windows', () => {
  it('the mixed seed: every third production system has none, nightly (02:00–04:00 UTC) or a window open now', async () => {
    expect(await rpc.call('maintenance.listScheduleNames', [sk])).toEqual(['business-now', 'nightly']);
    const prod = lab.fleet.group('prod-rhel9')!.systemIds;
    const nightly = await rpc.call<number[]>('maintenance.listSystemsWithSchedule', [sk, 'nightly']);
    const now = await rpc.call<number[]>('maintenance.listSystemsWithSchedule', [sk, 'business-now']);
    expect(nightly).toEqual(expect.arrayContaining([prod[1], prod[4]]));
    expect(now).toEqual(expect.arrayContaining([prod[2], prod[5]]));
    expect([...nightly, ...now]).not.toContain(prod[0]);
    const details = await rpc.call<{ name: string; type: string; calendar: string }>('maintenance.getScheduleDetails', [sk, 'nightly']);
    expect(details).toMatchObject({ name: 'nightly', type: 'single', calendar: 'nightly-calendar' });
    const cal = await rpc.call<{ label: string; ical: string }>('maintenance.getCalendarDetails', [sk, 'nightly-calendar']);
    expect(cal.ical).toContain('RRULE:FREQ=DAILY');
    expect(cal.ical).toMatch(/DTSTART:\d{8}T020000Z/);
    expect((await rpc.fault('maintenance.getScheduleDetails', [sk, 'nope'])).faultCode).toBe(-212);
  });

  it('an errata action outside the window is refused with 1334; inside it (or with no schedule) it is accepted', async () => {
    const prod = lab.fleet.group('prod-rhel9')!.systemIds;
    const pick = (sid: number) => lab.fleet.findErratum({ os: 'rhel', personality: 'none', relevantTo: sid, unscheduled: true })!;
    // 14:00 UTC: the nightly window is closed, business-now is open, prod[0] has no schedule
    const closed = await rpc.fault('system.scheduleApplyErrata', [sk, [prod[1]], [pick(prod[1]!).id], new Date(clock()), true]);
    expect(closed.faultCode).toBe(1334);
    expect(closed.faultString).toMatch(/Schedules 'nightly' are not matching date/);
    expect(await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [prod[2]], [pick(prod[2]!).id], new Date(clock()), true])).toHaveLength(1);
    expect(await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [prod[0]], [pick(prod[0]!).id], new Date(clock()), true])).toHaveLength(1);
    // an earliest inside the next night is accepted now
    const tonight = new Date(Date.UTC(2026, 11, 8, 2, 30, 0));
    expect(await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [prod[1]], [pick(prod[1]!).id], tonight, true])).toHaveLength(1);
    // one closed target refuses the whole call
    expect((await rpc.fault('system.scheduleApplyErrata', [sk, [prod[0], prod[4]], [pick(prod[4]!).id], new Date(clock()), true])).faultCode).toBe(1334);
    clock.advance(12 * HOUR_MS + 45 * 60_000); // 02:45 UTC
    sk = await rpc.login(); // the session expired meanwhile
    expect(await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [prod[4]], [pick(prod[4]!).id], new Date(clock()), true])).toHaveLength(1);
  });
});
