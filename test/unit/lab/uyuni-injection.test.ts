import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse } from '../../../lab/uyuni/codec.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { labJson, Rpc } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let sid: number;

beforeAll(async () => {
  lab = await startUyuniLab();
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  sid = lab.fleet.group('test-rhel9')!.systemIds[0]!;
});
beforeEach(() => {
  lab.faults.clear();
  lab.faults.resetLatency();
});
afterAll(async () => {
  await lab.close();
});

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

describe('latency', () => {
  it('adds the global latency to every call and per-method latency on top', async () => {
    lab.faults.setLatency({ globalMs: 25 });
    const [, ms] = await timed(() => rpc.call('system.getNetwork', [sk, sid]));
    expect(ms).toBeGreaterThanOrEqual(24);
    // A delay far above what a call costs on a loaded machine (one call alone has taken 60 ms at load 13).
    lab.faults.setLatency({ globalMs: 0, perMethod: { 'system.getNetwork': 500 } });
    const [, slow] = await timed(() => rpc.call('system.getNetwork', [sk, sid]));
    // the other method is not delayed: the quickest of three calls
    const fast = Math.min(...(await Promise.all([0, 1, 2].map(async () => (await timed(() => rpc.call('system.getDetails', [sk, sid])))[1]))));
    expect(slow).toBeGreaterThanOrEqual(499);
    expect(fast).toBeLessThan(499);
  });

  it('is adjustable over /lab/latency', async () => {
    const res = await labJson<{ globalMs: number }>(lab.baseUrl, 'PUT', '/lab/latency', { globalMs: 30 });
    expect(res.json.globalMs).toBe(30);
    const [, ms] = await timed(() => rpc.call('system.getNetwork', [sk, sid]));
    expect(ms).toBeGreaterThanOrEqual(29);
  });
});

