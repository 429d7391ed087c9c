// Bisection of a failed bundle, as merge queues do it for code: split, test the halves (in parallel, each on
// its own test system), recurse into the half that fails, until each failing erratum is proven alone. The
// hard cases: both halves pass although the whole failed — an interaction, or a failure that does not
// reproduce. The whole is then retested once; if it passes, nobody is blamed (the first failure did not
// reproduce); if it fails again, the smallest set that fails together is grown from one half (a prefix search,
// one element at a time, each found by binary search) and reported as "fails together with …".
// Pure and deterministic (it runs inside Temporal workflows): the runs themselves are callbacks.

export type RunVerdict = 'passed' | 'failed' | 'inconclusive';

export interface RunResult {
  verdict: RunVerdict;
  /** The run's id (its test_bundles node). */
  runId: number;
  /** Why it failed or could not be judged. */
  reason: string;
}

export type MemberVerdictKind = 'passed' | 'rolled_back' | 'interaction' | 'inconclusive';

export interface MemberVerdict {
  verdict: MemberVerdictKind;
  reason: string;
  /** Every run the member was part of, in the order they happened (bundle, halves, retest, probes, alone). */
  runs: number[];
  /** For an interaction: the members it fails together with. */
  partners?: number[];
  /** For a blamed erratum: the run that proved its failure alone. */
  provenBy?: number;
}

/** By queue item id. */
export type Verdicts = Record<number, MemberVerdict>;

export interface BisectionOps {
  /** A half of a failed set: one run of `members` that then isolates its own failures (a child node). */
  half(members: number[]): Promise<Verdicts>;
  /** One run of `members` and nothing more: the retest of a whole, or a probe while growing an interaction set. */
  probe(members: number[], kind: 'retest' | 'probe'): Promise<RunResult>;
  /** A member's advisory name, for reasons people read. */
  nameOf(member: number): string;
}

/** Splits in work order; the first half gets the extra member. */
export function halves(members: readonly number[]): [number[], number[]] {
  const cut = Math.ceil(members.length / 2);
  return [members.slice(0, cut), members.slice(cut)];
}

const all = (members: readonly number[], f: (m: number) => MemberVerdict): Verdicts => Object.fromEntries(members.map((m) => [m, f(m)]));

/**
 * The verdict of every member of a node, given the node's own run. Passed: all passed. Could not be judged
 * (the test system failed, no metrics): all inconclusive — a host failure is never blamed on an erratum.
 * Failed alone: that erratum is rolled back and blamed (its own failure, proven alone). Failed with several:
 * bisected through `ops`.
 */
