import { chunk } from './chunks.js';

// The shape of a production rollout, pure: which systems form the canary, which waves follow, and how each
// wave splits into batches (one UYUNI action per batch). The canary covers every production group, so a patch
// that only breaks one role (the database group, say) shows there first; the waves that follow interleave the
// groups in proportion, so every wave patches a slice of each group and leaves unpatched peers in each group
// to compare against (the wave verdict).

export interface PlanSystem {
  id: number;
  /** The production group the system was found in (its first, when it is in several). */
  group: string;
  /** Systems that get the same UYUNI action share a key (a set rollout: the errata of the set it needs). */
  actionKey?: string;
  /**
   * When its action may start (UYUNI maintenance windows, domain/maintenance-plan.ts `windowStartOf`): absent
   * = at once (no schedule, or its window is open); epoch ms = the start of its next window; null = never (its
   * schedule has no window: it is batched apart and skipped when its wave comes). Batches never mix these.
   */
  notBeforeMs?: number | null;
}

export interface WavePlanPolicy {
  /** Canary systems per group; 0 with no fraction: no canary wave. */
  canarySize: number;
  /** Percent of each group in the canary (rounded up, at least 1); when > 0 it replaces canarySize. */
  canaryFraction?: number;
  /** Systems per wave after the canary (at least 1). */
  waveSize: number;
  /** Systems per batch (one UYUNI action), at least 1. */
  batchSize: number;
}

export interface PlannedSystem {
  id: number;
  group: string;
  /** 0 = the canary when there is one. */
  wave: number;
  /** 0-based within its wave. */
  batch: number;
  /** As PlanSystem.notBeforeMs (only present when the input had it): every system of a batch has the same. */
  notBeforeMs?: number | null;
}

/**
 * Plans a rollout: canary (per group: `canaryFraction` % rounded up, else `canarySize`), then waves of
 * `waveSize` interleaving the groups in proportion to their size, each wave cut into batches of at most
 * `batchSize` systems sharing an action key and a start time (cutBatches). Deterministic for a given input
 * (sorted by id and group name).
 * Returns every system once, ordered by wave, batch and id.
 */
export function planWaves(systems: readonly PlanSystem[], policy: WavePlanPolicy): PlannedSystem[] {
  const waveSize = Math.max(1, Math.floor(policy.waveSize));
  const batchSize = Math.max(1, Math.floor(policy.batchSize));
  const byGroup = new Map<string, PlanSystem[]>();
  for (const s of [...systems].sort((a, b) => a.id - b.id)) {
    const list = byGroup.get(s.group);
    if (list) list.push(s);
    else byGroup.set(s.group, [s]);
  }
  const groups = [...byGroup.keys()].sort();
  const fraction = policy.canaryFraction ?? 0;
  const canary = new Set<number>();
  for (const g of groups) {
    const members = byGroup.get(g) as PlanSystem[];
    const count = fraction > 0 ? Math.max(1, Math.ceil((members.length * fraction) / 100)) : Math.max(0, Math.floor(policy.canarySize));
    // Never the whole group when it has more than one system: its unpatched peers are the comparison.
    const capped = members.length > 1 ? Math.min(count, members.length - 1) : count;
    // The lowest ids of each group: stable across re-plans, and what operators expect ("the first hosts").
    for (const s of members.slice(0, capped)) canary.add(s.id);
  }
  // The rest, interleaved: each system's position is its rank within its group scaled to [0, 1), so a group
  // of 100 and one of 10 both spread over every wave.
  const rest: { s: PlanSystem; key: number }[] = [];
  for (const g of groups) {
    const left = (byGroup.get(g) as PlanSystem[]).filter((s) => !canary.has(s.id));
    left.forEach((s, i) => rest.push({ s, key: (i + 0.5) / left.length }));
  }
  rest.sort((a, b) => a.key - b.key || (a.s.group < b.s.group ? -1 : a.s.group > b.s.group ? 1 : 0) || a.s.id - b.s.id);
  const canaryWave = [...(systems.filter((s) => canary.has(s.id)))].sort((a, b) => a.id - b.id);
  const waves = [canaryWave, ...chunk(rest.map((r) => r.s), waveSize)].filter((w) => w.length > 0);
  const out: PlannedSystem[] = [];
  waves.forEach((members, wave) => {
    for (const b of cutBatches(members, batchSize)) for (const s of b.systems) out.push({ id: s.id, group: s.group, wave, batch: b.batch, ...(s.notBeforeMs !== undefined ? { notBeforeMs: s.notBeforeMs } : {}) });
  });
  return out;
}

/**
 * One wave's systems cut into batches of at most `batchSize` (at least 1): a batch never mixes action keys (one
 * UYUNI action holds one errata set) nor start times (`notBeforeMs`: its `earliest` is inside every member's
 * window). Batches in order: those that may start at once, then by window start, those that never can last;
 * within that by action key; systems by id. Numbered from 0.
 */
export function cutBatches<S extends PlanSystem>(members: readonly S[], batchSize: number): { batch: number; notBeforeMs: number | null | undefined; systems: S[] }[] {
  const size = Math.max(1, Math.floor(batchSize));
  const byKey = new Map<string, { rank: number; notBeforeMs: number | null | undefined; actionKey: string; systems: S[] }>();
  for (const s of [...members].sort((a, b) => a.id - b.id)) {
    const actionKey = s.actionKey ?? '';
    const nb = s.notBeforeMs;
    const k = `${nb === undefined ? 'now' : nb === null ? 'never' : nb}|${actionKey}`;
    const entry = byKey.get(k);
    if (entry) entry.systems.push(s);
    else byKey.set(k, { rank: nb === undefined ? Number.NEGATIVE_INFINITY : nb === null ? Number.POSITIVE_INFINITY : nb, notBeforeMs: nb, actionKey, systems: [s] });
  }
  const groups = [...byKey.values()].sort((a, b) => a.rank - b.rank || (a.actionKey < b.actionKey ? -1 : a.actionKey > b.actionKey ? 1 : 0));
  const out: { batch: number; notBeforeMs: number | null | undefined; systems: S[] }[] = [];
  for (const g of groups) for (const part of chunk(g.systems, size)) out.push({ batch: out.length, notBeforeMs: g.notBeforeMs, systems: part });
  return out;
}

/** Per wave: its systems, batches and how many of each group (the plan's summary). */
export function summarizePlan(planned: readonly PlannedSystem[]): { wave: number; systems: number; batches: number; groups: Record<string, number> }[] {
  const waves = new Map<number, { wave: number; systems: number; batches: Set<number>; groups: Record<string, number> }>();
  for (const p of planned) {
    let w = waves.get(p.wave);
    if (!w) waves.set(p.wave, (w = { wave: p.wave, systems: 0, batches: new Set(), groups: {} }));
    w.systems++;
    w.batches.add(p.batch);
    w.groups[p.group] = (w.groups[p.group] ?? 0) + 1;
  }
  return [...waves.values()].sort((a, b) => a.wave - b.wave).map((w) => ({ wave: w.wave, systems: w.systems, batches: w.batches.size, groups: w.groups }));
}
