import { describe, expect, it } from 'vitest';
import { chunk } from '../../domain/chunks.js';
import { isTestGroup, osFromGroup } from '../../domain/os.js';
import { canTransition } from '../../domain/queue-status.js';
import { mapSeverity } from '../../domain/severity.js';

describe('severity mapping', () => {
  it('uses UYUNI severity when present', () => {
    expect(mapSeverity('Security Advisory', 'Critical')).toBe('Critical');
    expect(mapSeverity('Security Advisory', 'Important')).toBe('High');
    expect(mapSeverity('Security Advisory', 'Moderate')).toBe('Medium');
    expect(mapSeverity('Bug Fix Advisory', 'Low')).toBe('Low');
  });
  it('falls back by advisory type', () => {
    expect(mapSeverity('Security Advisory')).toBe('Medium');
    expect(mapSeverity('Security Advisory', null)).toBe('Medium');
    expect(mapSeverity('Bug Fix Advisory')).toBe('Low');
    expect(mapSeverity('Product Enhancement Advisory')).toBe('Low');
    expect(mapSeverity('Security Advisory', 'Unspecified')).toBe('Medium');
  });
});

describe('osFromGroup', () => {
  it.each([
    ['test-ubuntu-2404', 'ubuntu'],
    ['test-rhel9', 'rhel'],
    ['prod-rhel9', 'rhel'],
    ['test-debian-12', 'debian'],
    ['test-debian12', 'debian'],
    ['Test-Ubuntu-2204', 'ubuntu'],
    ['test-windows', null],
    ['test-rhelish', null],
  ])('%s → %s', (group, os) => expect(osFromGroup(group)).toBe(os));
  it('tells test groups by prefix', () => {
    expect(isTestGroup('test-rhel9')).toBe(true);
    expect(isTestGroup('prod-rhel9')).toBe(false);
  });
});

describe('chunk and state machine', () => {
  it('chunks', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
  it('allows the seed path and refuses shortcuts', () => {
    expect(canTransition('queued', 'testing')).toBe(true);
    expect(canTransition('queued', 'completed')).toBe(false);
    expect(canTransition('rejected', 'queued')).toBe(false);
  });
});
