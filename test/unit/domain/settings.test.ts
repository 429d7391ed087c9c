import { describe, expect, it } from 'vitest';
import { BUILT_IN_FALLBACKS, checkSetting, describeSetting, isSettingKey, settingInUse, SETTINGS, type SettingKey } from '../../../domain/settings.js';

// Every key's type and range, written out: a widened or narrowed range, or a key lost, fails here.
const RANGES: [SettingKey, string][] = [
  ['score.kernel_penalty', 'a number from 0 to 100 (points)'],
  ['score.reboot_penalty', 'a number from 0 to 100 (points)'],
  ['score.config_penalty', 'a number from 0 to 100 (points)'],
  ['score.dependency_penalty', 'a number from 0 to 100 (points)'],
  ['score.dependency_max_penalty', 'a number from 0 to 100 (points)'],
  ['score.size_penalty_per_mb', 'a number from 0 to 100 (points)'],
  ['score.size_max_penalty', 'a number from 0 to 100 (points)'],
  ['score.history_max_penalty', 'a number from 0 to 100 (points)'],
  ['score.history_min_tests', 'an integer from 1 to 1000 (tests)'],
  ['score.small_patch_bonus', 'a number from 0 to 100 (points)'],
  ['score.small_patch_bytes', 'an integer from 0 to 1000000000 (bytes)'],
  ['test.cpu_delta_threshold', 'a number from 0 to 100 (percentage points)'],
  ['test.memory_delta_threshold', 'a number from 0 to 100 (percentage points)'],
  ['test.settle_seconds', 'an integer from 0 to 3600 (seconds)'],
  ['test.critical_services', 'an object mapping an OS (ubuntu, rhel, debian) to at most 50 service names (letters, digits, @ . _ : -)'],
  ['test.cpu_ceiling_percent', 'a number from 1 to 100 (percent)'],
  ['test.memory_ceiling_percent', 'a number from 1 to 100 (percent)'],
  ['test.baseline_cpu_spread', 'a number from 0 to 100 (percentage points)'],
  ['test.baseline_memory_spread', 'a number from 0 to 100 (percentage points)'],
  ['test.inconclusive_retry_minutes', 'a number from 1 to 10080 (minutes)'],
  ['test.inconclusive_max_retries', 'an integer from 0 to 100 (retries)'],
  ['approval.reminder_hours', 'a number from 0.0001 to 8760 (hours)'],
  ['approval.expiry_days', 'a number from 0.00001 to 3650 (days)'],
  ['deploy.canary_size', 'an integer from 0 to 10000 (systems)'],
  ['deploy.soak_minutes', 'a number from 0 to 10080 (minutes)'],
  ['deploy.wave_size', 'an integer from 1 to 10000 (systems)'],
  ['deploy.failure_budget_count', 'an integer from 0 to 10000 (failed systems)'],
  ['deploy.failure_budget_percent', 'a number from 0 to 100 (percent)'],
  ['deploy.batch_size', 'an integer from 1 to 10000 (systems per UYUNI action)'],
  ['deploy.canary_fraction', 'a number from 0 to 100 (percent of each production group)'],
  ['deploy.verdict', 'an integer from 0 to 1 (1 = judge each wave, 0 = off)'],
  ['bundle.max_size', 'an integer from 1 to 64 (errata)'],
  ['bundle.alone_below_score', 'a number from 0 to 100 (points)'],
  ['bundle.recent_runs', 'an integer from 0 to 10000 (test runs)'],
  ['bundle.failure_prior_percent', 'a number from 0.1 to 50 (percent)'],
  ['bundle.kernel_alone', 'an integer from 0 to 1 (1 = alone, 0 = with others)'],
  ['verdict.confidence', 'a number from 0.5 to 0.9999 (confidence level)'],
  ['verdict.tolerance', 'a number from 0 to 10 (fraction of the estimate)'],
  ['verdict.min_samples', 'an integer from 2 to 100000 (samples per side)'],
  ['verdict.pass_score', 'a number from 0 to 100 (points)'],
  ['verdict.marginal_score', 'a number from 0 to 100 (points)'],
  ['verdict.cpu_allowed_increase', 'a number from 0 to 100 (percentage points)'],
  ['verdict.memory_allowed_increase', 'a number from 0 to 100 (percentage points)'],
  ['verdict.nodata_policy', 'one of marginal, fail'],
  ['verdict.marginal_reminder_hours', 'a number from 0.0001 to 8760 (hours)'],
];

