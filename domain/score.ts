import { packageTraits, type PackageRef } from './package-traits.js';

// The Success Score (0-100): how likely a patch is to apply cleanly. The seed's table, with each term
// recorded as a line of the breakdown so an operator sees why a patch scores 55.

export interface ScoreWeights {
  kernelPenalty: number;
  rebootPenalty: number;
  configPenalty: number;
  dependencyPenalty: number;
  dependencyMaxPenalty: number;
  sizePenaltyPerMb: number;
  sizeMaxPenalty: number;
  historyMaxPenalty: number;
  historyMinTests: number;
  smallPatchBonus: number;
  smallPatchBytes: number;
}

export interface FailureHistory {
  /** Earlier finished tests of this advisory or of any of its packages. */
  tests: number;
  /** Of those, the ones that failed or were rolled back. */
  failures: number;
}

export interface ScoreInput {
  packages: readonly PackageRef[];
  /** UYUNI's reboot_suggested / the errata overview's reboot flag. */
  rebootSuggested: boolean;
  history: FailureHistory;
}

export type ScoreTerm = 'kernel' | 'reboot' | 'config' | 'dependencies' | 'size' | 'history' | 'small_patch';

export interface ScoreLine {
  term: ScoreTerm;
  points: number;
  reason: string;
}

export interface SuccessScore {
  score: number;
  /** 100 plus the lines, before clamping to 0-100 */
  raw: number;
  lines: ScoreLine[];
  hasKernel: boolean;
  requiresReboot: boolean;
  hasConfigFiles: boolean;
  dependencyCount: number;
  totalSizeBytes: number;
}

const MB = 1024 * 1024;
const round1 = (n: number) => Math.round(n * 10) / 10;
const list = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

export function successScore(input: ScoreInput, w: ScoreWeights): SuccessScore {
  const t = packageTraits(input.packages);
  const lines: ScoreLine[] = [];
  const add = (term: ScoreTerm, points: number, reason: string) => {
    if (points !== 0) lines.push({ term, points: round1(points), reason });
  };

  const hasKernel = t.kernelPackages.length > 0;
  if (hasKernel) add('kernel', -w.kernelPenalty, `kernel package ${list(t.kernelPackages)}`);

  const requiresReboot = input.rebootSuggested || t.rebootPackages.length > 0;
  if (requiresReboot) {
    add('reboot', -w.rebootPenalty, input.rebootSuggested ? 'UYUNI marks the erratum reboot_suggested' : `updates ${list(t.rebootPackages)}, which needs a reboot`);
  }

  const hasConfigFiles = t.configPackages.length > 0;
  if (hasConfigFiles) add('config', -w.configPenalty, `${list(t.configPackages)} ship configuration files under /etc`);

  const dependencyCount = Math.max(0, t.packageCount - 1);
  if (dependencyCount > 0) {
    const points = Math.min(dependencyCount * w.dependencyPenalty, w.dependencyMaxPenalty);
    add('dependencies', -points, `${dependencyCount} package(s) besides the first updated together (${w.dependencyPenalty} each, at most ${w.dependencyMaxPenalty})`);
  }

  const sizeMb = t.totalSizeBytes / MB;
  const sizePoints = Math.min(sizeMb * w.sizePenaltyPerMb, w.sizeMaxPenalty);
  if (round1(sizePoints) > 0) add('size', -sizePoints, `${round1(sizeMb)} MB of packages (${w.sizePenaltyPerMb} per MB, at most ${w.sizeMaxPenalty})`);

  if (input.history.tests >= w.historyMinTests && input.history.failures > 0) {
    const rate = input.history.failures / input.history.tests;
    add('history', -rate * w.historyMaxPenalty, `${input.history.failures} of ${input.history.tests} earlier tests of this advisory or its packages failed`);
  }

  if (t.totalSizeBytes > 0 && t.totalSizeBytes < w.smallPatchBytes) {
    add('small_patch', w.smallPatchBonus, `small patch: ${round1(t.totalSizeBytes / 1024)} KB < ${round1(w.smallPatchBytes / 1024)} KB`);
  }

  const raw = round1(100 + lines.reduce((s, l) => s + l.points, 0));
  return {
    score: Math.max(0, Math.min(100, Math.round(raw))),
    raw,
    lines,
    hasKernel,
    requiresReboot,
    hasConfigFiles,
    dependencyCount,
    totalSizeBytes: t.totalSizeBytes,
  };
}
