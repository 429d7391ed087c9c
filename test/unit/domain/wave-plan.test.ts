import { describe, expect, it } from 'vitest';
import { planWaves, summarizePlan, type PlanSystem } from '../../../domain/wave-plan.js';

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
