import { describe, expect, it } from 'vitest';
import { successScore, type ScoreWeights } from '../../domain/score.js';

const W: ScoreWeights = {
  kernelPenalty: 30, rebootPenalty: 15, configPenalty: 10, dependencyPenalty: 3, dependencyMaxPenalty: 15,
  sizePenaltyPerMb: 2, sizeMaxPenalty: 10, historyMaxPenalty: 20, historyMinTests: 3, smallPatchBonus: 5, smallPatchBytes: 102_400,
};
const KB = 1024;
const MB = 1024 * KB;
const noHistory = { tests: 0, failures: 0 };
const pkg = (name: string, size = 200 * KB) => ({ name, size });
const score = (packages: { name: string; size: number }[], extra: Partial<{ rebootSuggested: boolean; history: { tests: number; failures: number } }> = {}, w = W) =>
  successScore({ packages, rebootSuggested: extra.rebootSuggested ?? false, history: extra.history ?? noHistory }, w);
const points = (s: ReturnType<typeof score>, term: string) => s.lines.find((l) => l.term === term)?.points ?? 0;

describe('Success Score', () => {
  it('a plain mid-sized single-package patch scores 100 minus its size', () => {
    const s = score([pkg('tzdata', 512 * KB)]);
    expect(s.lines.map((l) => l.term)).toEqual(['size']);
    expect(points(s, 'size')).toBe(-1);
    expect(s.score).toBe(99);
  });

  it('kernel −30 and the reboot it implies −15', () => {
    const s = score([pkg('kernel-core', 10 * KB)]);
    expect(points(s, 'kernel')).toBe(-30);
    expect(points(s, 'reboot')).toBe(-15);
    expect(s.hasKernel && s.requiresReboot).toBe(true);
    expect(score([pkg('linux-image-6.8.0-45-generic', 10 * KB)]).hasKernel).toBe(true);
    expect(score([pkg('kernelshark', 10 * KB)]).hasKernel).toBe(false);
  });

  it('reboot −15 from UYUNI reboot_suggested or a boot-critical package, without the kernel term', () => {
    expect(points(score([pkg('tzdata')], { rebootSuggested: true }), 'reboot')).toBe(-15);
    const glibc = score([pkg('glibc')]);
    expect(points(glibc, 'reboot')).toBe(-15);
    expect(points(glibc, 'kernel')).toBe(0);
  });

  it('config files −10 for packages that ship /etc configuration', () => {
    expect(points(score([pkg('openssh-server')]), 'config')).toBe(-10);
    expect(points(score([pkg('nginx-core')]), 'config')).toBe(-10);
    expect(points(score([pkg('libxml2')]), 'config')).toBe(0);
  });

  it('dependencies −3 per extra package, capped at −15', () => {
    expect(points(score([pkg('a'), pkg('b'), pkg('c')]), 'dependencies')).toBe(-6);
    expect(points(score(Array.from({ length: 5 }, (_, i) => pkg(`p${i}`))), 'dependencies')).toBe(-12);
    expect(points(score(Array.from({ length: 12 }, (_, i) => pkg(`p${i}`, 10 * KB))), 'dependencies')).toBe(-15);
    // the same name twice (two archs) is one package
    expect(points(score([pkg('a'), pkg('a')]), 'dependencies')).toBe(0);
  });

  it('size −2 per MB, capped at −10', () => {
    expect(points(score([pkg('a', 3 * MB)]), 'size')).toBe(-6);
    expect(points(score([pkg('a', 2.5 * MB)]), 'size')).toBe(-5);
    expect(points(score([pkg('a', 40 * MB)]), 'size')).toBe(-10);
  });

  it('failure history counts only from 3 tests, up to −20 in proportion to failures', () => {
    expect(points(score([pkg('a')], { history: { tests: 2, failures: 2 } }), 'history')).toBe(0);
    expect(points(score([pkg('a')], { history: { tests: 3, failures: 3 } }), 'history')).toBe(-20);
    expect(points(score([pkg('a')], { history: { tests: 4, failures: 1 } }), 'history')).toBe(-5);
    expect(points(score([pkg('a')], { history: { tests: 5, failures: 0 } }), 'history')).toBe(0);
  });

  it('small patch (< 100 KB) +5, not clamped above 100', () => {
    const s = score([pkg('tzdata', 40 * KB)]);
    expect(points(s, 'small_patch')).toBe(5);
    expect(s.raw).toBeCloseTo(104.9, 5); // 40 KB still costs 0.1 of size
    expect(s.score).toBe(100);
    expect(points(score([pkg('tzdata', 100 * KB)]), 'small_patch')).toBe(0);
  });

  it('clamps at 0 and explains every term', () => {
    const s = score(
      [pkg('kernel-core', 30 * MB), pkg('openssh-server', 2 * MB), ...Array.from({ length: 8 }, (_, i) => pkg(`dep${i}`, MB))],
      { history: { tests: 3, failures: 3 } },
      { ...W, historyMaxPenalty: 40 },
    );
    expect(s.raw).toBe(100 - 30 - 15 - 10 - 15 - 10 - 40);
    expect(s.score).toBe(0);
    expect(s.lines.every((l) => l.reason.length > 10)).toBe(true);
  });

  it('follows weight overrides', () => {
    const s = score([pkg('kernel')], {}, { ...W, kernelPenalty: 50, rebootPenalty: 0 });
    expect(points(s, 'kernel')).toBe(-50);
    expect(points(s, 'reboot')).toBe(0);
    expect(s.score).toBe(50);
  });
});
