// The metric verdict table: deltas in percentage points (after − before); at the threshold
// passes, strictly above fails with a reason naming metric, values and threshold.
import { describe, expect, it } from 'vitest';
import { compareMetrics } from '../../domain/metric-verdict.js';

const thresholds = { cpuDelta: 10, memoryDelta: 5 };
const reading = (cpuPercent: number, memoryPercent: number) => ({ cpuPercent, memoryPercent });

describe('compareMetrics', () => {
  it.each([
    ['equal', reading(20, 40), reading(20, 40), 0, 0, false, false],
    ['just under both', reading(20, 40), reading(29.99, 44.99), 9.99, 4.99, false, false],
    ['exactly at both (float noise absorbed)', reading(20.1, 40.2), reading(30.1, 45.2), 10, 5, false, false],
    ['cpu just above', reading(20, 40), reading(30.01, 40), 10.01, 0, true, false],
    ['memory just above', reading(20, 40), reading(20, 45.01), 0, 5.01, false, true],
    ['both exceeded', reading(5, 30), reading(60, 80), 55, 50, true, true],
    ['negative deltas (usage fell)', reading(80, 90), reading(10, 20), -70, -70, false, false],
  ])('%s', (_label, before, after, cpuDelta, memoryDelta, cpuExceeded, memoryExceeded) => {
    const verdict = compareMetrics(before, after, thresholds);
    expect(verdict.cpuDelta).toBeCloseTo(cpuDelta, 9);
    expect(verdict.memoryDelta).toBeCloseTo(memoryDelta, 9);
    expect(verdict).toMatchObject({ cpuExceeded, memoryExceeded, passed: !cpuExceeded && !memoryExceeded });
    expect(verdict.reasons).toHaveLength(Number(cpuExceeded) + Number(memoryExceeded));
  });

  it('names the metric, both values and the threshold', () => {
    const verdict = compareMetrics(reading(12.5, 40), reading(30, 47.25), thresholds);
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual([
      'cpu rose 17.5 pp (12.5% → 30%), above the 10 pp threshold',
      'memory rose 7.25 pp (40% → 47.25%), above the 5 pp threshold',
    ]);
  });

  it('zero thresholds fail any rise and pass no change', () => {
    expect(compareMetrics(reading(1, 1), reading(1, 1), { cpuDelta: 0, memoryDelta: 0 }).passed).toBe(true);
    expect(compareMetrics(reading(1, 1), reading(1.001, 1), { cpuDelta: 0, memoryDelta: 0 }).cpuExceeded).toBe(true);
  });

  it.each([
    ['NaN before', reading(Number.NaN, 1), reading(1, 1), thresholds],
    ['Infinity after', reading(1, 1), reading(1, Number.POSITIVE_INFINITY), thresholds],
    ['NaN threshold', reading(1, 1), reading(1, 1), { cpuDelta: Number.NaN, memoryDelta: 5 }],
    ['negative threshold', reading(1, 1), reading(1, 1), { cpuDelta: -1, memoryDelta: 5 }],
  ])('throws on %s', (_label, before, after, limits) => {
    expect(() => compareMetrics(before, after, limits)).toThrow(RangeError);
  });
});

describe('compareMetrics: absolute ceilings', () => {
  const withCeilings = { cpuDelta: 10, memoryDelta: 5, cpuCeiling: 90, memoryCeiling: 90 };
  it('90 % memory after 88 % before fails on the ceiling, not on the delta', () => {
    const verdict = compareMetrics(reading(20, 88), reading(20, 90.5), withCeilings);
    expect(verdict.passed).toBe(false);
    expect(verdict.memoryExceeded).toBe(false);
    expect(verdict.reasons).toEqual(['memory is at 90.5% after the patch, above the 90% ceiling']);
  });
  it('exactly at a ceiling passes; no ceiling given means none applies', () => {
    expect(compareMetrics(reading(85, 88), reading(90, 90), withCeilings).passed).toBe(true);
    expect(compareMetrics(reading(85, 88), reading(95, 93), { cpuDelta: 10, memoryDelta: 5 }).passed).toBe(true);
    expect(compareMetrics(reading(85, 88), reading(95, 88), withCeilings).reasons).toEqual(['cpu is at 95% after the patch, above the 90% ceiling']);
  });
});
