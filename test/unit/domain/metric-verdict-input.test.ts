import { describe, expect, it } from 'vitest';
import type { JudgeSettings } from '../../../domain/judge.js';
import { judgeTestMetrics } from '../../../domain/metric-verdict.js';

// Bad readings are refused naming the field, so a broken Prometheus answer reads as such in the test's record.
const ok = { cpuPercent: 10, memoryPercent: 20 };
const limits = { cpuDelta: 5, memoryDelta: 5 };
const SETTINGS: JudgeSettings = { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 75, nodataPolicy: 'marginal' };

describe('judgeTestMetrics refuses readings it cannot judge', () => {
  it.each([
    ['before.cpuPercent', { ...ok, cpuPercent: Number.NaN }, ok, limits, 'NaN'],
    ['before.memoryPercent', { ...ok, memoryPercent: Number.POSITIVE_INFINITY }, ok, limits, 'Infinity'],
    ['after.cpuPercent', ok, { ...ok, cpuPercent: '12' as unknown as number }, limits, '12'],
    ['after.memoryPercent', ok, { ...ok, memoryPercent: Number.NaN }, limits, 'NaN'],
    ['thresholds.cpuDelta', ok, ok, { ...limits, cpuDelta: Number.NaN }, 'NaN'],
    ['thresholds.memoryDelta', ok, ok, { ...limits, memoryDelta: Number.NEGATIVE_INFINITY }, '-Infinity'],
  ])('%s', (name, before, after, thresholds, got) => {
    expect(() => judgeTestMetrics(before, after, thresholds, SETTINGS)).toThrow(new RangeError(`${name} must be a finite number, got ${got}`));
  });
  it('negative thresholds, either one', () => {
    expect(() => judgeTestMetrics(ok, ok, { cpuDelta: -1, memoryDelta: 5 }, SETTINGS)).toThrow(new RangeError('thresholds must not be negative'));
    expect(() => judgeTestMetrics(ok, ok, { cpuDelta: 5, memoryDelta: -0.1 }, SETTINGS)).toThrow(new RangeError('thresholds must not be negative'));
  });
});
