// Which queued errata are tested together in one run, and how many: group testing. Dorfman (1943) tests groups
// of k and retests every member of a failed group: 1/k + 1 − (1 − p)^k runs per erratum at a failure
// probability p, least near k ≈ 1/√p. A failed bundle here is bisected by binary splitting instead
// (domain/bisection.ts: a culprit costs about log2(k) + 1 runs, a passing part none), for which Hwang's
// generalized binary splitting (1972) takes groups of 2^⌊log2((1 − p) / p)⌋ — about 1/p, larger than Dorfman's.
// Both are recorded with the bundle; the splitting size is the one used. Above p ≈ 0.3 one by one is cheaper.
// p comes from the Success Score and from how often recent runs of the OS failed.

export interface BundleRules {
  /** bundle.max_size: the most errata in one run (1 = one erratum per run). */
  maxSize: number;
  /** bundle.alone_below_score: an erratum scoring below this is tested alone. */
  aloneBelowScore: number;
  /** bundle.failure_prior_percent / 100: the failure probability of an erratum scoring 50, before any run. */
  priorAtFifty?: number;
  /** bundle.kernel_alone: a kernel erratum is tested alone (1, the default), or may share a bundle with non-kernel ones, one kernel at most (0). */
  kernelAlone?: boolean;
}

export interface BundleCandidate {
  queueId: number;
  advisoryName: string;
  successScore: number | null;
  hasKernel: boolean;
  /** The erratum's package names (UYUNI's errata.listPackages); absent: not known, nothing is checked. */
  packageNames?: readonly string[];
  /** The queue item's priority_override (lower first); null or absent: none. */
  priorityOverride?: number | null;
}

export interface RecentRuns {
  /** Judged runs (passed, or failed by a patch) of the OS, most recent `bundle.recent_runs`. */
  judged: number;
  /** Of those, the failed ones (one-erratum runs counted once, a bundle run once per culprit it had). */
  failed: number;
}

/** The pseudo-package every kernel erratum shares when package groups are formed (never a real package name). */
const KERNEL_GROUP = '\u0000kernel';

/** Weight, in runs, of the Success Score's prior against the observed failure rate. */
export const PRIOR_RUNS = 20;
/** bundle.failure_prior_percent's default: an erratum scoring 50 fails 5 % of the time. */
export const DEFAULT_PRIOR = 0.05;
/** Above this failure probability a group costs more than testing one by one. */
export const GROUP_TESTING_LIMIT = 0.3;

/**
 * Prior failure probability of one erratum from its Success Score (0–100, higher is safer), calibrated by
 * `atFifty` (bundle.failure_prior_percent / 100: the chance an erratum scoring 50 fails): linear in the score,
 * twice that at 0, a floor of 0.1 % at 100; no score counts as 50.
 */
export function priorFailureProbability(score: number | null, atFifty = DEFAULT_PRIOR): number {
  const s = score === null ? 50 : Math.max(0, Math.min(100, score));
  return Math.max(0.001, (2 * atFifty * (100 - s)) / 100);
}

/**
 * The expected failure probability of the errata at the head of the queue: the mean prior of their scores,
 * pulled toward the observed rate of recent runs (a beta-binomial mean with the prior worth PRIOR_RUNS runs).
 */
export function failureProbability(scores: readonly (number | null)[], recent: RecentRuns, atFifty = DEFAULT_PRIOR): { p: number; prior: number; observed: number | null } {
  const prior = scores.length ? scores.reduce<number>((sum, s) => sum + priorFailureProbability(s, atFifty), 0) / scores.length : priorFailureProbability(null, atFifty);
  const observed = recent.judged > 0 ? recent.failed / recent.judged : null;
  const p = (prior * PRIOR_RUNS + recent.failed) / (PRIOR_RUNS + recent.judged);
  return { p: Math.min(1, Math.max(0.0001, p)), prior, observed };
}

/** Expected test runs per erratum for groups of k at failure probability p (Dorfman's two-stage scheme). */
export function runsPerErratum(k: number, p: number): number {
  return k === 1 ? 1 : 1 / k + 1 - (1 - p) ** k;
}

/** The group size with the fewest expected runs per erratum, from 1 to maxSize (≈ 1/√p when that is inside). */
export function dorfmanSize(p: number, maxSize: number): number {
  if (p >= GROUP_TESTING_LIMIT) return 1;
  let best = 1;
  for (let k = 2; k <= maxSize; k++) if (runsPerErratum(k, p) < runsPerErratum(best, p) - 1e-12) best = k;
  return best;
}

/**
 * The group size for binary splitting at failure probability p, from 1 to maxSize: Hwang's 2^⌊log2((1 − p)/p)⌋
 * (the group in which about one erratum in two groups fails), 1 when p is too high for groups to pay.
 */
