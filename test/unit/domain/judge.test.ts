import { describe, expect, it } from 'vitest';
import { assertJudgeSettings, classifyMetric, judge, type JudgeSettings, type MetricSpec } from '../../../domain/judge.js';

const SETTINGS: JudgeSettings = { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 75, nodataPolicy: 'marginal' };
const cpu: MetricSpec = { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 };
const memory: MetricSpec = { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 };

// Deterministic noise around a level: a quiet host's CPU % moves a point or so between scrapes.
const around = (level: number, count: number, spread = 1, seed = 1) => {
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (s * 16807) % 2147483647;
    return Math.round((level + spread * (s / 2147483647 - 0.5) * 2) * 100) / 100;
  });
};

describe('classifyMetric', () => {
  it('a clear rise beyond the allowance is high, with the statistics in the reason', () => {
    const j = classifyMetric({ spec: cpu, control: around(10, 12), experiment: around(45, 12, 1, 3) }, SETTINGS);
    expect(j.classification).toBe('high');
    expect(j.test?.estimate).toBeGreaterThan(30);
    expect(j.test?.lower).toBeGreaterThan(5);
    expect(j.meanRatio).toBeGreaterThan(4);
    expect(j.reason).toMatch(/^cpu: high — HL shift \+3\d\.\d+ pp, 98 % CI .*p=.*beyond the allowed \+5 pp$/);
  });
  it('a significant rise within the allowed effect size passes, and says so', () => {
    const j = classifyMetric({ spec: cpu, control: around(10, 30, 0.5), experiment: around(13, 30, 0.5, 5) }, SETTINGS);
    expect(j.test!.lower).toBeGreaterThan(0.25 * Math.abs(j.test!.estimate)); // significant
    expect(j.classification).toBe('pass');
    expect(j.reason).toMatch(/significant rise within the allowed \+5 pp/);
  });
  it('a shift exactly at the allowance passes; just above it is high', () => {
    const control = [10, 10.5, 11, 11.5, 12, 12.5, 13];
    const at = classifyMetric({ spec: cpu, control, experiment: control.map((v) => v + 5) }, SETTINGS);
    expect(at.test?.estimate).toBe(5);
    expect(at.classification).toBe('pass');
    const above = classifyMetric({ spec: cpu, control, experiment: control.map((v) => v + 5.25) }, SETTINGS);
    expect(above.classification).toBe('high');
  });
  it('no allowance: any significant rise is high (Kayenta without effect sizes)', () => {
    const control = [10, 10.5, 11, 11.5, 12, 12.5, 13];
    const j = classifyMetric({ spec: { ...cpu, allowedIncrease: undefined }, control, experiment: control.map((v) => v + 3) }, SETTINGS);
    expect(j.classification).toBe('high');
  });
  it('direction increase: a fall is never low; either: it is', () => {
    const control = around(40, 12);
    const experiment = around(10, 12, 1, 9);
    expect(classifyMetric({ spec: cpu, control, experiment }, SETTINGS).classification).toBe('pass');
    expect(classifyMetric({ spec: { ...cpu, direction: 'either' }, control, experiment }, SETTINGS).classification).toBe('low');
    expect(classifyMetric({ spec: { ...cpu, direction: 'decrease' }, control, experiment }, SETTINGS).classification).toBe('low');
    expect(classifyMetric({ spec: { ...cpu, direction: 'decrease' }, control: experiment, experiment: control }, SETTINGS).classification).toBe('pass');
  });
  it('ratio allowance (Kayenta allowedIncrease 1.1): a rise under 10 % passes, over it is high', () => {
    const spec: MetricSpec = { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncreaseRatio: 1.1 };
    const control = Array.from({ length: 20 }, (_, i) => 50 + i * 0.05);
    expect(classifyMetric({ spec, control, experiment: control.map((v) => v * 1.08) }, SETTINGS).classification).toBe('pass');
    expect(classifyMetric({ spec, control, experiment: control.map((v) => v * 1.12) }, SETTINGS).classification).toBe('high');
  });
  it('not significant, but a shift beyond the allowance: high by effect size, never a pass (a spike that began mid-window)', () => {
    // The samples of a bundle run whose after window began before the spike (2026-12-07): 7 a side, the 98 %
    // interval reaches 0, so the test alone cannot show the +40 pp rise the fixed delta sees.
    const control = [13.25, 13.25, 13, 13, 13, 13.25, 13.25];
    const experiment = [13.25, 13, 33, 53.12, 53.25, 53.13, 53];
    const j = classifyMetric({ spec: { ...cpu, allowedIncrease: 20 }, control, experiment }, SETTINGS);
    expect(j.test!.lower).toBeLessThanOrEqual(0.25 * j.test!.estimate); // not significant
    expect(j.test!.estimate).toBeGreaterThan(20);
    expect(j.classification).toBe('high');
    expect(j.reason).toMatch(/^cpu: high by effect size — not significant at 98 % with 7 and 7 samples \(HL shift \+39\.\d+ pp, .*\), but beyond the allowed \+20 pp$/);
    // within a larger allowance it passes, saying both
    const within = classifyMetric({ spec: { ...cpu, allowedIncrease: 45 }, control, experiment }, SETTINGS);
    expect(within.classification).toBe('pass');
    expect(within.reason).toMatch(/no significant rise, and the effect is within the allowance/);
    // no allowance to hold the shift to: inconclusive (nodata), never a pass
    const none = classifyMetric({ spec: { ...cpu, allowedIncrease: undefined }, control, experiment }, SETTINGS);
    expect(none.classification).toBe('nodata');
    expect(none.reason).toMatch(/inconclusive: a rise not significant/);
    // a fall of a metric that only counts rises stays a pass
    expect(classifyMetric({ spec: { ...cpu, allowedIncrease: 20 }, control: experiment, experiment: control }, SETTINGS).classification).toBe('pass');
  });
  it('noise on both sides passes', () => {
    const j = classifyMetric({ spec: cpu, control: around(20, 15, 2), experiment: around(20, 15, 2, 11) }, SETTINGS);
    expect(j.classification).toBe('pass');
    expect(j.reason).toMatch(/no significant rise/);
  });
  it('NaN is removed, never counted as 0; too few left is nodata, never pass', () => {
    const j = classifyMetric({ spec: cpu, control: [1, 2, Number.NaN, 3, 4, 5], experiment: [Number.NaN, 5, 6, Number.POSITIVE_INFINITY, 7] }, SETTINGS);
    expect(j.classification).toBe('nodata');
    expect(j.removedNaN).toBe(3);
    expect(j.experimentCount).toBe(3);
    expect(j.reason).toBe('cpu: no data — 3 experiment and 5 control samples, at least 5 each needed (3 NaN removed)');
    expect(classifyMetric({ spec: cpu, control: [], experiment: [] }, SETTINGS).classification).toBe('nodata');
  });
  it('too few samples, but every pairwise change within the allowance: pass, and it says so', () => {
    const j = classifyMetric({ spec: cpu, control: [10, 10.4, 10.2], experiment: [12, 14.9, 13] }, SETTINGS);
    expect(j).toMatchObject({ classification: 'pass', test: null });
    expect(j.reason).toBe('cpu: pass — 3 and 3 samples, too few for a test, but every pairwise change is within the allowed +5 pp');
    // one pairwise rise above the allowance (15.1 − 10): no claim either way
    expect(classifyMetric({ spec: cpu, control: [10, 10.4, 10.2], experiment: [12, 15.1, 13] }, SETTINGS).classification).toBe('nodata');
    // every pairwise rise above it (the smallest after sample 15.5 − the largest before 10.4 > 5): a proven rise, High
    const rose = classifyMetric({ spec: cpu, control: [10, 10.4, 10.2], experiment: [15.5, 53, 40] }, SETTINGS);
    expect(rose).toMatchObject({ classification: 'high', test: null });
    expect(rose.reason).toBe('cpu: high — 3 and 3 samples, too few for a test, but every pairwise change is beyond the allowed +5 pp');
    expect(classifyMetric({ spec: cpu, control: [10, 10.4, 10.2], experiment: [15.4, 53, 40] }, SETTINGS).classification).toBe('nodata');
    expect(classifyMetric({ spec: { ...cpu, direction: 'either' as const, allowedDecrease: 1 }, control: [10, 11], experiment: [8, 8.5] }, SETTINGS).classification).toBe('low');
    // one sample a side, a ratio allowance, or no allowance: never
    expect(classifyMetric({ spec: cpu, control: [10], experiment: [10.5] }, SETTINGS).classification).toBe('nodata');
    expect(classifyMetric({ spec: { ...cpu, allowedIncreaseRatio: 2 }, control: [10, 11], experiment: [10, 11.5] }, SETTINGS).classification).toBe('nodata');
    expect(classifyMetric({ spec: { ...cpu, allowedIncrease: undefined }, control: [10, 11], experiment: [10, 11.5] }, SETTINGS).classification).toBe('nodata');
    // either direction: both bounds
    const either = { ...cpu, direction: 'either' as const, allowedDecrease: 1 };
    expect(classifyMetric({ spec: either, control: [10, 11], experiment: [10.5, 11.5] }, SETTINGS).classification).toBe('pass');
    expect(classifyMetric({ spec: either, control: [10, 11], experiment: [9.5, 11.5] }, SETTINGS).classification).toBe('nodata');
  });
  it('samples too small for any interval at the confidence are nodata, not a pass', () => {
    const j = classifyMetric({ spec: cpu, control: [1, 2, 3], experiment: [50, 60, 70] }, { ...SETTINGS, minSamples: 3 });
    expect(j.classification).toBe('nodata');
    expect(j.reason).toMatch(/too few for a 98 % interval/);
  });
  it('identical samples, or every value equal, pass without a test', () => {
    expect(classifyMetric({ spec: cpu, control: [3, 1, 2, 4, 5], experiment: [5, 4, 3, 2, 1] }, SETTINGS)).toMatchObject({ classification: 'pass', test: null });
    const tied = classifyMetric({ spec: cpu, control: [7, 7, 7, 7, 7], experiment: [7, 7, 7, 7, 7, 7] }, SETTINGS);
    expect(tied).toMatchObject({ classification: 'pass', test: null, reason: 'cpu: pass — every sample is 7 pp' });
  });
});

