import { mannWhitney, type MannWhitneyResult } from './mann-whitney.js';

// The statistical verdict: Kayenta's judge (NetflixACAJudge → MannWhitneyClassifier → WeightedSumScorer;
// /work/shared/reference/canary-judge.md) over a few metrics, control vs experiment. Pure, no I/O.
//
// Per metric:
// - NaN / ±Inf samples are removed (Kayenta's `remove`, its default for usage metrics: a NaN CPU % is not 0 %).
// - Fewer than `minSamples` values on either side, or samples too small for any confidence interval at the
//   configured confidence, is NODATA — nothing was shown — with one exception that is shown: at least 2 values
//   a side whose every pairwise difference lies within the allowed shift is Pass (no interval could exceed it).
// - Both samples the same values, or every value equal: Pass (no change; Kayenta does the same).
// - Mann-Whitney U with the Hodges–Lehmann shift and its confidence interval (domain/mann-whitney.ts).
//   The change is significant upwards when the interval's lower end is above tolerance·|estimate| (Kayenta's
//   bounds), downwards when its upper end is below −tolerance·|estimate|.
// - A significant change is High (Low) only when its effect is also above the allowed effect size: the
//   Hodges–Lehmann shift above `allowedIncrease` (metric units, e.g. percentage points) and/or the mean ratio
//   experiment/control above `allowedIncreaseRatio` (Kayenta's 1.1 = more than 10 % higher). A shift exactly at
//   its allowance passes. Only the metric's direction counts (`increase`: a fall is always Pass).
// - A change that is not significant still fails on its effect size alone (the fixed-delta rule): a Hodges–
//   Lehmann shift beyond the allowance is High/Low "by effect size" — few samples must never turn a large rise
//   into a pass. With no allowance set for that direction, it is NODATA (inconclusive).
// Score: 100 × the weight share of Pass among the metrics with data (NODATA metrics are left out, as Kayenta
// skips groups without data). Verdict: a High/Low on a `critical` metric is Fail with score 0; otherwise
// Pass at ≥ passScore, Marginal at ≥ marginalScore, else Fail. A metric that is NODATA caps the verdict by
// `nodataPolicy` (`marginal`: at most Marginal, a person decides; `fail`: Fail); all metrics NODATA is the
// verdict `nodata` — no statistical claim at all, and `decision` says what the rollout does with it.

export type Direction = 'increase' | 'decrease' | 'either';
export type Classification = 'pass' | 'high' | 'low' | 'nodata';
export type VerdictKind = 'pass' | 'marginal' | 'fail' | 'nodata';
export type NodataPolicy = 'marginal' | 'fail';
/** What a rollout does next: continue with the next wave, pause for a person, or halt. */
export type Decision = 'continue' | 'pause' | 'halt';

export interface MetricSpec {
  /** e.g. `cpu`, `memory`. */
  name: string;
  /** The metric's unit, for the reason text (e.g. `pp` for percentage points). */
  unit: string;
  direction: Direction;
  /** > 0; the score's weight. */
  weight: number;
  /** Largest allowed Hodges–Lehmann shift upwards / downwards, in the metric's unit (≥ 0). */
  allowedIncrease?: number;
  allowedDecrease?: number;
  /** Largest allowed mean ratio experiment/control (≥ 1) / smallest (≤ 1), as Kayenta's effect sizes. */
  allowedIncreaseRatio?: number;
  allowedDecreaseRatio?: number;
  /** A High/Low here fails the verdict whatever the score. */
  critical?: boolean;
  /**
   * false: the samples are changes, not levels (a wave judged against each system's own baseline), so a mean
   * ratio means nothing; it is not computed and ratio allowances cannot be set. Default true.
   */
  levels?: boolean;
}

export interface JudgeSettings {
  /** Confidence level of the interval, e.g. 0.98. */
  confidence: number;
  /** Kayenta's tolerance: the interval must clear ±tolerance·|estimate| to be significant (0.25). */
  tolerance: number;
  /** Fewest finite samples per side for a classification. */
  minSamples: number;
  /** Score (0–100) for Pass and for Marginal. */
  passScore: number;
  marginalScore: number;
  nodataPolicy: NodataPolicy;
}

