// Bisection of a failed bundle, as merge queues do it for code, with the economy of group testing's binary
// splitting (Hwang, 1972): split a failing set, run its first half; if that half passes, the failure lies in
// the second half without a run of its own (inferred), so the search goes on inside it; if the first half
// fails, the search goes on inside it and the second half is set aside untested. Once one culprit is isolated
// and proven alone, everything set aside is tested again as one run (the bundle's "rest"), and so on until every
// member is cleared or blamed. A failing erratum costs about log2(size) + 1 runs, and a passing part is never
// run twice. When a free test system would otherwise idle (nothing queued for the OS), both halves run at once.
// The hard cases: the search ends on an erratum that passes alone although the set failed — an interaction, or
// a failure that does not reproduce. The set that failed is then retested once; if it passes, nobody is blamed
// (the first failure did not reproduce); if it fails again, the smallest set that fails together is grown from
// its halves (a prefix search, one element at a time, each found by binary search) and reported as "fails
// together with …". Pure and deterministic (it runs inside Temporal workflows): the runs themselves are callbacks.

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

/** What a node settled and what it leaves to its parent. */
export interface NodeOutcome {
  /** The node's own run. */
  run: RunResult;
  /** Members with a final verdict. */
  verdicts: Verdicts;
  /** Members neither cleared nor blamed yet (by queue item id: the runs they were part of, in order). */
  untested: Record<number, number[]>;
}

export interface BisectionOps {
  /**
   * A child node: one run of `members` (a half, an erratum alone, or the rest of a bundle); when that run fails,
   * the child bisects its members itself (resolveNode, not as a root) and hands back what it settled and what
   * it left untested.
   */
  node(members: number[], kind: 'half' | 'rest'): Promise<NodeOutcome>;
  /** One run of `members` and nothing more: the retest of a whole, or a probe while growing an interaction set. */
  probe(members: number[], kind: 'retest' | 'probe'): Promise<RunResult>;
  /**
   * Whether a second run may start now without taking a test system from queued work (a free test system of
   * the OS and nothing queued for it): then both halves run at once, which is faster and costs a run at most.
   */
  spare(): Promise<boolean>;
  /** A member's advisory name, for reasons people read. */
  nameOf(member: number): string;
  /**
   * At the root, before a rest run: whether what was set aside goes back to the queue instead, untested, to
   * join the next bundle (other errata of the OS are queued, so that bundle runs anyway and the rest rides in it
   * at no run of its own — Hwang's binary splitting returns set-aside items to the pool the same way). Absent:
   * never (the root tests the rest itself).
   */
  deferRest?(): Promise<boolean>;
}

/** Splits in work order; the first half gets the extra member. */
export function halves(members: readonly number[]): [number[], number[]] {
  const cut = Math.ceil(members.length / 2);
  return [members.slice(0, cut), members.slice(cut)];
}

const all = (members: readonly number[], f: (m: number) => MemberVerdict): Verdicts => Object.fromEntries(members.map((m) => [m, f(m)]));

/**
 * The verdict of the members of a node, given the node's own run. Passed: all passed. Could not be judged (the
 * test system failed, no metrics): all inconclusive — a host failure is never blamed on an erratum. Failed
 * alone: that erratum is rolled back and blamed (its own failure, proven alone). Failed with several: searched
 * through `ops` (see the top of this file). A root (the bundle itself) tests what was set aside until nothing
 * is left, unless `ops.deferRest` sends it back to the queue (then the root too returns it as `untested`: neither
 * passed nor blamed); any other node hands what it set aside to its parent, whose rest run merges it with the
 * parent's.
 */