describe('injected faults', () => {
  it('slow: one call takes extraMs longer, the next does not', async () => {
    lab.faults.inject({ method: 'system.getNetwork', kind: 'slow', extraMs: 150 });
    const [, first] = await timed(() => rpc.call('system.getNetwork', [sk, sid]));
    const [, second] = await timed(() => rpc.call('system.getNetwork', [sk, sid]));
    expect(first).toBeGreaterThanOrEqual(149);
    expect(second).toBeLessThan(149);
  });

  it('http500: answers HTTP 500 for N calls, then recovers', async () => {
    lab.faults.inject({ method: 'system.getRelevantErrata', kind: 'http500', times: 2 });
    expect((await rpc.raw('system.getRelevantErrata', [sk, sid])).status).toBe(500);
    expect((await rpc.raw('system.getRelevantErrata', [sk, sid])).status).toBe(500);
    expect((await rpc.raw('system.getRelevantErrata', [sk, sid])).status).toBe(200);
  });

  it('sessionExpiry: a valid key gets the session fault and stays dead; a new login works', async () => {
    const key = await rpc.login();
    lab.faults.inject({ method: 'systemgroup.listAllGroups', kind: 'sessionExpiry' });
    const f = await rpc.fault('systemgroup.listAllGroups', [key]);
    expect(f.faultString).toBe(`com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: ${key.split('x')[0]}`);
    expect((await rpc.fault('systemgroup.listAllGroups', [key])).faultCode).toBe(-1);
    const fresh = await rpc.login();
    expect(await rpc.call<unknown[]>('systemgroup.listAllGroups', [fresh])).toHaveLength(4);
  });

  it('sessionExpiry does not fire on auth.login (nothing to expire)', async () => {
    lab.faults.inject({ kind: 'sessionExpiry' });
    const key = await rpc.login();
    expect((await rpc.fault('system.getNetwork', [key, sid])).faultString).toContain('Could not find session');
  });

  it('malformed: HTTP 200 with a body that does not parse', async () => {
    lab.faults.inject({ method: 'system.getNetwork', kind: 'malformed' });
    const res = await rpc.raw('system.getNetwork', [sk, sid]);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/xml/);
    await expect(decodeResponse(res.body)).rejects.toThrow();
    expect((await rpc.raw('system.getNetwork', [sk, sid])).status).toBe(200);
  });

  it('hang: never answers until the client gives up, and the lab still closes promptly', async () => {
    const own = await startUyuniLab();
    const ownRpc = new Rpc(own.url);
    const key = await ownRpc.login();
    own.faults.inject({ method: 'system.getNetwork', kind: 'hang', times: 'always' });
    await expect(ownRpc.raw('system.getNetwork', [key, sid], AbortSignal.timeout(200))).rejects.toThrow();
    const pending = ownRpc.raw('system.getNetwork', [key, sid]).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const [, closeMs] = await timed(() => own.close());
    expect(closeMs).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it("times: 'always' keeps firing until cleared", async () => {
    lab.faults.inject({ method: 'system.getDetails', kind: 'http500', times: 'always' });
    for (let i = 0; i < 3; i++) expect((await rpc.raw('system.getDetails', [sk, sid])).status).toBe(500);
    lab.faults.clear();
    expect((await rpc.raw('system.getDetails', [sk, sid])).status).toBe(200);
  });

  it('never runs the handler behind an injected fault (no side effects)', async () => {
    const e = lab.fleet.findErratum({ os: 'rhel', personality: 'none', relevantTo: sid, unscheduled: true })!;
    lab.faults.inject({ method: 'system.scheduleApplyErrata', kind: 'http500' });
    expect((await rpc.raw('system.scheduleApplyErrata', [sk, sid, [e.id]])).status).toBe(500);
    expect(lab.fleet.isScheduled(sid, e.id)).toBe(false);
  });
});

describe('control API over HTTP', () => {
  it('injects, lists and clears faults', async () => {
    const created = await labJson<{ id: number; kind: string; method: string }>(lab.baseUrl, 'POST', '/lab/faults', { method: 'system.getNetwork', kind: 'http500', times: 1 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'http500', method: 'system.getNetwork' });
    expect((await labJson<{ rules: unknown[] }>(lab.baseUrl, 'GET', '/lab/faults')).json.rules).toHaveLength(1);
    expect((await rpc.raw('system.getNetwork', [sk, sid])).status).toBe(500);
    await labJson(lab.baseUrl, 'POST', '/lab/faults', { kind: 'malformed', times: 'always' });
    expect((await labJson<{ cleared: number }>(lab.baseUrl, 'DELETE', '/lab/faults')).json.cleared).toBe(1);
    expect((await labJson(lab.baseUrl, 'POST', '/lab/faults', { kind: 'explode' })).status).toBe(400);
  });

  it('counts calls per method and logins', async () => {
    await labJson(lab.baseUrl, 'DELETE', '/lab/stats');
    const key = await rpc.login();
    const adv = lab.fleet.findErratum({ os: 'rhel', type: 'Security Advisory' })!.advisoryName;
    await rpc.call('errata.listCves', [key, adv]);
    await rpc.call('errata.listCves', [key, adv]);
    const stats = await labJson<{ totalCalls: number; calls: Record<string, number>; logins: number }>(lab.baseUrl, 'GET', '/lab/stats');
    expect(stats.json.calls).toEqual({ 'auth.login': 1, 'errata.listCves': 2 });
    expect(stats.json.totalCalls).toBe(3);
    expect(stats.json.logins).toBeGreaterThan(0);
    expect(lab.stats.count('errata.listCves')).toBe(2);
    const detail = await labJson<{ calls: number; byArgument: Record<string, number> }>(lab.baseUrl, 'GET', '/lab/stats/errata.listCves');
    expect(detail.json).toEqual({ method: 'errata.listCves', calls: 2, byArgument: { [adv]: 2 } });
    const login = await labJson<{ byArgument: Record<string, number> }>(lab.baseUrl, 'GET', '/lab/stats/auth.login');
    expect(login.json.byArgument).toEqual({});
  });

  it('serves ground truth for the test groups', async () => {
    const truth = await labJson<{
      distinctRelevantTest: number;
      groups: Record<string, { relevantAdvisories: string[]; os: string }>;
      advisories: Record<string, { cves: string[]; severity?: string; os: string; type: string }>;
    }>(lab.baseUrl, 'GET', '/lab/truth');
    expect(Object.keys(truth.json.groups)).toEqual(['test-ubuntu-2404', 'test-rhel9', 'prod-ubuntu-2404', 'prod-rhel9']);
    const rhel = truth.json.groups['test-rhel9']!;
    const some = truth.json.advisories[rhel.relevantAdvisories.find((n) => n.startsWith('RHSA'))!]!;
    expect(some).toMatchObject({ os: 'rhel', type: 'Security Advisory' });
    expect(some.cves.length).toBeGreaterThan(0);
    expect(some.severity).toBeDefined();
    const usn = truth.json.advisories[truth.json.groups['test-ubuntu-2404']!.relevantAdvisories[0]!]!;
    expect(usn.severity).toBeUndefined();
  });

  it('finds an erratum by personality, service and OS', async () => {
    const res = await labJson<{ errata: Array<{ stopsService: string; os: string; personality: string }> }>(
      lab.baseUrl,
      'GET',
      '/lab/errata/find?os=rhel&personality=stop_service&service=httpd&relevantTo=test',
    );
    expect(res.json.errata[0]).toMatchObject({ os: 'rhel', personality: 'stop_service', stopsService: 'httpd' });
    expect((await labJson(lab.baseUrl, 'GET', '/lab/errata/find?os=rhel&service=nope')).status).toBe(404);
  });
});