export interface MetricInput {
  spec: MetricSpec;
  control: readonly number[];
  experiment: readonly number[];
}

export interface MetricJudgement {
  name: string;
  classification: Classification;
  /** Finite samples used per side (after NaN removal), and how many were removed. */
  controlCount: number;
  experimentCount: number;
  removedNaN: number;
  /** Null when not computed (NODATA, or identical samples). */
  test: MannWhitneyResult | null;
  /** mean(experiment) / mean(control); null when not computable (no data, or a zero control mean). */
  meanRatio: number | null;
  controlMean: number | null;
  experimentMean: number | null;
  critical: boolean;
  weight: number;
  /** One sentence: why this classification. */
  reason: string;
}

export interface Verdict {
  verdict: VerdictKind;
  decision: Decision;
  /** 0–100, one decimal; null when no metric had data. */
  score: number | null;
  metrics: MetricJudgement[];
  /** One line: the verdict and each metric's reason. */
  reason: string;
}

const show = (value: number, digits = 3): string => {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Number(value.toPrecision(digits + 2));
  return String(Math.round(rounded * 10 ** digits) / 10 ** digits);
};
const signed = (value: number): string => (value >= 0 ? `+${show(value)}` : show(value));
const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** Checks the settings; throws RangeError naming the field. */
export function assertJudgeSettings(s: JudgeSettings): void {
  if (!(s.confidence > 0 && s.confidence < 1)) throw new RangeError(`confidence must be between 0 and 1, got ${s.confidence}`);
  if (!(s.tolerance >= 0 && Number.isFinite(s.tolerance))) throw new RangeError(`tolerance must be a finite number ≥ 0, got ${s.tolerance}`);
  if (!(Number.isInteger(s.minSamples) && s.minSamples >= 1)) throw new RangeError(`minSamples must be an integer ≥ 1, got ${s.minSamples}`);
  if (!(s.marginalScore >= 0 && s.passScore <= 100 && s.marginalScore <= s.passScore)) {
    throw new RangeError(`scores must satisfy 0 ≤ marginalScore (${s.marginalScore}) ≤ passScore (${s.passScore}) ≤ 100`);
  }
  if (s.nodataPolicy !== 'marginal' && s.nodataPolicy !== 'fail') throw new RangeError(`nodataPolicy must be marginal or fail, got ${String(s.nodataPolicy)}`);
}

/**
 * With too few samples for a test, a Pass can still be shown: when every pairwise difference experiment −
 * control lies within the allowed shift (in the metric's direction), no interval and no estimate could exceed
 * it. Needs ≥ 2 samples a side and shift allowances only (a ratio allowance needs the test). The allowance
 * text, or null.
 */
function withinAllowance(spec: MetricSpec, control: number[], experiment: number[]): string | null {
  if (control.length < 2 || experiment.length < 2) return null;
  if (spec.allowedIncreaseRatio !== undefined || spec.allowedDecreaseRatio !== undefined) return null;
  const round9 = (v: number) => Math.round(v * 1e9) / 1e9;
  const parts: string[] = [];
  if (spec.direction !== 'decrease') {
    if (spec.allowedIncrease === undefined || round9(Math.max(...experiment) - Math.min(...control)) > spec.allowedIncrease) return null;
    parts.push(`+${show(spec.allowedIncrease)} ${spec.unit}`);
  }
  if (spec.direction !== 'increase') {
    if (spec.allowedDecrease === undefined || round9(Math.min(...experiment) - Math.max(...control)) < -spec.allowedDecrease) return null;
    parts.push(`−${show(spec.allowedDecrease)} ${spec.unit}`);
  }
  return parts.join(' and ');
}

/**
 * The mirror of withinAllowance: with too few samples for a test, every pairwise change beyond the allowance in
 * one direction (the smallest after sample above the largest before sample by more than the allowed increase,
 * or the mirror for a decrease) proves a change beyond it among the samples seen — High/Low, not no data.
 * Needs ≥ 2 samples a side and a shift allowance; `{ up, allowance }` or null.
 */