export function splittingSize(p: number, maxSize: number): number {
  if (p >= GROUP_TESTING_LIMIT) return 1;
  const k = 2 ** Math.floor(Math.log2((1 - p) / p));
  return Math.max(1, Math.min(maxSize, k));
}

export interface BundleChoice {
  members: BundleCandidate[];
  policy: {
    maxSize: number;
    aloneBelowScore: number;
    p: number;
    prior: number;
    observed: number | null;
    recentRuns: RecentRuns;
    dorfman: number;
    /** The binary-splitting size (splittingSize), the one used. */
    splitting: number;
    chosen: number;
    why: string;
    skipped: { queueId: number; advisoryName: string; why: string }[];
    /** Members taken ahead of the work order to spread a large package group over successive bundles. */
    spread: { queueId: number; advisoryName: string; why: string }[];
  };
}

/**
 * Package groups of `candidates`: errata linked by a package they both update (transitively) share a group, and
 * no two of one group may share a run. Returns each candidate's group number (by queue id) and each group's size.
 * Candidates without package names are groups of their own.
 */
export function packageGroups(candidates: readonly BundleCandidate[]): { groupOf: Map<number, number>; size: Map<number, number> } {
  const parent = candidates.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  const owner = new Map<string, number>();
  candidates.forEach((c, i) => {
    for (const p of c.packageNames ?? []) {
      const j = owner.get(p);
      if (j === undefined) owner.set(p, i);
      else parent[find(i)] = find(j);
    }
  });
  const groupOf = new Map<number, number>();
  const size = new Map<number, number>();
  candidates.forEach((c, i) => {
    const g = find(i);
    groupOf.set(c.queueId, g);
    size.set(g, (size.get(g) ?? 0) + 1);
  });
  return { groupOf, size };
}

/**
 * The bundle for one test system from `candidates` (queued errata of one OS relevant to that system, in work
 * order; the first is the head of the queue and always a member). Members keep the work order; a kernel erratum
 * is tested alone (so at most one per bundle, and never with a non-kernel one); an erratum scoring below `aloneBelowScore` is tested alone (as the head it makes a bundle of
 * one; elsewhere it is left for a later run). With `kernelAlone: false` a kernel erratum may share a bundle with
 * errata that are not kernel errata, one kernel erratum at most. The size comes from `splittingSize`, capped by `maxSize`.
 *
 * Errata of one package never share a run (see below), nor do two kernel errata, so a package (or the kernel) with g queued errata needs g runs however
 * large the bundles: left to the work order they pile up at the drain's tail, one small bundle each. Spreading
 * them keeps that from happening: when `candidates` is the whole queue of the OS, every package group of at least
 * ⌈queued / size⌉ errata (the ones that would outlast the bundles the rest needs) gives its first erratum in work
 * order to this bundle before the remaining places are filled in work order. Errata with a `priorityOverride`
 * are taken before any of that, so the override's order is kept.
 */
