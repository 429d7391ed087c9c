import { describe, expect, it } from 'vitest';
import { notBeforeOf, type NextWindow } from '../../../domain/maintenance-plan.js';
import { cutBatches, planWaves, summarizePlan, type PlanSystem } from '../../../domain/wave-plan.js';

const fleet = (groups: Record<string, number>): PlanSystem[] => {
  const out: PlanSystem[] = [];
  let id = 1000;
  for (const [group, n] of Object.entries(groups)) for (let i = 0; i < n; i++) out.push({ id: id++, group });
  return out;
};

describe('planWaves: canary per group, waves interleaving groups, batches per action', () => {
  it('the canary holds one system of every group (canarySize per group): the lowest id of each', () => {
    const systems = fleet({ 'prod-rhel9-web': 50, 'prod-rhel9-db': 10, 'prod-rhel9-cache': 3 });
    const plan = planWaves(systems, { canarySize: 1, waveSize: 20, batchSize: 8 });
    const canary = plan.filter((p) => p.wave === 0);
    expect(canary.map((p) => p.group).sort()).toEqual(['prod-rhel9-cache', 'prod-rhel9-db', 'prod-rhel9-web']);
    expect(canary.map((p) => p.id)).toEqual([1000, 1050, 1060]);
    expect(new Set(plan.map((p) => p.id)).size).toBe(systems.length);
    expect(plan).toHaveLength(systems.length);
  });

  it('a fraction of each group (rounded up) replaces the count, and never takes a whole group', () => {
    const plan = planWaves(fleet({ a: 200, b: 7, c: 1, d: 2 }), { canarySize: 1, canaryFraction: 5, waveSize: 100, batchSize: 100 });
    const counts = summarizePlan(plan)[0]?.groups;
    expect(counts).toEqual({ a: 10, b: 1, c: 1, d: 1 });
    const all = planWaves(fleet({ a: 4 }), { canarySize: 10, waveSize: 2, batchSize: 2 });
    expect(all.filter((p) => p.wave === 0)).toHaveLength(3);
  });

  it('canarySize 0 and no fraction: no canary, the waves start at 0', () => {
    const plan = planWaves(fleet({ a: 5 }), { canarySize: 0, waveSize: 2, batchSize: 10 });
    expect(summarizePlan(plan).map((w) => w.systems)).toEqual([2, 2, 1]);
  });

  it('every wave after the canary carries each group in proportion to its size', () => {
    const plan = planWaves(fleet({ big: 900, small: 90 }), { canarySize: 1, waveSize: 99, batchSize: 50 });
    const waves = summarizePlan(plan).slice(1);
    expect(waves).toHaveLength(10);
    for (const w of waves) {
      expect(w.systems).toBeLessThanOrEqual(99);
      expect(w.groups.big).toBeGreaterThanOrEqual(88);
      expect(w.groups.small).toBeGreaterThanOrEqual(8);
      expect(w.batches).toBe(2);
    }
  });

  it('batches hold at most batchSize systems of one action key each', () => {
    const systems = fleet({ a: 30 }).map((s, i) => ({ ...s, actionKey: i % 3 === 0 ? '1,2' : '1' }));
    const plan = planWaves(systems, { canarySize: 0, waveSize: 30, batchSize: 7 });
    const batches = new Map<number, PlanSystem[]>();
    for (const p of plan) batches.set(p.batch, [...(batches.get(p.batch) ?? []), systems.find((s) => s.id === p.id)!]);
    for (const members of batches.values()) {
      expect(members.length).toBeLessThanOrEqual(7);
      expect(new Set(members.map((m) => m.actionKey)).size).toBe(1);
    }
    expect(batches.size).toBe(Math.ceil(10 / 7) + Math.ceil(20 / 7));
  });

  it('plans 10,000 systems quickly and deterministically', () => {
    const systems = fleet({ 'prod-rhel9-web': 6000, 'prod-rhel9-db': 3000, 'prod-rhel9-batch': 1000 });
    const a = planWaves(systems, { canarySize: 1, waveSize: 1000, batchSize: 100 });
    const b = planWaves([...systems].reverse(), { canarySize: 1, waveSize: 1000, batchSize: 100 });
    expect(a).toEqual(b);
    expect(summarizePlan(a).map((w) => w.systems)).toEqual([3, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 997]);
  });
});

