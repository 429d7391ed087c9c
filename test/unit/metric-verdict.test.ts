// The patch test's metric verdict: the judge (Mann-Whitney, Hodges–Lehmann shift) on the baseline window's
// samples against the after window's, the test.* thresholds as allowed rises (points); at the threshold passes,
// strictly above fails with a reason naming metric, values and threshold; ceilings stay absolute.
import { describe, expect, it } from 'vitest';
import type { JudgeSettings } from '../../domain/judge.js';
import { judgeTestMetrics, testMetricSpecs, type MetricWindow } from '../../domain/metric-verdict.js';

const SETTINGS: JudgeSettings = { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 75, nodataPolicy: 'marginal' };
const thresholds = { cpuDelta: 10, memoryDelta: 5 };

/** A window of `n` samples a second apart around a level, with a small alternating wobble (a real host moves). */
function window(cpu: number, memory: number, options: { n?: number; wobble?: number; start?: number } = {}): MetricWindow {
  const { n = 11, wobble = 0.2, start = 1_796_000_000 } = options;
  const at = (level: number, i: number) => [start + i, level + (i % 2 ? wobble : -wobble) * ((i % 3) / 2)] as const;
  const cpuSeries = Array.from({ length: n }, (_, i) => at(cpu, i));
  const memorySeries = Array.from({ length: n }, (_, i) => at(memory, i));
  const mean = (s: (readonly [number, number])[]) => s.reduce((a, [, v]) => a + v, 0) / s.length;
  return { cpuPercent: mean(cpuSeries), memoryPercent: mean(memorySeries), series: { cpu: cpuSeries, memory: memorySeries } };
}
const flat = (cpu: number, memory: number, n = 11): MetricWindow => window(cpu, memory, { n, wobble: 0 });