describe('settings table', () => {
  it('has exactly these keys', () => {
    expect(Object.keys(SETTINGS)).toEqual(RANGES.map(([k]) => k));
    expect(isSettingKey('deploy.wave_size')).toBe(true);
    expect(isSettingKey('deploy.nope')).toBe(false);
    expect(isSettingKey('toString')).toBe(false);
  });
  it.each(RANGES)('%s accepts %s', (key, text) => expect(describeSetting(SETTINGS[key])).toBe(text));
});

describe('checkSetting', () => {
  it('choices: one of the words, nothing else', () => {
    expect(checkSetting('verdict.nodata_policy', 'fail')).toEqual({ ok: true, value: 'fail' });
    expect(checkSetting('verdict.nodata_policy', 'pass')).toEqual({ ok: false, message: 'verdict.nodata_policy must be one of marginal, fail; got "pass"' });
    expect(checkSetting('verdict.nodata_policy', 1).ok).toBe(false);
  });
  it('numbers: the bounds are in, one step past is out, with the key and the range named', () => {
    expect(checkSetting('deploy.failure_budget_percent', 0)).toEqual({ ok: true, value: 0 });
    expect(checkSetting('deploy.failure_budget_percent', 100)).toEqual({ ok: true, value: 100 });
    expect(checkSetting('deploy.failure_budget_percent', 12.5)).toEqual({ ok: true, value: 12.5 });
    expect(checkSetting('deploy.failure_budget_percent', 100.01)).toEqual({ ok: false, message: 'deploy.failure_budget_percent must be a number from 0 to 100 (percent); got 100.01' });
    expect(checkSetting('deploy.failure_budget_percent', -0.01)).toEqual({ ok: false, message: 'deploy.failure_budget_percent must be a number from 0 to 100 (percent); got -0.01' });
    expect(checkSetting('test.cpu_ceiling_percent', 0.5).ok).toBe(false);
    expect(checkSetting('test.cpu_ceiling_percent', 1).ok).toBe(true);
  });
  it('integers refuse fractions; all numbers refuse non-finite and non-numbers', () => {
    expect(checkSetting('deploy.wave_size', 1)).toEqual({ ok: true, value: 1 });
    expect(checkSetting('deploy.wave_size', 10_000)).toEqual({ ok: true, value: 10_000 });
    expect(checkSetting('deploy.wave_size', 0)).toEqual({ ok: false, message: 'deploy.wave_size must be an integer from 1 to 10000 (systems); got 0' });
    expect(checkSetting('deploy.wave_size', 1.5)).toEqual({ ok: false, message: 'deploy.wave_size must be an integer from 1 to 10000 (systems); got 1.5' });
    expect(checkSetting('deploy.wave_size', 10_001).ok).toBe(false);
    expect(checkSetting('deploy.soak_minutes', Number.POSITIVE_INFINITY)).toEqual({ ok: false, message: 'deploy.soak_minutes must be a number from 0 to 10080 (minutes); got null' });
    expect(checkSetting('deploy.soak_minutes', Number.NaN).ok).toBe(false);
    expect(checkSetting('deploy.soak_minutes', '5')).toEqual({ ok: false, message: 'deploy.soak_minutes must be a number from 0 to 10080 (minutes); got "5"' });
    expect(checkSetting('deploy.soak_minutes', undefined)).toEqual({ ok: false, message: 'deploy.soak_minutes must be a number from 0 to 10080 (minutes); got undefined' });
  });
  it('long values are cut to 80 characters in the message', () => {
    const r = checkSetting('deploy.soak_minutes', 'x'.repeat(200));
    expect(r).toEqual({ ok: false, message: `deploy.soak_minutes must be a number from 0 to 10080 (minutes); got "${'x'.repeat(76)}...` });
    const exact = checkSetting('deploy.soak_minutes', 'y'.repeat(78)); // 80 characters with its quotes: not cut
    expect(exact).toEqual({ ok: false, message: `deploy.soak_minutes must be a number from 0 to 10080 (minutes); got "${'y'.repeat(78)}"` });
  });
  it('services: an object of OS → service names', () => {
    const key = 'test.critical_services';
    expect(checkSetting(key, { ubuntu: ['ssh', 'cron'], rhel: ['sshd'] })).toEqual({ ok: true, value: { ubuntu: ['ssh', 'cron'], rhel: ['sshd'] } });
    expect(checkSetting(key, {})).toEqual({ ok: true, value: {} });
    expect(checkSetting(key, { debian: ['getty@tty1', 'a.b_c:d-e'] }).ok).toBe(true);
    const shape = `${key} must be an object mapping an OS (ubuntu, rhel, debian) to at most 50 service names (letters, digits, @ . _ : -); got`;
    expect(checkSetting(key, null)).toEqual({ ok: false, message: `${shape} null` });
    expect(checkSetting(key, ['ssh'])).toEqual({ ok: false, message: `${shape} ["ssh"]` });
    expect(checkSetting(key, 'ssh')).toEqual({ ok: false, message: `${shape} "ssh"` });
    expect(checkSetting(key, { windows: ['ssh'] })).toEqual({ ok: false, message: 'test.critical_services: "windows" is not an OS (ubuntu, rhel, debian)' });
    const list = 'must be a list of at most 50 service names (letters, digits, @ . _ : -); got';
    expect(checkSetting(key, { ubuntu: 'ssh' })).toEqual({ ok: false, message: `test.critical_services.ubuntu ${list} "ssh"` });
    expect(checkSetting(key, { ubuntu: ['ssh', 5] })).toEqual({ ok: false, message: `test.critical_services.ubuntu ${list} ["ssh",5]` });
    expect(checkSetting(key, { ubuntu: ['-ssh'] }).ok).toBe(false);
    expect(checkSetting(key, { ubuntu: ['ss h'] }).ok).toBe(false);
    expect(checkSetting(key, { ubuntu: ['a'.repeat(128)] }).ok).toBe(true);
    expect(checkSetting(key, { ubuntu: ['a'.repeat(129)] }).ok).toBe(false);
    expect(checkSetting(key, { ubuntu: Array.from({ length: 50 }, (_, i) => `s${i}`) }).ok).toBe(true);
    expect(checkSetting(key, { ubuntu: Array.from({ length: 51 }, (_, i) => `s${i}`) }).ok).toBe(false);
  });
});

