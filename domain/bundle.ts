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
  /** bundle.kernel_alone: a kernel erratum is tested alone (default), or may share a bundle with non-kernel ones. */
  kernelAlone?: boolean;
}

export interface BundleCandidate {
  queueId: number;
  advisoryName: string;
  successScore: number | null;
  hasKernel: boolean;
  /** The erratum's package names (UYUNI's errata.listPackages); absent: not known, nothing is checked. */
  packageNames?: readonly string[];
}

export interface RecentRuns {
  /** Judged runs (passed, or failed by a patch) of the OS, most recent `bundle.recent_runs`. */
  judged: number;
  /** Of those, the failed ones (one-erratum runs counted once, a bundle run once per culprit it had). */
  failed: number;
}

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
  };
}

/**
 * The bundle for one test system from `candidates` (queued errata of one OS relevant to that system, in work
 * order; the first is the head of the queue and always a member). Members keep the work order; a kernel erratum
 * is tested alone (so at most one per bundle, and never with a non-kernel one); an erratum scoring below `aloneBelowScore` is tested alone (as the head it makes a bundle of
 * one; elsewhere it is left for a later run). With `kernelAlone: false` a kernel erratum may share a bundle with
 * errata that are not kernel errata, one kernel erratum at most. The size comes from `splittingSize`, capped by `maxSize`.
 */
export function composeBundle(candidates: readonly BundleCandidate[], rules: BundleRules, recent: RecentRuns): BundleChoice {
  const head = candidates[0];
  if (!head) throw new RangeError('composeBundle needs at least the head of the queue');
  const lonely = (c: BundleCandidate) => c.successScore !== null && c.successScore < rules.aloneBelowScore;
  const window = candidates.slice(0, Math.max(1, rules.maxSize));
  const estimate = failureProbability(window.map((c) => c.successScore), recent, rules.priorAtFifty ?? DEFAULT_PRIOR);
  const dorfman = dorfmanSize(estimate.p, Math.max(1, rules.maxSize));
  const splitting = splittingSize(estimate.p, Math.max(1, rules.maxSize));
  const kernelAlone = rules.kernelAlone ?? true;
  const base = { maxSize: rules.maxSize, aloneBelowScore: rules.aloneBelowScore, ...estimate, recentRuns: recent, dorfman, splitting };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  if (rules.maxSize <= 1) return { members: [head], policy: { ...base, chosen: 1, why: 'bundle.max_size is 1: one erratum per run', skipped: [] } };
  if (head.hasKernel && kernelAlone) {
    // A kernel erratum is tested alone: its reboot and kernel rollback would blur every other member's verdict
    // (and so no bundle ever holds two kernel errata, nor a kernel and a non-kernel one).
    return { members: [head], policy: { ...base, chosen: 1, why: `${head.advisoryName} is a kernel erratum: tested alone`, skipped: [] } };
  }
  if (lonely(head)) {
    return { members: [head], policy: { ...base, chosen: 1, why: `${head.advisoryName} scores ${head.successScore} (< ${rules.aloneBelowScore}): tested alone`, skipped: [] } };
  }
  if (splitting === 1) {
    return { members: [head], policy: { ...base, chosen: 1, why: `expected failure probability ${pct(estimate.p)}: testing one by one is cheapest`, skipped: [] } };
  }
  const members: BundleCandidate[] = [head];
  const skipped: BundleChoice['policy']['skipped'] = [];
  let kernels = head.hasKernel ? 1 : 0;
  const packages = new Map<string, string>((head.packageNames ?? []).map((p) => [p, head.advisoryName]));
  for (const c of candidates.slice(1)) {
    if (members.length >= splitting) break;
    // Two errata of one package in one run: applying the newer makes the older not applicable (UYUNI refuses
    // it), so the older could not be judged. One per package; the other waits for a later run.
    const shared = (c.packageNames ?? []).find((p) => packages.has(p));
    if (shared !== undefined) {
      skipped.push({ queueId: c.queueId, advisoryName: c.advisoryName, why: `updates ${shared} like ${packages.get(shared)}: a later run` });
      continue;
    }
    if (lonely(c)) {
      skipped.push({ queueId: c.queueId, advisoryName: c.advisoryName, why: `scores ${c.successScore} (< ${rules.aloneBelowScore}): tested alone` });
      continue;
    }
    if (c.hasKernel && (kernelAlone || kernels >= 1)) {
      skipped.push({ queueId: c.queueId, advisoryName: c.advisoryName, why: kernelAlone ? 'a kernel erratum: tested alone' : 'a second kernel erratum: one per bundle' });
      continue;
    }
    if (c.hasKernel) kernels++;
    for (const p of c.packageNames ?? []) packages.set(p, c.advisoryName);
    members.push(c);
  }
  const observed = estimate.observed === null ? 'no judged runs yet' : `${pct(estimate.observed)} of the last ${recent.judged} judged runs failed`;
  const why =
    `expected failure probability ${pct(estimate.p)} (Success Scores ${pct(estimate.prior)}, ${observed}): ` +
    `binary splitting's size ${splitting} (2^⌊log2((1 − p)/p)⌋, at most bundle.max_size ${rules.maxSize}; ` +
    `Dorfman's two-stage size would be ${dorfman}, ≈ 1/√p = ${(1 / Math.sqrt(estimate.p)).toFixed(1)})` +
    (members.length < splitting ? `; ${members.length} eligible queued errata` : '');
  return { members, policy: { ...base, chosen: members.length, why, skipped } };
}