export async function resolveNode(members: readonly number[], own: RunResult, ops: BisectionOps): Promise<Verdicts> {
  const runs = new Map<number, number[]>(members.map((m) => [m, [own.runId]]));
  const seen = (set: readonly number[], runId: number) => set.forEach((m) => runs.get(m)?.push(runId));
  const runsOf = (m: number) => [...(runs.get(m) ?? [])];
  if (own.verdict === 'passed') return all(members, (m) => ({ verdict: 'passed', reason: `passed in run #${own.runId}`, runs: runsOf(m) }));
  if (own.verdict === 'inconclusive') {
    return all(members, (m) => ({ verdict: 'inconclusive', reason: `run #${own.runId} could not be judged: ${own.reason}`, runs: runsOf(m) }));
  }
  const only = members[0];
  if (members.length === 1 && only !== undefined) {
    return { [only]: { verdict: 'rolled_back', reason: `failed alone in run #${own.runId}: ${own.reason}`, runs: runsOf(only), provenBy: own.runId } };
  }

  const [a, b] = halves(members);
  const [va, vb] = await Promise.all([ops.half(a), ops.half(b)]);
  const merged: Verdicts = {};
  for (const [key, v] of Object.entries({ ...va, ...vb })) merged[Number(key)] = { ...v, runs: [own.runId, ...v.runs] };
  const kinds = Object.values(merged).map((v) => v.verdict);
  // The failure is explained by what the halves found, or may lie in a half that could not be judged.
  if (kinds.some((k) => k !== 'passed')) return merged;

  // Both halves passed, the whole failed: an interaction, or a failure that does not reproduce.
  for (const m of members) runs.set(m, merged[m]?.runs ?? [own.runId]);
  const retest = await ops.probe([...members], 'retest');
  seen(members, retest.runId);
  if (retest.verdict === 'passed') {
    return all(members, (m) => ({
      verdict: 'passed',
      reason: `passed in its half and in retest #${retest.runId} of the whole; the whole's first failure (run #${own.runId}: ${own.reason}) did not reproduce, so it is blamed on none`,
      runs: runsOf(m),
    }));
  }
  if (retest.verdict === 'inconclusive') {
    return all(members, (m) => ({
      verdict: 'inconclusive',
      reason: `passed in its half, but the whole failed (run #${own.runId}: ${own.reason}) and its retest #${retest.runId} could not be judged: ${retest.reason}`,
      runs: runsOf(m),
    }));
  }

  const known = new Knowledge();
  known.add(a, 'passed');
  known.add(b, 'passed');
  known.add(members, 'failed');
  const test = async (set: number[], force = false): Promise<RunResult | { verdict: RunVerdict; inferred: true }> => {
    const inferred = force ? undefined : known.infer(set);
    if (inferred) return { verdict: inferred, inferred: true };
    const r = await ops.probe(set, 'probe');
    seen(set, r.runId);
    if (r.verdict !== 'inconclusive') known.add(set, r.verdict);
    return r;
  };
  const core = await growCore([...a, ...b], test);
  if (!core.ok) {
    return all(members, (m) => ({ verdict: 'inconclusive', reason: `the whole fails (runs #${own.runId}, #${retest.runId}) but not in its halves; while looking for the set that fails together, ${core.reason}`, runs: runsOf(m) }));
  }
  const names = (set: readonly number[]) => set.map((m) => ops.nameOf(m)).join(', ');
  const verdicts: Verdicts = {};
  for (const m of core.set) {
    const partners = core.set.filter((x) => x !== m);
    verdicts[m] = {
      verdict: 'interaction',
      reason: `fails together with ${names(partners)} (run #${core.provenBy}: ${core.reason}); passes without ${partners.length === 1 ? 'it' : 'them'}`,
      runs: runsOf(m),
      partners,
      provenBy: core.provenBy,
    };
  }
  const rest = members.filter((m) => !core.set.includes(m));
  if (rest.length) {
    const r = await test(rest);
    for (const m of rest) {
      verdicts[m] =
        r.verdict === 'passed'
          ? { verdict: 'passed', reason: `passed in its half${'runId' in r ? ` and in run #${r.runId} without ${names(core.set)}` : ''}`, runs: runsOf(m) }
          : {
              verdict: 'inconclusive',
              reason: r.verdict === 'failed' ? `the others still fail without ${names(core.set)}: another failure among them, retested later` : `could not be judged without ${names(core.set)}`,
              runs: runsOf(m),
            };
    }
  }
  return verdicts;
}

/** Tests a set (`force`: run it even when earlier runs tell the answer). */
type Tester = (set: number[], force?: boolean) => Promise<{ verdict: RunVerdict; runId?: number; reason?: string }>;

/**
 * The smallest set, grown from the front of `order`, that fails together (order: one half, then the other;
 * the whole is known to fail). Each round finds, by binary search over prefixes, the shortest prefix that
 * still fails together with the core found so far; its last element joins the core. Assumes adding an erratum
 * never repairs a failure. Runs: about |core| · log2(n).
 */
export async function growCore(
  order: number[],
  test: Tester,
): Promise<{ ok: true; set: number[]; provenBy: number; reason: string } | { ok: false; reason: string }> {
  const core: number[] = [];
  let rest = [...order];
  for (let round = 0; round <= order.length; round++) {
    if (core.length) {
      let r = await test(core);
      // Known to fail from an earlier, larger run: the set is reported only once a run of exactly it failed.
      if (r.verdict === 'failed' && r.runId === undefined) r = await test(core, true);
      if (r.verdict === 'inconclusive') return { ok: false, reason: `run #${r.runId ?? '?'} could not be judged: ${r.reason ?? ''}` };
      if (r.verdict === 'failed') return { ok: true, set: core, provenBy: r.runId as number, reason: r.reason ?? '' };
    }
    if (!rest.length) break;
    let lo = 1;
    let hi = rest.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = await test([...core, ...rest.slice(0, mid)]);
      if (r.verdict === 'inconclusive') return { ok: false, reason: `run #${r.runId ?? '?'} could not be judged: ${r.reason ?? ''}` };
      if (r.verdict === 'failed') hi = mid;
      else lo = mid + 1;
    }
    core.push(rest[lo - 1] as number);
    rest = rest.slice(0, lo - 1);
  }
  return { ok: false, reason: 'no set of them fails together when tested again' };
}

/** What runs showed, under the rule that adding an erratum never repairs a failure. */
export class Knowledge {
  private readonly facts: { set: Set<number>; verdict: 'passed' | 'failed' }[] = [];

  add(set: readonly number[], verdict: 'passed' | 'failed'): void {
    this.facts.push({ set: new Set(set), verdict });
  }

  /** `passed` when a passing run held every member, `failed` when a failing run held nothing else. */
  infer(set: readonly number[]): 'passed' | 'failed' | undefined {
    for (const f of this.facts) {
      if (f.verdict === 'passed' && set.every((m) => f.set.has(m))) return 'passed';
      if (f.verdict === 'failed' && [...f.set].every((m) => set.includes(m))) return 'failed';
    }
    return undefined;
  }
}
