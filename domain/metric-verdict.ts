import { judge, type JudgeSettings, type MetricInput, type MetricSpec, type Verdict } from './judge.js';

/**
 * The metric part of a patch test's verdict: Kayenta's judge (domain/judge.ts) comparing the baseline window's
 * samples (control: the system at rest before the patch) with the after window's (experiment: after the settle,
 * and after the reboot when there was one), as /work/shared/reference/canary-judge.md "Applying it here" says.
 * Only rises of CPU and memory count; the configured `test.*_delta_threshold`s are the allowed effect sizes
 * (percentage points of the Hodges–Lehmann shift: a rise exactly at its threshold passes, strictly above fails
 * when it is also significant). Both metrics are critical: either one high fails the test. A metric without
 * enough samples is no pass (the verdict is nodata or capped per `nodataPolicy`, and only `pass` passes).
 * The absolute ceilings stay as they were: an after level above `cpuCeiling` / `memoryCeiling` (the window's
 * mean, percent) fails whatever the baseline. Pure (no I/O).
 */

/** One window: its mean levels (percent) and the samples they are the mean of, [epoch seconds, percent]. */
export interface MetricWindow {
  cpuPercent: number;
  memoryPercent: number;
  series?: { cpu: readonly (readonly [number, number])[]; memory: readonly (readonly [number, number])[] };
}

export interface MetricThresholds {
  /** Largest allowed CPU rise, in percentage points (the allowed effect size). */
  cpuDelta: number;
  /** Largest allowed memory rise, in percentage points. */
  memoryDelta: number;
  /** Highest allowed CPU % after the patch, whatever it was before (a busy system stays failed). */
  cpuCeiling?: number;
  /** Highest allowed memory % after the patch: 90 % does not pass because it was 88 % before. */
  memoryCeiling?: number;
}

export interface MetricVerdict {
  /** Difference of the window means, after − before, percentage points (what the dashboard shows). */
  cpuDelta: number;
  memoryDelta: number;
  /** The judge classified the metric high. */
  cpuExceeded: boolean;
  memoryExceeded: boolean;
  /** The level after the patch is above its ceiling. */
  cpuAboveCeiling: boolean;
  memoryAboveCeiling: boolean;
  passed: boolean;
  /** One line per reason it did not pass; empty when passed. */
  reasons: string[];
  /** The judge's full verdict and the samples it judged (stored in `verdicts`). */
  judged: Verdict;
  inputs: MetricInput[];
}

// Deltas are rounded to 1e-9 pp: 30.1 − 20.1 is 10.000000000000002 in binary floating point.
const PRECISION = 1e9;
const round = (value: number): number => Math.round(value * PRECISION) / PRECISION;
const show = (value: number): string => String(Math.round(value * 1e6) / 1e6);

function assertFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${String(value)}`);
}

const values = (points: readonly (readonly [number, number])[] | undefined): number[] => (points ?? []).map(([, v]) => v);

/** The judge's metric specs for a patch test: rises only, the thresholds as allowed effect sizes, both critical. */
export function testMetricSpecs(thresholds: Pick<MetricThresholds, 'cpuDelta' | 'memoryDelta'>): MetricSpec[] {
  return [
    { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: thresholds.cpuDelta, critical: true },
    { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: thresholds.memoryDelta, critical: true },
  ];
}

/** Judges the after window against the baseline window. Throws RangeError for non-finite levels or negative thresholds. */
export function judgeTestMetrics(before: MetricWindow, after: MetricWindow, thresholds: MetricThresholds, settings: JudgeSettings): MetricVerdict {
  assertFinite('before.cpuPercent', before.cpuPercent);
  assertFinite('before.memoryPercent', before.memoryPercent);
  assertFinite('after.cpuPercent', after.cpuPercent);
  assertFinite('after.memoryPercent', after.memoryPercent);
  assertFinite('thresholds.cpuDelta', thresholds.cpuDelta);
  assertFinite('thresholds.memoryDelta', thresholds.memoryDelta);
  if (thresholds.cpuDelta < 0 || thresholds.memoryDelta < 0) throw new RangeError('thresholds must not be negative');

  const [cpuSpec, memorySpec] = testMetricSpecs(thresholds) as [MetricSpec, MetricSpec];
  const inputs: MetricInput[] = [
    { spec: cpuSpec, control: values(before.series?.cpu), experiment: values(after.series?.cpu) },
    { spec: memorySpec, control: values(before.series?.memory), experiment: values(after.series?.memory) },
  ];
  const judged = judge(inputs, settings);
  const of = (name: string) => judged.metrics.find((m) => m.name === name);
  const cpuExceeded = of('cpu')?.classification === 'high';
  const memoryExceeded = of('memory')?.classification === 'high';
  const cpuDelta = round(after.cpuPercent - before.cpuPercent);
  const memoryDelta = round(after.memoryPercent - before.memoryPercent);
  const cpuAboveCeiling = thresholds.cpuCeiling !== undefined && round(after.cpuPercent) > thresholds.cpuCeiling;
  const memoryAboveCeiling = thresholds.memoryCeiling !== undefined && round(after.memoryPercent) > thresholds.memoryCeiling;

  const reasons: string[] = [];
  if (judged.verdict !== 'pass') {
    const notPass = judged.metrics.filter((m) => m.classification !== 'pass');
    for (const m of notPass) {
      if (m.classification === 'high') {
        const threshold = m.name === 'cpu' ? thresholds.cpuDelta : thresholds.memoryDelta;
        const [b, a] = m.name === 'cpu' ? [before.cpuPercent, after.cpuPercent] : [before.memoryPercent, after.memoryPercent];
        reasons.push(`${m.name} rose ${show(m.test?.estimate ?? a - b)} pp (${show(b)}% → ${show(a)}%), above the ${show(threshold)} pp threshold — ${m.reason}`);
      } else reasons.push(m.reason);
    }
    if (notPass.length === 0) reasons.push(judged.reason);
  }
  if (cpuAboveCeiling) reasons.push(`cpu is at ${show(after.cpuPercent)}% after the patch, above the ${show(thresholds.cpuCeiling as number)}% ceiling`);
  if (memoryAboveCeiling) reasons.push(`memory is at ${show(after.memoryPercent)}% after the patch, above the ${show(thresholds.memoryCeiling as number)}% ceiling`);
  const passed = judged.verdict === 'pass' && !cpuAboveCeiling && !memoryAboveCeiling;
  return { cpuDelta, memoryDelta, cpuExceeded, memoryExceeded, cpuAboveCeiling, memoryAboveCeiling, passed, reasons, judged, inputs };
}