function beyondEveryPair(spec: MetricSpec, control: number[], experiment: number[]): { up: boolean; allowance: string } | null {
  if (control.length < 2 || experiment.length < 2) return null;
  const round9 = (v: number) => Math.round(v * 1e9) / 1e9;
  if (spec.direction !== 'decrease' && spec.allowedIncrease !== undefined && round9(Math.min(...experiment) - Math.max(...control)) > spec.allowedIncrease) {
    return { up: true, allowance: `+${show(spec.allowedIncrease)} ${spec.unit}` };
  }
  if (spec.direction !== 'increase' && spec.allowedDecrease !== undefined && round9(Math.max(...experiment) - Math.min(...control)) < -spec.allowedDecrease) {
    return { up: false, allowance: `−${show(spec.allowedDecrease)} ${spec.unit}` };
  }
  return null;
}

/** One metric's classification (see the module comment for the rules). */
export function classifyMetric(input: MetricInput, settings: JudgeSettings): MetricJudgement {
  const { spec } = input;
  if (!(spec.weight > 0)) throw new RangeError(`${spec.name}: weight must be > 0`);
  const control = input.control.filter(Number.isFinite);
  const experiment = input.experiment.filter(Number.isFinite);
  const removedNaN = input.control.length - control.length + input.experiment.length - experiment.length;
  const base = {
    name: spec.name, controlCount: control.length, experimentCount: experiment.length, removedNaN,
    critical: spec.critical === true, weight: spec.weight,
  };
  if (control.length < settings.minSamples || experiment.length < settings.minSamples) {
    const bounded = withinAllowance(spec, control, experiment);
    if (bounded) {
      return {
        ...base, classification: 'pass', test: null, meanRatio: null,
        controlMean: mean(control), experimentMean: mean(experiment),
        reason: `${spec.name}: pass — ${experiment.length} and ${control.length} samples, too few for a test, but every pairwise change is within the allowed ${bounded}`,
      };
    }
    const beyond = beyondEveryPair(spec, control, experiment);
    if (beyond) {
      const kind = beyond.up ? 'high' : 'low';
      return {
        ...base, classification: kind, test: null, meanRatio: null,
        controlMean: mean(control), experimentMean: mean(experiment),
        reason: `${spec.name}: ${kind} — ${experiment.length} and ${control.length} samples, too few for a test, but every pairwise change is beyond the allowed ${beyond.allowance}`,
      };
    }
    return {
      ...base, classification: 'nodata', test: null, meanRatio: null,
      controlMean: control.length ? mean(control) : null, experimentMean: experiment.length ? mean(experiment) : null,
      reason: `${spec.name}: no data — ${experiment.length} experiment and ${control.length} control samples, at least ${settings.minSamples} each needed`
        + (removedNaN ? ` (${removedNaN} NaN removed)` : ''),
    };
  }
  const controlMean = mean(control);
  const experimentMean = mean(experiment);
  if (spec.levels === false && (spec.allowedIncreaseRatio !== undefined || spec.allowedDecreaseRatio !== undefined)) {
    throw new RangeError(`${spec.name}: a ratio allowance needs levels, not changes`);
  }
  const meanRatio = spec.levels !== false && controlMean !== 0 ? experimentMean / controlMean : null;
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const same = control.length === experiment.length && sorted(control).every((v, i) => v === sorted(experiment)[i]);
  const allTied = [...control, ...experiment].every((v) => v === control[0]);
  if (same || allTied) {
    return {
      ...base, classification: 'pass', test: null, meanRatio, controlMean, experimentMean,
      reason: `${spec.name}: pass — ${same ? 'the same values on both sides' : `every sample is ${show(control[0] as number)} ${spec.unit}`}`,
    };
  }
  const test = mannWhitney(experiment, control, settings.confidence);
  const interval = `HL shift ${signed(test.estimate)} ${spec.unit}, ${show(settings.confidence * 100)} % CI ${show(test.lower)}…${show(test.upper)}, p=${test.p.toPrecision(3)}`;
  if (!Number.isFinite(test.lower) || !Number.isFinite(test.upper)) {
    return {
      ...base, classification: 'nodata', test, meanRatio, controlMean, experimentMean,
      reason: `${spec.name}: no data — ${experiment.length} and ${control.length} samples are too few for a ${show(settings.confidence * 100)} % interval`,
    };
  }
  const bound = settings.tolerance * Math.abs(test.estimate);
  const up = spec.direction !== 'decrease' && test.lower > bound;
  const down = spec.direction !== 'increase' && test.upper < -bound;
  const ratioText = spec.levels === false ? 'changes from own baselines' : meanRatio === null ? 'mean ratio n/a' : `mean ratio ${show(meanRatio)}`;
  if (up || down) {
    const allowedShift = up ? spec.allowedIncrease : spec.allowedDecrease;
    const allowedRatio = up ? spec.allowedIncreaseRatio : spec.allowedDecreaseRatio;
    // Rounded to 1e-9 units first: 30.1 − 20.1 is 10.000000000000002, and a shift exactly at its allowance passes.
    const shift = Math.round(test.estimate * 1e9) / 1e9;
    const shiftExceeds = allowedShift === undefined || (up ? shift > allowedShift : shift < -allowedShift);
    // A zero control mean with a rise is an unbounded ratio: it exceeds any ratio allowance.
    const ratioExceeds = allowedRatio === undefined
      || (meanRatio === null ? up && experimentMean > 0 : up ? meanRatio > allowedRatio : meanRatio < allowedRatio);
    const allowance = [
      allowedShift === undefined ? null : `${up ? '+' : '−'}${show(allowedShift)} ${spec.unit}`,
      allowedRatio === undefined ? null : `ratio ${show(allowedRatio)}`,
    ].filter(Boolean).join(' and ');
    if (shiftExceeds && ratioExceeds) {
      return {
        ...base, classification: up ? 'high' : 'low', test, meanRatio, controlMean, experimentMean,
        reason: `${spec.name}: ${up ? 'high' : 'low'} — ${interval}, ${ratioText}${allowance ? `; beyond the allowed ${allowance}` : ''}`,
      };
    }
    return {
      ...base, classification: 'pass', test, meanRatio, controlMean, experimentMean,
      reason: `${spec.name}: pass — a significant ${up ? 'rise' : 'fall'} within the allowed ${allowance} (${interval}, ${ratioText})`,
    };
  }
  // Not significant. Too few samples (short lab windows, a spike that began mid-window) can hide a rise far
  // beyond the allowance: "not shown" is not "no rise". So the effect size decides on its own (the fixed-delta
  // rule on the Hodges–Lehmann shift and/or the mean ratio): beyond the allowance is High/Low, and says that
  // the test did not show it; without any allowance to hold the shift to, a shift in the metric's direction is
  // NODATA (inconclusive), never a pass.
  const fallback = beyondAllowance(spec, test.estimate, meanRatio, experimentMean);
  if (fallback) {
    const kind = fallback.up ? 'high' : 'low';
    return {
      ...base, classification: fallback.allowance ? kind : 'nodata', test, meanRatio, controlMean, experimentMean,
      reason: fallback.allowance
        ? `${spec.name}: ${kind} by effect size — not significant at ${show(settings.confidence * 100)} % with ${experiment.length} and ${control.length} samples (${interval}, ${ratioText}), but beyond the allowed ${fallback.allowance}`
        : `${spec.name}: no data — inconclusive: a ${fallback.up ? 'rise' : 'fall'} not significant at ${show(settings.confidence * 100)} % with ${experiment.length} and ${control.length} samples (${interval}, ${ratioText}) and no allowance to hold it to`,
    };
  }
  return {
    ...base, classification: 'pass', test, meanRatio, controlMean, experimentMean,
    reason: `${spec.name}: pass — no significant ${spec.direction === 'either' ? 'change' : spec.direction === 'increase' ? 'rise' : 'fall'}, and the effect is within the allowance (${interval}, ${ratioText})`,
  };
}

