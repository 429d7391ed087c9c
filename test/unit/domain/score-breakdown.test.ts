import { describe, expect, it } from 'vitest';
import { successScore, type ScoreWeights } from '../../../domain/score.js';

// Whole breakdowns written out by hand (the seed's weights), reasons included: what an operator reads.
const W: ScoreWeights = {
  kernelPenalty: 30, rebootPenalty: 15, configPenalty: 10, dependencyPenalty: 3, dependencyMaxPenalty: 15,
  sizePenaltyPerMb: 2, sizeMaxPenalty: 10, historyMaxPenalty: 20, historyMinTests: 3, smallPatchBonus: 5, smallPatchBytes: 102_400,
};
const KB = 1024;
const pkgs = (names: string[], size: number) => names.map((name) => ({ name, size }));

describe('Success Score breakdown', () => {
  it('boot-critical and config packages with a failure history: 100 − 15 − 10 − 15 − 0.4 − 10 = 49.6 → 50', () => {
    const s = successScore({ packages: pkgs(['systemd', 'systemd-libs', 'udev', 'glibc', 'openssh-server', 'cron'], 30 * KB), rebootSuggested: false, history: { tests: 4, failures: 2 } }, W);
    expect(s.lines).toEqual([
      { term: 'reboot', points: -15, reason: 'updates glibc, systemd, systemd-libs and 1 more, which needs a reboot' },
      { term: 'config', points: -10, reason: 'cron, openssh-server ship configuration files under /etc' },
      { term: 'dependencies', points: -15, reason: '5 package(s) besides the first updated together (3 each, at most 15)' },
      { term: 'size', points: -0.4, reason: '0.2 MB of packages (2 per MB, at most 10)' },
      { term: 'history', points: -10, reason: '2 of 4 earlier tests of this advisory or its packages failed' },
    ]);
    expect(s).toMatchObject({ score: 50, raw: 49.6, hasKernel: false, requiresReboot: true, hasConfigFiles: true, dependencyCount: 5, totalSizeBytes: 184_320 });
  });

  it('UYUNI reboot_suggested; a clean history of 3 tests costs nothing: 83.8 → 84', () => {
    const s = successScore({ packages: pkgs(['tzdata'], 600 * KB), rebootSuggested: true, history: { tests: 3, failures: 0 } }, W);
    expect(s.lines).toEqual([
      { term: 'reboot', points: -15, reason: 'UYUNI marks the erratum reboot_suggested' },
      { term: 'size', points: -1.2, reason: '0.6 MB of packages (2 per MB, at most 10)' },
    ]);
    expect(s).toMatchObject({ score: 84, raw: 83.8, requiresReboot: true, dependencyCount: 0 });
  });

  it('a package of unknown size earns no small-patch bonus; history under 3 tests is not counted', () => {
    const s = successScore({ packages: pkgs(['tzdata'], 0), rebootSuggested: false, history: { tests: 2, failures: 1 } }, W);
    expect(s).toEqual({ score: 100, raw: 100, lines: [], hasKernel: false, requiresReboot: false, hasConfigFiles: false, dependencyCount: 0, totalSizeBytes: 0 });
  });

  it('exactly three names are listed in full; a small kernel patch: 53.9 → 54', () => {
    const s = successScore({ packages: pkgs(['kernel', 'kernel-core', 'kernel-modules'], 20 * KB), rebootSuggested: false, history: { tests: 0, failures: 0 } }, W);
    expect(s.lines).toEqual([
      { term: 'kernel', points: -30, reason: 'kernel package kernel, kernel-core, kernel-modules' },
      { term: 'reboot', points: -15, reason: 'updates kernel, kernel-core, kernel-modules, which needs a reboot' },
      { term: 'dependencies', points: -6, reason: '2 package(s) besides the first updated together (3 each, at most 15)' },
      { term: 'size', points: -0.1, reason: '0.1 MB of packages (2 per MB, at most 10)' },
      { term: 'small_patch', points: 5, reason: 'small patch: 60 KB < 100 KB' },
    ]);
    expect(s).toMatchObject({ score: 54, raw: 53.9, hasKernel: true });
  });
});
