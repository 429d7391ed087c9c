import { describe, expect, it } from 'vitest';
import { aboveCeilings, judgeSettled } from '../../../domain/baseline.js';

const series = (cpu: number[], memory: number[]) => ({
  cpu: cpu.map((v, i) => [1000 + i, v] as const),
  memory: memory.map((v, i) => [1000 + i, v] as const),
});
const tolerance = { cpuSpread: 5, memorySpread: 3, minSamples: 3 };

describe('judgeSettled: is the test system at rest?', () => {
  it('a flat window is settled, with its spreads', () => {
    expect(judgeSettled(series([10, 12, 11, 14], [40, 41, 40.5, 42]), tolerance)).toEqual({ settled: true, cpuSpread: 4, memorySpread: 2, reasons: [] });
  });
  it('a spread exactly at the tolerance is settled; just above is not', () => {
    expect(judgeSettled(series([10, 15, 10], [40, 43, 40]), tolerance).settled).toBe(true);
    expect(judgeSettled(series([10, 15.1, 10], [40, 40, 40]), tolerance)).toEqual({
      settled: false, cpuSpread: 5.1, memorySpread: 0, reasons: ['cpu moved 5.1 pp across the window (at most 5 pp when at rest)'],
    });
  });
  it("the tail of an earlier test's spike, and a leak still climbing, are not at rest", () => {
    expect(judgeSettled(series([45, 30, 12, 6], [40, 40, 40, 40]), tolerance).reasons).toEqual(['cpu moved 39 pp across the window (at most 5 pp when at rest)']);
    expect(judgeSettled(series([5, 5, 5, 5], [50, 51, 52, 53, 54]), tolerance).reasons).toEqual(['memory moved 4 pp across the window (at most 3 pp when at rest)']);
  });
  it('too few samples are never settled, whatever they say', () => {
    expect(judgeSettled(series([5, 5], [40, 40, 40]), tolerance)).toMatchObject({ settled: false, reasons: ['only 2 samples, at least 3 needed'] });
    expect(judgeSettled(series([], []), tolerance).settled).toBe(false);
  });
});

describe('aboveCeilings: a level no verdict can be read against', () => {
  it('names each level above its ceiling; at the ceiling is fine', () => {
    expect(aboveCeilings({ cpuPercent: 90, memoryPercent: 90 }, { cpu: 90, memory: 90 })).toEqual([]);
    expect(aboveCeilings({ cpuPercent: 91, memoryPercent: 98 }, { cpu: 90, memory: 90 })).toEqual([
      'cpu is at 91 % before the patch, above the 90 % ceiling',
      'memory is at 98 % before the patch, above the 90 % ceiling',
    ]);
  });
});