/**
 * The fixed-delta rule on a not-significant estimate: which direction (if any) the Hodges–Lehmann shift and
 * mean ratio go beyond the metric's allowances in, and the allowance text ('' when the direction has no
 * allowance at all). Null: within the allowances, or a move against the metric's direction.
 */
function beyondAllowance(spec: MetricSpec, estimate: number, meanRatio: number | null, experimentMean: number): { up: boolean; allowance: string } | null {
  const shift = Math.round(estimate * 1e9) / 1e9;
  for (const up of [true, false]) {
    if (up ? spec.direction === 'decrease' || !(shift > 0) : spec.direction === 'increase' || !(shift < 0)) continue;
    const allowedShift = up ? spec.allowedIncrease : spec.allowedDecrease;
    const allowedRatio = up ? spec.allowedIncreaseRatio : spec.allowedDecreaseRatio;
    if (allowedShift === undefined && allowedRatio === undefined) return { up, allowance: '' };
    const shiftExceeds = allowedShift === undefined || (up ? shift > allowedShift : shift < -allowedShift);
    const ratioExceeds = allowedRatio === undefined
      || (meanRatio === null ? up && experimentMean > 0 : up ? meanRatio > allowedRatio : meanRatio < allowedRatio);
    if (!(shiftExceeds && ratioExceeds)) return null;
    const allowance = [
      allowedShift === undefined ? null : `${up ? '+' : '−'}${show(allowedShift)} ${spec.unit}`,
      allowedRatio === undefined ? null : `ratio ${show(allowedRatio)}`,
    ].filter(Boolean).join(' and ');
    return { up, allowance };
  }
  return null;
}

