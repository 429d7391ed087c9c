import { describe, expect, it } from 'vitest';
import { composeBundle, dorfmanSize, packageGroups, failureProbability, priorFailureProbability, runsPerErratum, splittingSize, type BundleCandidate } from '../../../domain/bundle.js';

const c = (queueId: number, score: number | null = 80, hasKernel = false): BundleCandidate => ({ queueId, advisoryName: `USN-${queueId}-1`, successScore: score, hasKernel });
const none = { judged: 0, failed: 0 };
const rules = { maxSize: 8, aloneBelowScore: 40, priorAtFifty: 0.01 };

describe('bundle size from risk (Dorfman)', () => {
  it('the best size is near 1/√p and never above the maximum', () => {
    expect(dorfmanSize(0.01, 64)).toBe(11); // 1/√0.01 = 10; the exact minimum of 1/k + 1 − 0.99^k is at 11
    expect(dorfmanSize(0.06, 64)).toBe(5);
    expect(dorfmanSize(0.01, 8)).toBe(8);
    expect(dorfmanSize(0.35, 8)).toBe(1);
    expect(runsPerErratum(1, 0.2)).toBe(1);
    expect(runsPerErratum(4, 0.01)).toBeCloseTo(0.25 + 1 - 0.99 ** 4, 10);
  });

  it("binary splitting's size is Hwang's 2^⌊log2((1 − p)/p)⌋, larger than Dorfman's, never above the maximum", () => {
    expect(splittingSize(0.0625, 64)).toBe(8); // (1 − p)/p = 15
    expect(splittingSize(0.06, 64)).toBe(8);
    expect(splittingSize(0.0125, 64)).toBe(64); // 79
    expect(splittingSize(0.01, 32)).toBe(32);
    expect(splittingSize(0.2, 64)).toBe(4);
    expect(splittingSize(0.35, 64)).toBe(1);
    expect(splittingSize(0.06, 64)).toBeGreaterThan(dorfmanSize(0.06, 64));
  });

  it('the failure probability blends the scores with the observed rate of recent runs', () => {
    expect(priorFailureProbability(100)).toBeCloseTo(0.001);
    expect(priorFailureProbability(0)).toBeCloseTo(0.1);
    expect(priorFailureProbability(null)).toBeCloseTo(0.05);
    expect(priorFailureProbability(75, 0.02)).toBeCloseTo(0.01);
    expect(failureProbability([50, 50], none, 0.01).p).toBeCloseTo(0.01);
    // 20 runs' worth of prior at 5 % against 30 of 60 recent runs failed: (1 + 30) / 80
    expect(failureProbability([50], { judged: 60, failed: 30 }).p).toBeCloseTo(31 / 80);
    expect(failureProbability([100], { judged: 60, failed: 30 }).observed).toBeCloseTo(0.5);
  });
});

