/**
 * The metric part of a patch verdict: did CPU or memory use rise by more than allowed after the
 * patch? Pure (no I/O) so workflows can call it. Deltas are percentage points, after − before; a
 * delta exactly at its threshold passes, strictly above fails. A fall never fails.
 */

export interface MetricReading {
  cpuPercent: number;
  memoryPercent: number;
}

export interface MetricThresholds {
  /** Largest allowed CPU rise, in percentage points. */
  cpuDelta: number;
  /** Largest allowed memory rise, in percentage points. */
  memoryDelta: number;
  /** Highest allowed CPU % after the patch, whatever it was before (a busy system stays failed). */
  cpuCeiling?: number;
  /** Highest allowed memory % after the patch: 90 % does not pass because it was 88 % before. */
  memoryCeiling?: number;
}

export interface MetricVerdict {
  cpuDelta: number;
  memoryDelta: number;
  cpuExceeded: boolean;
  memoryExceeded: boolean;
  /** The level after the patch is above its ceiling. */
  cpuAboveCeiling: boolean;
  memoryAboveCeiling: boolean;
  passed: boolean;
  /** One line per exceeded metric; empty when passed. */
  reasons: string[];
}

// Deltas are rounded to 1e-9 pp before comparing: 30.1 − 20.1 is 10.000000000000002 in binary
// floating point, and a rise of exactly the threshold must not fail on representation noise.
const PRECISION = 1e9;
const round = (value: number): number => Math.round(value * PRECISION) / PRECISION;
// Six decimals: a failing delta reads as different from its threshold, without float noise.
const show = (value: number): string => String(Math.round(value * 1e6) / 1e6);

function assertFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${String(value)}`);
}

export function compareMetrics(before: MetricReading, after: MetricReading, thresholds: MetricThresholds): MetricVerdict {
  assertFinite('before.cpuPercent', before.cpuPercent);
  assertFinite('before.memoryPercent', before.memoryPercent);
  assertFinite('after.cpuPercent', after.cpuPercent);
  assertFinite('after.memoryPercent', after.memoryPercent);
  assertFinite('thresholds.cpuDelta', thresholds.cpuDelta);
  assertFinite('thresholds.memoryDelta', thresholds.memoryDelta);
  if (thresholds.cpuDelta < 0 || thresholds.memoryDelta < 0) throw new RangeError('thresholds must not be negative');

  const cpuDelta = round(after.cpuPercent - before.cpuPercent);
  const memoryDelta = round(after.memoryPercent - before.memoryPercent);
  const cpuExceeded = cpuDelta > thresholds.cpuDelta;
  const memoryExceeded = memoryDelta > thresholds.memoryDelta;
  const cpuAboveCeiling = thresholds.cpuCeiling !== undefined && round(after.cpuPercent) > thresholds.cpuCeiling;
  const memoryAboveCeiling = thresholds.memoryCeiling !== undefined && round(after.memoryPercent) > thresholds.memoryCeiling;
  const reasons: string[] = [];
  if (cpuExceeded) {
    reasons.push(
      `cpu rose ${show(cpuDelta)} pp (${show(before.cpuPercent)}% → ${show(after.cpuPercent)}%), above the ${show(thresholds.cpuDelta)} pp threshold`,
    );
  }
  if (memoryExceeded) {
    reasons.push(
      `memory rose ${show(memoryDelta)} pp (${show(before.memoryPercent)}% → ${show(after.memoryPercent)}%), above the ${show(thresholds.memoryDelta)} pp threshold`,
    );
  }
  if (cpuAboveCeiling) reasons.push(`cpu is at ${show(after.cpuPercent)}% after the patch, above the ${show(thresholds.cpuCeiling as number)}% ceiling`);
  if (memoryAboveCeiling) reasons.push(`memory is at ${show(after.memoryPercent)}% after the patch, above the ${show(thresholds.memoryCeiling as number)}% ceiling`);
  const passed = !cpuExceeded && !memoryExceeded && !cpuAboveCeiling && !memoryAboveCeiling;
  return { cpuDelta, memoryDelta, cpuExceeded, memoryExceeded, cpuAboveCeiling, memoryAboveCeiling, passed, reasons };
}