const DECISION: Record<VerdictKind, Decision> = { pass: 'continue', marginal: 'pause', fail: 'halt', nodata: 'pause' };

/** The verdict over every metric. `metrics` must not be empty; names must be unique. */
export function judge(metrics: readonly MetricInput[], settings: JudgeSettings): Verdict {
  assertJudgeSettings(settings);
  if (metrics.length === 0) throw new RangeError('at least one metric is needed');
  if (new Set(metrics.map((m) => m.spec.name)).size !== metrics.length) throw new RangeError('metric names must be unique');
  const judged = metrics.map((m) => classifyMetric(m, settings));
  const withData = judged.filter((j) => j.classification !== 'nodata');
  const nodata = judged.filter((j) => j.classification === 'nodata');
  const details = judged.map((j) => j.reason).join('; ');
  if (withData.length === 0) {
    const decision: Decision = settings.nodataPolicy === 'fail' ? 'halt' : 'pause';
    return { verdict: 'nodata', decision, score: null, metrics: judged, reason: `nodata: no metric had enough data (policy ${settings.nodataPolicy}) — ${details}` };
  }
  const total = withData.reduce((s, j) => s + j.weight, 0);
  const passed = withData.filter((j) => j.classification === 'pass').reduce((s, j) => s + j.weight, 0);
  const criticalHit = withData.filter((j) => j.critical && j.classification !== 'pass');
  let score = Math.round((1000 * passed) / total) / 10;
  let verdict: VerdictKind;
  const why: string[] = [];
  if (criticalHit.length > 0) {
    score = 0;
    verdict = 'fail';
    why.push(`critical metric ${criticalHit.map((j) => j.name).join(', ')} ${criticalHit.length === 1 ? 'is' : 'are'} ${criticalHit.map((j) => j.classification).join('/')}`);
  } else if (score >= settings.passScore) verdict = 'pass';
  else if (score >= settings.marginalScore) verdict = 'marginal';
  else verdict = 'fail';
  why.unshift(`score ${score} (pass ≥ ${settings.passScore}, marginal ≥ ${settings.marginalScore})`);
  if (nodata.length > 0 && verdict !== 'fail') {
    const capped: VerdictKind = settings.nodataPolicy === 'fail' ? 'fail' : 'marginal';
    if (verdict === 'pass' || capped === 'fail') verdict = capped;
    why.push(`no data for ${nodata.map((j) => j.name).join(', ')} (policy ${settings.nodataPolicy})`);
  }
  return { verdict, decision: DECISION[verdict], score, metrics: judged, reason: `${verdict}: ${why.join('; ')} — ${details}` };
}