describe('judgeTestMetrics', () => {
  it.each([
    ['equal', flat(20, 40), flat(20, 40), false, false],
    ['just under both', window(20, 40), window(29.9, 44.9), false, false],
    ['exactly at both (float noise absorbed)', flat(20.1, 40.2), flat(30.1, 45.2), false, false],
    ['cpu just above', window(20, 40), window(30.25, 40), true, false],
    ['memory just above', window(20, 40), window(20, 45.25), false, true],
    ['both exceeded (the lab cpu_spike and memory_leak sizes)', window(5, 30), window(45, 50), true, true],
    ['usage fell a lot: a fall never fails', window(80, 90), window(10, 20), false, false],
  ])('%s', (_label, before, after, cpuExceeded, memoryExceeded) => {
    const verdict = judgeTestMetrics(before, after, thresholds, SETTINGS);
    expect(verdict.cpuDelta).toBeCloseTo(after.cpuPercent - before.cpuPercent, 9);
    expect(verdict.memoryDelta).toBeCloseTo(after.memoryPercent - before.memoryPercent, 9);
    expect(verdict).toMatchObject({ cpuExceeded, memoryExceeded, passed: !cpuExceeded && !memoryExceeded });
    expect(verdict.reasons).toHaveLength(Number(cpuExceeded) + Number(memoryExceeded));
    expect(verdict.judged.verdict).toBe(cpuExceeded || memoryExceeded ? 'fail' : 'pass');
    expect(verdict.inputs.map((i) => i.control.length)).toEqual([before.series!.cpu.length, before.series!.memory.length]);
  });

  it('names the metric, both levels, the threshold and the statistics', () => {
    const verdict = judgeTestMetrics(flat(12.5, 40), flat(30, 47.25), thresholds, SETTINGS);
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toHaveLength(2);
    expect(verdict.reasons[0]).toMatch(/^cpu rose 17\.5 pp \(12\.5% → 30%\), above the 10 pp threshold — cpu: high — HL shift \+17\.5 pp, 98 % CI 17\.5…17\.5, p=/);
    expect(verdict.reasons[1]).toMatch(/^memory rose 7\.25 pp \(40% → 47\.25%\), above the 5 pp threshold — memory: high/);
  });

  it('one high sample is not a rise: the judge looks at the whole window, not a mean a spike pulls up', () => {
    const before = flat(20, 40);
    const after = flat(20, 40);
    const spiky = { ...after, series: { ...after.series!, cpu: after.series!.cpu.map(([t, v], i) => [t, i === 5 ? 100 : v] as const) } };
    spiky.cpuPercent = spiky.series.cpu.reduce((a, [, v]) => a + v, 0) / 11; // 27.3 %: the mean rose 7.3 pp
    expect(judgeTestMetrics(before, spiky, { cpuDelta: 5, memoryDelta: 5 }, SETTINGS)).toMatchObject({ passed: true, cpuExceeded: false });
  });

  it('a spike too short in the window to be significant still fails on the threshold (the bundle false green of 2026-12-07)', () => {
    const at = (values: number[]) => values.map((v, i) => [1_796_000_000 + i, v] as const);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const c = [13.25, 13.25, 13, 13, 13, 13.25, 13.25];
    const e = [13.25, 13, 33, 53.12, 53.25, 53.13, 53];
    const m = [20.9, 20.9, 20.9, 20.9, 20.9, 20.9, 20.9];
    const before: MetricWindow = { cpuPercent: mean(c), memoryPercent: 20.9, series: { cpu: at(c), memory: at(m) } };
    const after: MetricWindow = { cpuPercent: mean(e), memoryPercent: 20.9, series: { cpu: at(e), memory: at(m) } };
    const verdict = judgeTestMetrics(before, after, { cpuDelta: 20, memoryDelta: 20 }, SETTINGS);
    expect(verdict).toMatchObject({ passed: false, cpuExceeded: true, memoryExceeded: false, judged: { verdict: 'fail' } });
    expect(verdict.reasons[0]).toMatch(/^cpu rose 39\.\d+ pp .*above the 20 pp threshold — cpu: high by effect size — not significant/);
  });

  it('zero thresholds fail any significant rise and pass no change', () => {
    expect(judgeTestMetrics(flat(1, 1), flat(1, 1), { cpuDelta: 0, memoryDelta: 0 }, SETTINGS).passed).toBe(true);
    expect(judgeTestMetrics(flat(1, 1), flat(1.1, 1), { cpuDelta: 0, memoryDelta: 0 }, SETTINGS).cpuExceeded).toBe(true);
  });

  it('too few samples: a rise that cannot be shown is no data — never a pass; every pair beyond the threshold is a fail; no change beyond it is a pass', () => {
    // every after sample 25 pp above every before sample (allowed +10): a proven rise
    const rose = judgeTestMetrics(flat(20, 40, 3), flat(45, 40, 3), thresholds, SETTINGS);
    expect(rose).toMatchObject({ passed: false, cpuExceeded: true, judged: { verdict: 'fail' } });
    expect(rose.reasons[0]).toMatch(/every pairwise change is beyond the allowed \+10 pp/);
    // 25, 45, 28 after a flat 20: neither bounded within +10 nor beyond it
    const mixed = { cpuPercent: 32.7, memoryPercent: 40, series: { cpu: [[0, 25], [1, 45], [2, 28]] as [number, number][], memory: [[0, 40], [1, 40], [2, 40]] as [number, number][] } };
    const verdict = judgeTestMetrics(flat(20, 40, 3), mixed, thresholds, SETTINGS);
    expect(verdict.passed).toBe(false);
    expect(verdict.judged.verdict).toBe('marginal'); // memory passes, cpu has no data: capped by nodataPolicy
    expect(verdict.reasons).toEqual(['cpu: no data — 3 experiment and 3 control samples, at least 5 each needed']);
    expect(judgeTestMetrics(flat(20, 40, 3), mixed, thresholds, { ...SETTINGS, nodataPolicy: 'fail' }).judged.verdict).toBe('fail');
    const quiet = judgeTestMetrics(window(20, 40, { n: 3 }), window(22, 41, { n: 3 }), thresholds, SETTINGS);
    expect(quiet).toMatchObject({ passed: true, cpuExceeded: false, memoryExceeded: false });
    expect(quiet.judged.metrics[0]!.reason).toMatch(/too few for a test, but every pairwise change is within the allowed \+10 pp/);
    const noSeries = judgeTestMetrics({ cpuPercent: 1, memoryPercent: 1 }, flat(1, 1), thresholds, SETTINGS);
    expect(noSeries).toMatchObject({ passed: false, judged: { verdict: 'nodata' } });
  });

  it('the specs: rises only, thresholds as allowed effect sizes, both critical', () => {
    expect(testMetricSpecs({ cpuDelta: 20, memoryDelta: 15 })).toEqual([
      { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 20, critical: true },
      { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 15, critical: true },
    ]);
  });
});

describe('judgeTestMetrics: absolute ceilings', () => {
  const withCeilings = { cpuDelta: 10, memoryDelta: 5, cpuCeiling: 90, memoryCeiling: 90 };
  it('90 % memory after 88 % before fails on the ceiling, not on the rise', () => {
    const verdict = judgeTestMetrics(flat(20, 88), flat(20, 90.5), withCeilings, SETTINGS);
    expect(verdict.passed).toBe(false);
    expect(verdict.memoryExceeded).toBe(false);
    expect(verdict.reasons).toEqual(['memory is at 90.5% after the patch, above the 90% ceiling']);
  });
  it('exactly at a ceiling passes; no ceiling given means none applies', () => {
    expect(judgeTestMetrics(flat(85, 88), flat(90, 90), withCeilings, SETTINGS).passed).toBe(true);
    expect(judgeTestMetrics(flat(85, 88), flat(95, 93), { cpuDelta: 10, memoryDelta: 5 }, SETTINGS).passed).toBe(true);
    expect(judgeTestMetrics(flat(85, 88), flat(95, 88), withCeilings, SETTINGS).reasons).toEqual(['cpu is at 95% after the patch, above the 90% ceiling']);
  });
});
