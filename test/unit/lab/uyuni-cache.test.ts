import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { Rpc } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let clock: ManualClock;
let sid: number;

beforeAll(async () => {
  clock = manualClock();
  lab = await startUyuniLab({ clock });
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  sid = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
});
afterAll(async () => {
  await lab.close();
});

describe('response cache', () => {
  it('serves a repeated read from the cache, byte for byte', async () => {
    lab.cache.resetStats();
    const a = await rpc.raw('system.getRelevantErrata', [sk, sid]);
    const b = await rpc.raw('system.getRelevantErrata', [sk, sid]);
    expect(b.body).toBe(a.body);
    expect(lab.cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    // The key ignores the session: another login shares the entry.
    const other = await rpc.login();
    await rpc.raw('system.getRelevantErrata', [other, sid]);
    expect(lab.cache.stats().hits).toBe(2);
  });

  it('invalidates after a mutation and shows the new state', async () => {
    const before = await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid]);
    const e = lab.fleet.findErratum({ os: 'ubuntu', personality: 'none', relevantTo: sid, unscheduled: true })!;
    const version = lab.fleet.version;
    await rpc.call('system.scheduleApplyErrata', [sk, [sid], [e.id], true]);
    expect(lab.fleet.version).toBeGreaterThan(version);
    clock.advance(1000);
    lab.cache.resetStats();
    const after = await rpc.call<Array<{ id: number }>>('system.getRelevantErrata', [sk, sid]);
    expect(lab.cache.stats().misses).toBe(1);
    expect(after).toHaveLength(before.length - 1);
    expect(after.map((x) => x.id)).not.toContain(e.id);
  });

  it('keeps immutable errata metadata cached across fleet changes', async () => {
    const name = lab.fleet.catalog.byOs.rhel[0]!.advisoryName;
    await rpc.call('errata.getDetails', [sk, name]);
    const e = lab.fleet.findErratum({ os: 'ubuntu', personality: 'none', relevantTo: sid, unscheduled: true })!;
    await rpc.call('system.scheduleApplyErrata', [sk, [sid], [e.id], true]);
    lab.cache.resetStats();
    await rpc.call('errata.getDetails', [sk, name]);
    expect(lab.cache.stats()).toMatchObject({ hits: 1, misses: 0 });
  });

  it('never caches mutations', async () => {
    const e = lab.fleet.findErratum({ os: 'ubuntu', personality: 'none', relevantTo: sid, unscheduled: true })!;
    const first = await rpc.call<number[]>('system.scheduleApplyErrata', [sk, [sid], [e.id], true]);
    expect((await rpc.fault('system.scheduleApplyErrata', [sk, [sid], [e.id], true])).faultCode).toBe(2600);
    expect(first).toHaveLength(1);
  });
});