describe('judge: score and verdict', () => {
  const quiet = around(10, 12);
  const quiet2 = around(10, 12, 1, 7);
  const hot = around(45, 12, 1, 3);
  it('all pass → pass, score 100, continue', () => {
    const v = judge([{ spec: cpu, control: quiet, experiment: quiet2 }, { spec: memory, control: quiet, experiment: quiet2 }], SETTINGS);
    expect(v).toMatchObject({ verdict: 'pass', decision: 'continue', score: 100 });
  });
  it('score is the weight share of pass: 3 of 4 → 75 marginal (pause), 1 of 2 → 50 fail (halt)', () => {
    const m = judge([
      { spec: { ...cpu, weight: 1 }, control: quiet, experiment: hot },
      { spec: { ...memory, weight: 3 }, control: quiet, experiment: quiet2 },
    ], SETTINGS);
    expect(m).toMatchObject({ verdict: 'marginal', decision: 'pause', score: 75 });
    expect(m.reason).toMatch(/^marginal: score 75 \(pass ≥ 90, marginal ≥ 75\) — cpu: high/);
    const f = judge([{ spec: cpu, control: quiet, experiment: hot }, { spec: memory, control: quiet, experiment: quiet2 }], SETTINGS);
    expect(f).toMatchObject({ verdict: 'fail', decision: 'halt', score: 50 });
  });
  it('a critical metric high fails with score 0 whatever the weights', () => {
    const v = judge([
      { spec: { ...cpu, weight: 1, critical: true }, control: quiet, experiment: hot },
      { spec: { ...memory, weight: 99 }, control: quiet, experiment: quiet2 },
    ], SETTINGS);
    expect(v).toMatchObject({ verdict: 'fail', score: 0 });
    expect(v.reason).toMatch(/critical metric cpu is high/);
  });
  it('one metric without data caps pass at marginal (policy marginal) or fails (policy fail)', () => {
    const input = [{ spec: cpu, control: quiet, experiment: quiet2 }, { spec: memory, control: quiet, experiment: [] }];
    const m = judge(input, SETTINGS);
    expect(m).toMatchObject({ verdict: 'marginal', decision: 'pause', score: 100 });
    expect(m.reason).toMatch(/no data for memory \(policy marginal\)/);
    expect(judge(input, { ...SETTINGS, nodataPolicy: 'fail' })).toMatchObject({ verdict: 'fail', decision: 'halt' });
  });
  it('nodata never lifts a fail', () => {
    const v = judge([{ spec: cpu, control: quiet, experiment: hot }, { spec: memory, control: [], experiment: [] }], SETTINGS);
    expect(v).toMatchObject({ verdict: 'fail', score: 0 });
  });
  it('every metric without data → nodata, no score; the decision follows the policy', () => {
    const input = [{ spec: cpu, control: [], experiment: [1] }, { spec: memory, control: [Number.NaN], experiment: [] }];
    expect(judge(input, SETTINGS)).toMatchObject({ verdict: 'nodata', decision: 'pause', score: null });
    expect(judge(input, { ...SETTINGS, nodataPolicy: 'fail' })).toMatchObject({ verdict: 'nodata', decision: 'halt' });
  });
  it('refuses bad settings and inputs, naming the field', () => {
    expect(() => judge([], SETTINGS)).toThrow(/at least one metric/);
    expect(() => judge([{ spec: cpu, control: [], experiment: [] }, { spec: cpu, control: [], experiment: [] }], SETTINGS)).toThrow(/unique/);
    expect(() => assertJudgeSettings({ ...SETTINGS, confidence: 1 })).toThrow(/confidence/);
    expect(() => assertJudgeSettings({ ...SETTINGS, passScore: 70 })).toThrow(/marginalScore \(75\) ≤ passScore \(70\)/);
    expect(() => assertJudgeSettings({ ...SETTINGS, minSamples: 0 })).toThrow(/minSamples/);
    expect(() => classifyMetric({ spec: { ...cpu, weight: 0 }, control: [], experiment: [] }, SETTINGS)).toThrow(/weight/);
  });
});
