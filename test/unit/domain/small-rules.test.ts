import { describe, expect, it } from 'vitest';
import { chunk } from '../../../domain/chunks.js';
import { isTestGroup, osFromGroup } from '../../../domain/os.js';
import { mapSeverity, SEVERITIES } from '../../../domain/severity.js';
import { forEachInWindow } from '../../../domain/window.js';

describe('severity: every UYUNI label, case and spaces ignored', () => {
  it.each([
    ['Critical', 'Critical'], ['critical', 'Critical'], [' CRITICAL ', 'Critical'],
    ['Important', 'High'], ['High', 'High'], ['high', 'High'],
    ['Moderate', 'Medium'], ['Medium', 'Medium'], ['medium', 'Medium'],
    ['Low', 'Low'], ['low', 'Low'],
  ])('%s → %s, for any advisory type', (label, expected) => {
    expect(mapSeverity('Security Advisory', label)).toBe(expected);
    expect(mapSeverity('Bug Fix Advisory', label)).toBe(expected);
  });
  it('no or an unknown label: Security Advisory → Medium, else Low', () => {
    expect(mapSeverity('Security Advisory', '')).toBe('Medium');
    expect(mapSeverity('Security Advisory', 'urgent')).toBe('Medium');
    expect(mapSeverity('Bug Fix Advisory', 'urgent')).toBe('Low');
    expect(mapSeverity('Bug Fix Advisory', null)).toBe('Low');
    expect(mapSeverity('security advisory')).toBe('Low'); // UYUNI's type is exact
  });
  it('the scale, most severe first', () => expect(SEVERITIES).toEqual(['Critical', 'High', 'Medium', 'Low']));
});

describe('osFromGroup', () => {
  it.each([
    ['ubuntu', 'ubuntu'], ['test-ubuntu', 'ubuntu'], ['test-ubuntu2404', 'ubuntu'], ['ubuntu-2204-prod', 'ubuntu'], [' TEST-UBUNTU-2404 ', 'ubuntu'],
    ['test-rhel9', 'rhel'], ['rhel', 'rhel'], ['prod-redhat-8', 'rhel'], ['test-alma9', 'rhel'], ['test-rocky-9', 'rhel'],
    ['debian', 'debian'], ['prod-debian-12', 'debian'], ['test-debian12', 'debian'],
    ['test-ubuntux', null], ['myubuntu', null], ['test-rhelx', null], ['test-almanac', null], ['test-debianish', null], ['', null], ['test-suse-15', null],
  ])('%s → %s', (group, os) => expect(osFromGroup(group)).toBe(os));
  it('test groups by prefix, which is configurable', () => {
    expect(isTestGroup('test-rhel9')).toBe(true);
    expect(isTestGroup('prod-test-rhel9')).toBe(false);
    expect(isTestGroup('lab-rhel9', 'lab-')).toBe(true);
    expect(isTestGroup('test-rhel9', 'lab-')).toBe(false);
  });
});

describe('chunk', () => {
  it('splits in order, the last chunk shorter', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([1, 2, 3], 1)).toEqual([[1], [2], [3]]);
    expect(chunk([1, 2, 3], 3)).toEqual([[1, 2, 3]]);
    expect(chunk([1, 2], 5)).toEqual([[1, 2]]);
    expect(chunk([], 3)).toEqual([]);
  });
  it('refuses a size that is not a positive integer, saying which', () => {
    expect(() => chunk([1], 0)).toThrow('chunk size must be a positive integer, got 0');
    expect(() => chunk([1], -1)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow('got 1.5');
  });
});

describe('forEachInWindow', () => {
  const run = async (n: number, size: number) => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const seen: [string, number][] = [];
    const items = Array.from({ length: n }, (_, i) => `item${i}`);
    await forEachInWindow(items, size, async (item, index) => {
      started.push(index);
      seen.push([item, index]);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2 + (index % 3)));
      inFlight--;
    });
    return { peak, started, seen };
  };
  it('every item once, started in order, at most `size` in flight', async () => {
    const r = await run(10, 3);
    expect(r.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.seen.every(([item, i]) => item === `item${i}`)).toBe(true);
    expect(r.peak).toBe(3);
  });
  it('a window wider than the list runs all at once; a size under 1 runs one at a time', async () => {
    expect((await run(4, 10)).peak).toBe(4);
    expect((await run(4, 0)).peak).toBe(1);
    expect((await run(0, 3)).started).toEqual([]);
  });
});