export async function resolveNode(members: readonly number[], own: RunResult, ops: BisectionOps, opts: { root: boolean } = { root: true }): Promise<{ verdicts: Verdicts; untested: Record<number, number[]> }> {
  const runs = new Map<number, number[]>(members.map((m) => [m, [own.runId]]));
  const runsOf = (m: number) => [...(runs.get(m) ?? [])];
  const done = (verdicts: Verdicts) => ({ verdicts, untested: {} });
  if (own.verdict === 'passed') return done(all(members, (m) => ({ verdict: 'passed', reason: `passed in run #${own.runId}`, runs: runsOf(m) })));
  if (own.verdict === 'inconclusive') {
    return done(all(members, (m) => ({ verdict: 'inconclusive', reason: `run #${own.runId} could not be judged: ${own.reason}`, runs: runsOf(m) })));
  }
  const only = members[0];
  if (members.length === 1 && only !== undefined) {
    return done({ [only]: { verdict: 'rolled_back', reason: `failed alone in run #${own.runId}: ${own.reason}`, runs: runsOf(only), provenBy: own.runId } });
  }

  const verdicts: Verdicts = {};
  const untested = new Set<number>();
  const known = new Knowledge();
  known.add(members, 'failed');
  /** Takes in a child's outcome: its verdicts are final, what it set aside is untested here. */
  const absorb = (set: readonly number[], child: NodeOutcome) => {
    for (const m of set) {
      const v = child.verdicts[m];
      if (v) {
        runs.set(m, [...runsOf(m), ...v.runs]);
        verdicts[m] = { ...v, runs: runsOf(m) };
      } else {
        runs.set(m, [...runsOf(m), ...(child.untested[m] ?? [child.run.runId])]);
        untested.add(m);
      }
    }
    if (child.run.verdict !== 'inconclusive') known.add(set, child.run.verdict);
  };
  const setAside = (set: readonly number[]) => set.forEach((m) => untested.add(m));

  /**
   * `set` is known to fail (the node's own run of it, or — inferred — its first half passed): isolates one
   * culprit in it. A set of one here is always inferred (a node of one is judged by its own run above).
   */
  const search = async (set: number[]): Promise<'found' | 'unexplained' | 'unjudged'> => {
    if (set.length === 1) {
      // Failing by inference only: the proof is a run of it alone.
      const alone = await ops.node(set, 'half');
      absorb(set, alone);
      return alone.run.verdict === 'failed' ? 'found' : alone.run.verdict === 'passed' ? 'unexplained' : 'unjudged';
    }
    const [a, b] = halves(set);
    if (await ops.spare()) {
      const [ra, rb] = await Promise.all([ops.node(a, 'half'), ops.node(b, 'half')]);
      absorb(a, ra);
      absorb(b, rb);
      if (ra.run.verdict === 'failed' || rb.run.verdict === 'failed') return 'found';
      return ra.run.verdict === 'passed' && rb.run.verdict === 'passed' ? 'unexplained' : 'unjudged';
    }
    const ra = await ops.node(a, 'half');
    absorb(a, ra);
    if (ra.run.verdict === 'passed') return search(b);
    setAside(b);
    return ra.run.verdict === 'failed' ? 'found' : 'unjudged';
  };

  const found = await search([...members]);
  if (found === 'unexplained') {
    // Every part passed, the whole failed: an interaction, or a failure that does not reproduce.
    return done(await hardCase(members, own, ops, known, runs));
  }
  // A root tests what was set aside, as one run, until nothing is left — or hands it back to the queue.
  while (opts.root && untested.size) {
    if (ops.deferRest && (await ops.deferRest())) break;
    const rest = members.filter((m) => untested.has(m));
    rest.forEach((m) => untested.delete(m));
    absorb(rest, await ops.node(rest, 'rest'));
  }
  return { verdicts, untested: Object.fromEntries(members.filter((m) => untested.has(m)).map((m) => [m, runsOf(m)])) };
}

/**
 * `members` failed (run `own`) although every part of them passed: retests the whole once, then grows the set
 * that fails together. `runs` holds each member's runs so far and is extended here.
 */
async function hardCase(members: readonly number[], own: RunResult, ops: BisectionOps, known: Knowledge, runs: Map<number, number[]>): Promise<Verdicts> {
  const runsOf = (m: number) => [...(runs.get(m) ?? [])];
  const seen = (set: readonly number[], runId: number) => set.forEach((m) => runs.get(m)?.push(runId));
  const retest = await ops.probe([...members], 'retest');
  seen(members, retest.runId);
  if (retest.verdict === 'passed') {
    return all(members, (m) => ({
      verdict: 'passed',
      reason: `passed in its part and in retest #${retest.runId} of the whole; the whole's first failure (run #${own.runId}: ${own.reason}) did not reproduce, so it is blamed on none`,
      runs: runsOf(m),
    }));
  }
  if (retest.verdict === 'inconclusive') {
    return all(members, (m) => ({
      verdict: 'inconclusive',
      reason: `passed in its part, but the whole failed (run #${own.runId}: ${own.reason}) and its retest #${retest.runId} could not be judged: ${retest.reason}`,
      runs: runsOf(m),
    }));
  }
  known.add(members, 'failed');
  const test = async (set: number[], force = false): Promise<RunResult | { verdict: RunVerdict; inferred: true }> => {
    const inferred = force ? undefined : known.infer(set);
    if (inferred) return { verdict: inferred, inferred: true };
    const r = await ops.probe(set, 'probe');
    seen(set, r.runId);
    if (r.verdict !== 'inconclusive') known.add(set, r.verdict);
    return r;
  };
  const core = await growCore([...members], test);
  if (!core.ok) {
    return all(members, (m) => ({ verdict: 'inconclusive', reason: `the whole fails (runs #${own.runId}, #${retest.runId}) but not in its parts; while looking for the set that fails together, ${core.reason}`, runs: runsOf(m) }));
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
          ? { verdict: 'passed', reason: `passed in its part${'runId' in r ? ` and in run #${r.runId} without ${names(core.set)}` : ''}`, runs: runsOf(m) }
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