describe('batches by maintenance window (issue 15): each batch starts inside every member\'s next window', () => {
  const now = Date.parse('2026-12-07T14:00:00Z');
  const H = 3_600_000;
  const win = (startH: number, endH: number): NextWindow => ({ schedule: 's', start: new Date(now + startH * H).toISOString(), end: new Date(now + endH * H).toISOString() });

  it('notBeforeOf: no schedule or open now → at once; later → its start; no window, or one already over → never', () => {
    expect(notBeforeOf(null, now)).toBeUndefined();
    expect(notBeforeOf(win(-1, 1), now)).toBeUndefined();
    expect(notBeforeOf(win(2, 4), now)).toBe(now + 2 * H);
    expect(notBeforeOf({ schedule: 'x', start: null, end: null, reason: 'no window in 400 days' }, now)).toBeNull();
    expect(notBeforeOf(win(-3, -1), now)).toBeNull();
  });

  it('a wave is cut by window start (now first, never last), then action key, at most batchSize each', () => {
    const windows: Record<number, NextWindow> = {};
    const systems: PlanSystem[] = [];
    for (let id = 1; id <= 20; id++) {
      // 1..8 no schedule, 9..12 open now, 13..17 nightly in 2 h, 18..19 a window in 30 h, 20 none at all
      windows[id] = id <= 8 ? null : id <= 12 ? win(-1, 3) : id <= 17 ? win(2, 4) : id <= 19 ? win(30, 31) : { schedule: 'empty', start: null, end: null, reason: 'no calendar' };
      systems.push({ id, group: 'g', notBeforeMs: notBeforeOf(windows[id]!, now), ...(id % 5 === 0 ? { actionKey: '1,2' } : { actionKey: '1' }) });
    }
    const batches = cutBatches(systems, 5);
    expect(batches.map((b) => [b.notBeforeMs === undefined ? 'now' : b.notBeforeMs === null ? 'never' : (b.notBeforeMs - now) / H, b.systems.map((s) => s.id)])).toEqual([
      ['now', [1, 2, 3, 4, 6]],
      ['now', [7, 8, 9, 11, 12]],
      ['now', [5, 10]],
      [2, [13, 14, 16, 17]],
      [2, [15]],
      [30, [18, 19]],
      ['never', [20]],
    ]);
    expect(batches.map((b) => b.batch)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // every batch's earliest (its start, or now) lies inside each member's window: UYUNI accepts it (no 1334)
    for (const b of batches.filter((x) => x.notBeforeMs !== null)) {
      const earliest = b.notBeforeMs ?? now;
      for (const s of b.systems) {
        const w = windows[s.id]!;
        if (w === null) continue;
        expect(Date.parse(w.start!), `system ${s.id}`).toBeLessThanOrEqual(earliest);
        expect(Date.parse(w.end!), `system ${s.id}`).toBeGreaterThan(earliest);
      }
    }
  });

  it('planWaves keeps the canary and waves as without windows; only the batches follow the windows', () => {
    const plain = fleet({ a: 12, b: 8 });
    const windowed = plain.map((s) => ({ ...s, ...(s.id % 2 === 0 ? { notBeforeMs: now + 2 * H } : {}) }));
    const p = planWaves(plain, { canarySize: 1, waveSize: 10, batchSize: 100 });
    const w = planWaves(windowed, { canarySize: 1, waveSize: 10, batchSize: 100 });
    expect(w.map((x) => [x.id, x.wave])).toEqual(expect.arrayContaining(p.map((x) => [x.id, x.wave])));
    expect(summarizePlan(p).map((x) => x.batches)).toEqual([1, 1, 1]);
    // the canary (1000, 1012: both even) waits for one window; each wave after it: one batch now, one at the window
    expect(summarizePlan(w).map((x) => x.batches)).toEqual([1, 2, 2]);
    for (const x of w) expect(x.notBeforeMs).toBe(x.id % 2 === 0 ? now + 2 * H : undefined);
    for (const x of w.filter((y) => y.wave > 0)) expect(x.batch).toBe(x.id % 2 === 0 ? 1 : 0);
  });
});
