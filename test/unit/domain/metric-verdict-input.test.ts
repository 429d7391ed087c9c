import { describe, expect, it } from 'vitest';
import { compareMetrics } from '../../../domain/metric-verdict.js';

// Bad readings are refused naming the field, so a broken Prometheus answer reads as such in the test's record.
const ok = { cpuPercent: 10, memoryPercent: 20 };
const limits = { cpuDelta: 5, memoryDelta: 5 };

describe('compareMetrics refuses readings it cannot judge', () => {
  it.each([
    ['before.cpuPercent', { ...ok, cpuPercent: Number.NaN }, ok, limits, 'NaN'],
    ['before.memoryPercent', { ...ok, memoryPercent: Number.POSITIVE_INFINITY }, ok, limits, 'Infinity'],
    ['after.cpuPercent', ok, { ...ok, cpuPercent: '12' as unknown as number }, limits, '12'],
    ['after.memoryPercent', ok, { ...ok, memoryPercent: Number.NaN }, limits, 'NaN'],
    ['thresholds.cpuDelta', ok, ok, { ...limits, cpuDelta: Number.NaN }, 'NaN'],
    ['thresholds.memoryDelta', ok, ok, { ...limits, memoryDelta: Number.NEGATIVE_INFINITY }, '-Infinity'],
  ])('%s', (name, before, after, thresholds, got) => {
    expect(() => compareMetrics(before, after, thresholds)).toThrow(new RangeError(`${name} must be a finite number, got ${got}`));
  });
  it('negative thresholds, either one', () => {
    expect(() => compareMetrics(ok, ok, { cpuDelta: -1, memoryDelta: 5 })).toThrow(new RangeError('thresholds must not be negative'));
    expect(() => compareMetrics(ok, ok, { cpuDelta: 5, memoryDelta: -0.1 })).toThrow(new RangeError('thresholds must not be negative'));
  });
});
