import { describe, expect, it } from 'vitest';
import { growCore, halves, Knowledge, resolveNode, type BisectionOps, type RunResult, type RunVerdict, type Verdicts } from '../../../domain/bisection.js';

// A simulated lab: errata that fail on their own, sets that fail only together, a flake that fails the n-th
// run, and a host that cannot be judged. Every run is counted, as the real ones are test runs on a system.
interface World {
  faulty?: number[];
  together?: number[][];
  /** Runs (1-based) that fail although nothing in them is faulty. */
  flakyRuns?: number[];
  /** Runs that cannot be judged (the host went down). */
  downRuns?: number[];
}

function simulate(world: World, spare = false) {
  const log: { set: number[]; verdict: RunVerdict; kind: string }[] = [];
  const run = (set: number[], kind: string): RunResult => {
    const n = log.length + 1;
    let verdict: RunVerdict = 'passed';
    if (world.downRuns?.includes(n)) verdict = 'inconclusive';
    else if (set.some((m) => world.faulty?.includes(m))) verdict = 'failed';
    else if (world.together?.some((g) => g.every((m) => set.includes(m)))) verdict = 'failed';
    else if (world.flakyRuns?.includes(n)) verdict = 'failed';
    log.push({ set, verdict, kind });
    return { verdict, runId: n, reason: verdict === 'failed' ? 'CPU +40 pp' : verdict === 'inconclusive' ? 'host down' : '' };
  };
  const ops: BisectionOps = {
    node: async (members, kind) => {
      const own = run(members, kind);
      return { run: own, ...(await resolveNode(members, own, ops, { root: false })) };
    },
    probe: async (members, kind) => run(members, kind),
    spare: async () => spare,
    nameOf: (m) => `E${m}`,
  };
  const bundle = async (members: number[]): Promise<Verdicts> => {
    const r = await resolveNode(members, run(members, 'bundle'), ops);
    // a root settles every member
    expect(r.untested).toEqual({});
    expect(Object.keys(r.verdicts).map(Number).sort((a, b) => a - b)).toEqual([...members].sort((a, b) => a - b));
    return r.verdicts;
  };
  return { log, bundle };
}

const eight = [1, 2, 3, 4, 5, 6, 7, 8];
const byVerdict = (v: Verdicts, kind: string) => Object.entries(v).filter(([, x]) => x.verdict === kind).map(([k]) => Number(k)).sort((a, b) => a - b);