describe('settingInUse', () => {
  it('the stored value when in range, else the fallback', () => {
    expect(settingInUse('deploy.wave_size', 5, 10)).toEqual({ value: 5, source: 'database' });
    expect(settingInUse('deploy.wave_size', 0, 10)).toEqual({ value: 10, source: 'fallback' });
    expect(settingInUse('deploy.wave_size', undefined, 10)).toEqual({ value: 10, source: 'fallback' });
    expect(settingInUse('deploy.wave_size', null, 10)).toEqual({ value: 10, source: 'fallback' });
  });
  it('built-in fallbacks are the migrations’ seed values', () => {
    expect(BUILT_IN_FALLBACKS).toEqual({
      'test.critical_services': { ubuntu: ['ssh', 'cron'], rhel: ['sshd', 'crond'], debian: ['ssh', 'cron'] },
      'test.cpu_ceiling_percent': 90,
      'test.memory_ceiling_percent': 90,
      'test.baseline_cpu_spread': 5,
      'test.baseline_memory_spread': 3,
      'test.inconclusive_retry_minutes': 30,
      'test.inconclusive_max_retries': 3,
      'deploy.canary_size': 1,
      'deploy.soak_minutes': 30,
      'deploy.wave_size': 10,
      'deploy.failure_budget_count': 2,
      'deploy.failure_budget_percent': 10,
      'deploy.batch_size': 100,
      'deploy.canary_fraction': 0,
      'deploy.verdict': 0,
      'bundle.max_size': 8,
      'bundle.alone_below_score': 20,
      'bundle.recent_runs': 50,
      'bundle.failure_prior_percent': 5,
      'bundle.kernel_alone': 1,
      'verdict.confidence': 0.98,
      'verdict.tolerance': 0.25,
      'verdict.min_samples': 5,
      'verdict.pass_score': 90,
      'verdict.marginal_score': 75,
      'verdict.cpu_allowed_increase': 5,
      'verdict.memory_allowed_increase': 5,
      'verdict.nodata_policy': 'marginal',
      'verdict.marginal_reminder_hours': 4,
    });
  });
});