describe('bundle composition', () => {
  it('takes from the head in work order up to the chosen size, and records why', () => {
    const got = composeBundle([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => c(i, 100)), rules, none);
    expect(got.members.map((m) => m.queueId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(got.policy.chosen).toBe(8);
    expect(got.policy.why).toMatch(/binary splitting's size 8 .*Dorfman's two-stage size would be/);
  });

  it('bundle.max_size = 1 is one erratum per run', () => {
    const got = composeBundle([c(1), c(2)], { ...rules, maxSize: 1 }, none);
    expect(got.members.map((m) => m.queueId)).toEqual([1]);
    expect(got.policy.why).toMatch(/max_size is 1/);
  });

  it('with bundle.kernel_alone = 1 a kernel erratum is tested alone: never two kernels, never a kernel with a non-kernel erratum', () => {
    const alone = { ...rules, kernelAlone: true };
    const head = composeBundle([c(1, 90, true), c(2), c(3, 90, true), c(4)], alone, none);
    expect(head.members.map((m) => m.queueId)).toEqual([1]);
    expect(head.policy.why).toMatch(/kernel erratum: tested alone/);
    const later = composeBundle([c(2), c(3, 90, true), c(4), c(5, 90, true)], alone, none);
    expect(later.members.map((m) => m.queueId)).toEqual([2, 4]);
    expect(later.policy.skipped.map((s) => s.queueId)).toEqual([3, 5]);
    expect(later.policy.skipped[0]?.why).toMatch(/kernel/);
  });

  it('with bundle.kernel_alone = 0 a kernel erratum shares a bundle with non-kernel errata, one kernel at most', () => {
    const open = { ...rules, kernelAlone: false };
    const head = composeBundle([c(1, 90, true), c(2), c(3, 90, true), c(4)], open, none);
    expect(head.members.map((m) => m.queueId)).toEqual([1, 2, 4]);
    expect(head.policy.skipped).toMatchObject([{ queueId: 3, why: expect.stringMatching(/second kernel erratum/) }]);
    const later = composeBundle([c(2), c(3, 90, true), c(4), c(5, 90, true)], open, none);
    expect(later.members.map((m) => m.queueId)).toEqual([2, 3, 4]);
    expect(later.members.filter((m) => m.hasKernel)).toHaveLength(1);
  });

  it('two errata of one package never share a bundle (the newer would make the older not applicable)', () => {
    const withPkgs = (id: number, pkgs: string[]) => ({ ...c(id), packageNames: pkgs });
    const got = composeBundle([withPkgs(1, ['openssl', 'libssl3']), withPkgs(2, ['curl']), withPkgs(3, ['libssl3']), withPkgs(4, ['curl', 'libcurl4']), withPkgs(5, ['tzdata'])], rules, none);
    expect(got.members.map((m) => m.queueId)).toEqual([1, 2, 5]);
    expect(got.policy.skipped).toMatchObject([
      { queueId: 3, why: expect.stringMatching(/updates libssl3 like USN-1-1/) },
      { queueId: 4, why: expect.stringMatching(/updates curl like USN-2-1/) },
    ]);
  });

  it('spreads a large package group over successive bundles instead of leaving it to the tail, in work order', () => {
    const p = (id: number, pkg: string, kernel = false) => ({ ...c(id, 90, kernel), packageNames: [pkg] });
    // 12 errata: 4 of "linux" at the end of the work order, 8 of distinct packages; bundles of 4 (maxSize 4).
    const queue = [...Array.from({ length: 8 }, (_, i) => p(i + 1, `pkg${i + 1}`)), p(9, 'linux', true), p(10, 'linux', true), p(11, 'linux', true), p(12, 'linux', true)];
    const open = { ...rules, maxSize: 4, kernelAlone: false };
    const first = composeBundle(queue, open, none);
    // ⌈12 / 4⌉ = 3 bundles would do for the rest, but "linux" needs 4 runs: its first erratum joins now.
    expect(first.members.map((m) => m.queueId)).toEqual([1, 2, 3, 9]);
    expect(first.policy.spread).toMatchObject([{ queueId: 9, why: expect.stringMatching(/one of 4 queued errata of one package group/) }]);
    expect(first.policy.why).toMatch(/1 taken ahead of the work order/);
    // Drained bundle by bundle, the queue needs 4 bundles (the package group's floor), each holding one of linux.
    let left = [...queue];
    const bundles: number[][] = [];
    while (left.length) {
      const got = composeBundle(left, open, none).members.map((m) => m.queueId);
      bundles.push(got);
      left = left.filter((x) => !got.includes(x.queueId));
    }
    expect(bundles).toHaveLength(4);
    for (const b of bundles) expect(b.filter((id) => id >= 9)).toHaveLength(1);
    // Left to the work order alone, the same queue takes 5 bundles (the last ones one linux erratum each).
    const small = composeBundle(queue.slice(0, 6), open, none);
    expect(small.policy.spread).toEqual([]);
  });

  it('kernel errata count as one group (one per bundle) though their package names differ by ABI', () => {
    const p = (id: number, pkg: string, kernel = false) => ({ ...c(id, 90, kernel), packageNames: [pkg] });
    const queue = [...Array.from({ length: 6 }, (_, i) => p(i + 1, `pkg${i + 1}`)), p(7, 'linux-image-6.8.0-31-generic', true), p(8, 'linux-image-6.8.0-33-generic', true), p(9, 'linux-image-6.8.0-35-generic', true)];
    const first = composeBundle(queue, { ...rules, maxSize: 4, kernelAlone: false }, none);
    // ⌈9 / 4⌉ = 3 ≤ 3 kernels: the first kernel joins the first bundle, one kernel only
    expect(first.members.map((m) => m.queueId)).toEqual([1, 2, 3, 7]);
    expect(first.policy.spread.map((x) => x.queueId)).toEqual([7]);
  });

  it('a group below ⌈queued / size⌉ is not spread, and priority_override comes before any spreading', () => {
    const p = (id: number, pkg: string, priorityOverride: number | null = null) => ({ ...c(id, 90), packageNames: [pkg], priorityOverride });
    const queue = [p(1, 'a', 1), p(2, 'b', 2), p(3, 'c', 3), p(4, 'd'), p(5, 'e'), p(6, 'x'), p(7, 'x'), p(8, 'x')];
    const got = composeBundle(queue, { ...rules, maxSize: 4 }, none);
    // ⌈8 / 4⌉ = 2 ≤ 3 of "x": one of x joins, but only after the three overrides.
    expect(got.members.map((m) => m.queueId)).toEqual([1, 2, 3, 6]);
    const calm = composeBundle([p(1, 'a'), p(2, 'b'), p(3, 'c'), p(4, 'd'), p(5, 'x'), p(6, 'x')], { ...rules, maxSize: 4 }, none);
    // ⌈6 / 4⌉ = 2 ≤ 2 of "x": x joins ahead of d.
    expect(calm.members.map((m) => m.queueId)).toEqual([1, 2, 3, 5]);
    const none2 = composeBundle([p(1, 'a'), p(2, 'b'), p(3, 'c'), p(4, 'd'), p(5, 'e'), p(6, 'f'), p(7, 'g'), p(8, 'h'), p(9, 'x'), p(10, 'x')], { ...rules, maxSize: 4 }, none);
    // ⌈10 / 4⌉ = 3 > 2 of "x": the work order alone.
    expect(none2.members.map((m) => m.queueId)).toEqual([1, 2, 3, 4]);
  });

  it('package groups are linked through any shared package', () => {
    const g = packageGroups([{ ...c(1), packageNames: ['a', 'b'] }, { ...c(2), packageNames: ['b', 'c'] }, { ...c(3), packageNames: ['c'] }, { ...c(4), packageNames: ['d'] }, c(5)]);
    expect(g.groupOf.get(1)).toBe(g.groupOf.get(3));
    expect(g.groupOf.get(4)).not.toBe(g.groupOf.get(1));
    expect(g.size.get(g.groupOf.get(1) as number)).toBe(3);
    expect(g.size.get(g.groupOf.get(5) as number)).toBe(1);
  });

  it('an erratum scoring below the threshold is tested alone', () => {
    expect(composeBundle([c(1, 10), c(2), c(3)], rules, none).members.map((m) => m.queueId)).toEqual([1]);
    const got = composeBundle([c(1), c(2, 39), c(3)], rules, none);
    expect(got.members.map((m) => m.queueId)).toEqual([1, 3]);
    expect(got.policy.skipped[0]?.why).toMatch(/alone/);
  });

  it('a high observed failure rate makes testing one by one', () => {
    const got = composeBundle([c(1), c(2), c(3)], rules, { judged: 50, failed: 40 });
    expect(got.members).toHaveLength(1);
    expect(got.policy.why).toMatch(/one by one/);
  });

  it('a moderate failure rate gives a smaller bundle than a low one', () => {
    const many = Array.from({ length: 20 }, (_, i) => c(i + 1, 90));
    const low = composeBundle(many, { ...rules, maxSize: 20 }, { judged: 100, failed: 1 });
    const mid = composeBundle(many, { ...rules, maxSize: 20 }, { judged: 100, failed: 10 });
    expect(low.members.length).toBeGreaterThan(mid.members.length);
    expect(mid.members.length).toBeGreaterThan(1);
  });
});