export function composeBundle(candidates: readonly BundleCandidate[], rules: BundleRules, recent: RecentRuns): BundleChoice {
  const head = candidates[0];
  if (!head) throw new RangeError('composeBundle needs at least the head of the queue');
  const lonely = (c: BundleCandidate) => c.successScore !== null && c.successScore < rules.aloneBelowScore;
  const window = candidates.slice(0, Math.max(1, rules.maxSize));
  const estimate = failureProbability(window.map((c) => c.successScore), recent, rules.priorAtFifty ?? DEFAULT_PRIOR);
  const dorfman = dorfmanSize(estimate.p, Math.max(1, rules.maxSize));
  const splitting = splittingSize(estimate.p, Math.max(1, rules.maxSize));
  const kernelAlone = rules.kernelAlone ?? false;
  const base = { maxSize: rules.maxSize, aloneBelowScore: rules.aloneBelowScore, ...estimate, recentRuns: recent, dorfman, splitting };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  if (rules.maxSize <= 1) return { members: [head], policy: { ...base, chosen: 1, why: 'bundle.max_size is 1: one erratum per run', skipped: [], spread: [] } };
  if (head.hasKernel && kernelAlone) {
    // A kernel erratum is tested alone: its reboot and kernel rollback would blur every other member's verdict
    // (and so no bundle ever holds two kernel errata, nor a kernel and a non-kernel one).
    return { members: [head], policy: { ...base, chosen: 1, why: `${head.advisoryName} is a kernel erratum: tested alone`, skipped: [], spread: [] } };
  }
  if (lonely(head)) {
    return { members: [head], policy: { ...base, chosen: 1, why: `${head.advisoryName} scores ${head.successScore} (< ${rules.aloneBelowScore}): tested alone`, skipped: [], spread: [] } };
  }
  if (splitting === 1) {
    return { members: [head], policy: { ...base, chosen: 1, why: `expected failure probability ${pct(estimate.p)}: testing one by one is cheapest`, skipped: [], spread: [] } };
  }
  const chosen = new Set<number>([head.queueId]);
  const members: BundleCandidate[] = [head];
  let kernels = head.hasKernel ? 1 : 0;
  const packages = new Map<string, string>((head.packageNames ?? []).map((p) => [p, head.advisoryName]));
  /** Why `c` may not join now, or undefined when it may. */
  const refusal = (c: BundleCandidate): string | undefined => {
    // Two errata of one package in one run: applying the newer makes the older not applicable (UYUNI refuses
    // it), so the older could not be judged. One per package; the other waits for a later run.
    const shared = (c.packageNames ?? []).find((p) => packages.has(p));
    if (shared !== undefined) return `updates ${shared} like ${packages.get(shared)}: a later run`;
    if (lonely(c)) return `scores ${c.successScore} (< ${rules.aloneBelowScore}): tested alone`;
    if (c.hasKernel && (kernelAlone || kernels >= 1)) return kernelAlone ? 'a kernel erratum: tested alone' : 'a second kernel erratum: one per bundle';
    return undefined;
  };
  const take = (c: BundleCandidate) => {
    if (c.hasKernel) kernels++;
    for (const p of c.packageNames ?? []) packages.set(p, c.advisoryName);
    members.push(c);
    chosen.add(c.queueId);
  };
  const rest = candidates.slice(1);
  // 1. priority_override first, in its order.
  for (const c of rest) {
    if (members.length >= splitting) break;
    if (c.priorityOverride !== undefined && c.priorityOverride !== null && refusal(c) === undefined) take(c);
  }
  // 2. One erratum of each package group that would otherwise outlast the bundles the rest of the queue needs.
  // Kernel errata are one group too: one per bundle at most, and their package names differ by ABI on Ubuntu
  // (linux-image-6.8.0-31-generic, …-33-…), so no shared name links them.
  const shareable = candidates
    .filter((c) => !lonely(c) && !(c.hasKernel && kernelAlone))
    .map((c) => (c.hasKernel ? { ...c, packageNames: [...(c.packageNames ?? []), KERNEL_GROUP] } : c));
  const { groupOf, size } = packageGroups(shareable);
  const critical = Math.max(2, Math.ceil(shareable.length / splitting));
  const spread: BundleChoice['policy']['spread'] = [];
  const served = new Set<number>([...chosen].map((id) => groupOf.get(id)).filter((g): g is number => g !== undefined));
  for (const c of rest) {
    if (members.length >= splitting) break;
    const g = groupOf.get(c.queueId);
    if (g === undefined || served.has(g) || chosen.has(c.queueId) || (size.get(g) ?? 0) < critical) continue;
    if (refusal(c) !== undefined) continue;
    served.add(g);
    take(c);
    spread.push({ queueId: c.queueId, advisoryName: c.advisoryName, why: `one of ${size.get(g)} queued errata of one package group (≥ ${critical} = ⌈${shareable.length} / ${splitting}⌉): spread over successive bundles` });
  }
  // 3. The remaining places in work order.
  const skipped: BundleChoice['policy']['skipped'] = [];
  for (const c of rest) {
    if (members.length >= splitting) break;
    if (chosen.has(c.queueId)) continue;
    const why = refusal(c);
    if (why !== undefined) {
      skipped.push({ queueId: c.queueId, advisoryName: c.advisoryName, why });
      continue;
    }
    take(c);
  }
  // Members in work order (the halves of a bisection split it).
  const order = new Map(candidates.map((c, i) => [c.queueId, i]));
  members.sort((a, b) => (order.get(a.queueId) ?? 0) - (order.get(b.queueId) ?? 0));
  const observed = estimate.observed === null ? 'no judged runs yet' : `${pct(estimate.observed)} of the last ${recent.judged} judged runs failed`;
  const why =
    `expected failure probability ${pct(estimate.p)} (Success Scores ${pct(estimate.prior)}, ${observed}): ` +
    `binary splitting's size ${splitting} (2^⌊log2((1 − p)/p)⌋, at most bundle.max_size ${rules.maxSize}; ` +
    `Dorfman's two-stage size would be ${dorfman}, ≈ 1/√p = ${(1 / Math.sqrt(estimate.p)).toFixed(1)})` +
    (members.length < splitting ? `; ${members.length} eligible queued errata` : '') +
    (spread.length ? `; ${spread.length} taken ahead of the work order from large package groups` : '');
  return { members, policy: { ...base, chosen: members.length, why, skipped, spread } };
}