describe('bisection of a failed bundle', () => {
  it('a clean bundle of 8 passes in one run', async () => {
    const w = simulate({});
    const v = await w.bundle(eight);
    expect(w.log).toHaveLength(1);
    expect(byVerdict(v, 'passed')).toEqual(eight);
  });

  it.each(eight)('one faulty erratum (%i of 8) is blamed alone, 7 pass, in at most 1 + 2·log2(8) runs', async (bad) => {
    const w = simulate({ faulty: [bad] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'rolled_back')).toEqual([bad]);
    expect(byVerdict(v, 'passed')).toEqual(eight.filter((m) => m !== bad));
    expect(w.log.length).toBeLessThanOrEqual(7);
    // the blame names the run that had it alone, and its evidence lists every run it was in
    const proof = v[bad]?.provenBy as number;
    expect(w.log[proof - 1]?.set).toEqual([bad]);
    expect(v[bad]?.runs).toEqual(w.log.map((r, i) => (r.set.includes(bad) ? i + 1 : 0)).filter(Boolean));
  });

  it.each(eight)('one faulty erratum (%i of 8) costs at most 3 + log2(8) runs (the bundle, the search, a proof alone, the rest): a passing part is never run again', async (bad) => {
    const w = simulate({ faulty: [bad] });
    await w.bundle(eight);
    expect(w.log.length).toBeLessThanOrEqual(6);
    // what was set aside while the culprit was searched is tested again as one run, not half by half
    expect(w.log.filter((r) => r.kind === 'rest').length).toBeLessThanOrEqual(1);
  });

  it('with a spare test system both halves run at once, and the verdicts are the same', async () => {
    for (const bad of eight) {
      const w = simulate({ faulty: [bad] }, true);
      const v = await w.bundle(eight);
      expect(byVerdict(v, 'rolled_back')).toEqual([bad]);
      expect(byVerdict(v, 'passed')).toEqual(eight.filter((m) => m !== bad));
      expect(w.log.length).toBeLessThanOrEqual(7);
      expect(w.log.slice(1, 3).map((r) => r.set)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    }
    const w = simulate({ together: [[3, 6]] }, true);
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'interaction')).toEqual([3, 6]);
  });

  it('two faulty errata are both found, the others pass', async () => {
    const w = simulate({ faulty: [2, 7] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'rolled_back')).toEqual([2, 7]);
    expect(byVerdict(v, 'passed')).toEqual([1, 3, 4, 5, 6, 8]);
  });

  it('an interaction pair across the halves is reported together, neither passes, nobody else is blamed', async () => {
    const w = simulate({ together: [[3, 6]] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'interaction')).toEqual([3, 6]);
    expect(v[3]?.partners).toEqual([6]);
    expect(v[6]?.partners).toEqual([3]);
    expect(v[3]?.reason).toMatch(/fails together with E6/);
    expect(byVerdict(v, 'rolled_back')).toEqual([]);
    expect(byVerdict(v, 'passed')).toEqual([1, 2, 4, 5, 7, 8]);
    // the proof is a run of exactly the pair
    expect(w.log[(v[3]?.provenBy as number) - 1]?.set.sort()).toEqual([3, 6]);
    expect(w.log.length).toBeLessThanOrEqual(12);
  });

  it('an interaction inside one half is found there', async () => {
    const w = simulate({ together: [[1, 2]] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'interaction')).toEqual([1, 2]);
    expect(byVerdict(v, 'passed')).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('a set of three that fails only together is found whole', async () => {
    const w = simulate({ together: [[2, 5, 8]] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'interaction')).toEqual([2, 5, 8]);
    expect(v[5]?.partners?.sort()).toEqual([2, 8]);
    expect(byVerdict(v, 'passed')).toEqual([1, 3, 4, 6, 7]);
  });

  it('a flaky failure of the whole that does not reproduce is blamed on none; all pass after the retest', async () => {
    const w = simulate({ flakyRuns: [1] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'passed')).toEqual(eight);
    // the first half passes, so the failure is followed into the second half, down to one erratum alone
    expect(w.log.map((r) => r.kind)).toEqual(['bundle', 'half', 'half', 'half', 'half', 'retest']);
    expect(w.log.map((r) => r.set.length)).toEqual([8, 4, 2, 1, 1, 8]);
    expect(v[1]?.reason).toMatch(/did not reproduce/);
  });

  it('a flaky failure of a half is not blamed either', async () => {
    // run 1: whole fails (erratum 3 is faulty); run 2: half [1..4] fails; run 3: half [5..8] fails by a flake
    const w = simulate({ faulty: [3], flakyRuns: [3] });
    const v = await w.bundle(eight);
    expect(byVerdict(v, 'rolled_back')).toEqual([3]);
    expect(byVerdict(v, 'passed')).toEqual([1, 2, 4, 5, 6, 7, 8]);
  });

  it('a run the host could not judge blames nobody: its members are inconclusive', async () => {
    const w = simulate({ faulty: [4], downRuns: [2] });
    const v = await w.bundle(eight);
    // the half [1..4] (run 2) was not judged: nothing in it is blamed, the other half passed
    expect(byVerdict(v, 'inconclusive')).toEqual([1, 2, 3, 4]);
    expect(byVerdict(v, 'passed')).toEqual([5, 6, 7, 8]);
    expect(byVerdict(v, 'rolled_back')).toEqual([]);
  });

  it('a bundle whose own run could not be judged leaves every member inconclusive', async () => {
    const w = simulate({ downRuns: [1] });
    const v = await w.bundle([1, 2, 3]);
    expect(byVerdict(v, 'inconclusive')).toEqual([1, 2, 3]);
    expect(w.log).toHaveLength(1);
  });

  it('odd sizes split with the extra member first', () => {
    expect(halves([1, 2, 3])).toEqual([[1, 2], [3]]);
    expect(halves([1, 2])).toEqual([[1], [2]]);
  });
});

describe('the rest deferred to the queue (ops.deferRest)', () => {
  // The same simulated lab, with a root whose set-aside members go back to the queue when deferRest says so.
  const root = async (members: number[], faulty: number[], defer: boolean) => {
    const log: number[][] = [];
    const run = (set: number[]): RunResult => {
      log.push(set);
      return { verdict: set.some((m) => faulty.includes(m)) ? 'failed' : 'passed', runId: log.length, reason: 'CPU +40 pp' };
    };
    const ops: BisectionOps = {
      node: async (set) => {
        const own = run(set);
        return { run: own, ...(await resolveNode(set, own, ops, { root: false })) };
      },
      probe: async (set) => run(set),
      spare: async () => false,
      nameOf: (m) => `E${m}`,
      deferRest: async () => defer,
    };
    return { ...(await resolveNode(members, run(members), ops)), log };
  };

  it.each(eight)('one faulty (%i of 8): blamed alone, what was set aside is neither passed nor blamed, and no rest run', async (bad) => {
    const r = await root(eight, [bad], true);
    expect(byVerdict(r.verdicts, 'rolled_back')).toEqual([bad]);
    const setAside = Object.keys(r.untested).map(Number);
    // every member is either settled or handed back, never both
    expect([...Object.keys(r.verdicts).map(Number), ...setAside].sort((a, b) => a - b)).toEqual(eight);
    for (const m of setAside) expect(r.verdicts[m]).toBeUndefined();
    for (const m of setAside) expect(r.untested[m]?.[0]).toBe(1); // its runs so far, the bundle first
    // one run fewer than testing the rest in the bundle whenever something was set aside
    const inBundle = await root(eight, [bad], false);
    expect(r.log.length).toBe(inBundle.log.length - (setAside.length ? 1 : 0));
    expect(r.log.length).toBeLessThanOrEqual(1 + Math.log2(8) + 1);
  });

  it('without deferRest (or when it says no) the root settles every member', async () => {
    const r = await root(eight, [2, 7], false);
    expect(r.untested).toEqual({});
    expect(byVerdict(r.verdicts, 'rolled_back')).toEqual([2, 7]);
    expect(byVerdict(r.verdicts, 'passed')).toEqual([1, 3, 4, 5, 6, 8]);
  });
});

describe('growCore and Knowledge', () => {
  it('infers a pass for a subset of a passing run and a failure for a superset of a failing one', () => {
    const k = new Knowledge();
    k.add([1, 2, 3], 'passed');
    k.add([4, 5], 'failed');
    expect(k.infer([1, 3])).toBe('passed');
    expect(k.infer([4, 5, 6])).toBe('failed');
    expect(k.infer([1, 4])).toBeUndefined();
  });

  it('finds the pair in order with a run of exactly it', async () => {
    const tested: number[][] = [];
    const res = await growCore([1, 2, 3, 4, 5, 6], async (set) => {
      tested.push(set);
      return { verdict: set.includes(2) && set.includes(5) ? 'failed' : 'passed', runId: tested.length, reason: 'x' };
    });
    expect(res.ok && res.set.sort()).toEqual([2, 5]);
    expect(tested.at(-1)?.sort()).toEqual([2, 5]);
  });
});
