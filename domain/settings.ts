import { TARGET_OSES } from './os.js';

// The runtime settings of orchestrator_config: each key's type and range, enforced when it is written
// (PUT /api/v1/config/<key> answers 400 naming the key and the range) and when it is read (a stored value
// outside the range — one written before the ranges existed — is not used: its fallback is). One table, so
// the API, the readers and the document cannot disagree.

export interface NumberSetting {
  kind: 'number';
  integer: boolean;
  minimum: number;
  maximum: number;
  unit: string;
}
/** Per OS, the services that must run after a patch: `{ "ubuntu": ["ssh", "cron"], ... }`. */
export interface ServicesSetting {
  kind: 'services';
}
/** One of a few words, e.g. `verdict.nodata_policy`: `marginal` or `fail`. */
export interface ChoiceSetting {
  kind: 'choice';
  values: readonly string[];
}
export type SettingSpec = NumberSetting | ServicesSetting | ChoiceSetting;

const num = (minimum: number, maximum: number, unit: string): NumberSetting => ({ kind: 'number', integer: false, minimum, maximum, unit });
const int = (minimum: number, maximum: number, unit: string): NumberSetting => ({ kind: 'number', integer: true, minimum, maximum, unit });
const choice = (...values: string[]): ChoiceSetting => ({ kind: 'choice', values });

/** Every orchestrator_config key (a test keeps it equal to the table's rows). */
export const SETTINGS = {
  'score.kernel_penalty': num(0, 100, 'points'),
  'score.reboot_penalty': num(0, 100, 'points'),
  'score.config_penalty': num(0, 100, 'points'),
  'score.dependency_penalty': num(0, 100, 'points'),
  'score.dependency_max_penalty': num(0, 100, 'points'),
  'score.size_penalty_per_mb': num(0, 100, 'points'),
  'score.size_max_penalty': num(0, 100, 'points'),
  'score.history_max_penalty': num(0, 100, 'points'),
  'score.history_min_tests': int(1, 1000, 'tests'),
  'score.small_patch_bonus': num(0, 100, 'points'),
  'score.small_patch_bytes': int(0, 1_000_000_000, 'bytes'),
  'test.cpu_delta_threshold': num(0, 100, 'percentage points'),
  'test.memory_delta_threshold': num(0, 100, 'percentage points'),
  'test.settle_seconds': int(0, 3600, 'seconds'),
  'test.critical_services': { kind: 'services' },
  'test.cpu_ceiling_percent': num(1, 100, 'percent'),
  'test.memory_ceiling_percent': num(1, 100, 'percent'),
  'test.baseline_cpu_spread': num(0, 100, 'percentage points'),
  'test.baseline_memory_spread': num(0, 100, 'percentage points'),
  'test.inconclusive_retry_minutes': num(1, 10_080, 'minutes'),
  'test.inconclusive_max_retries': int(0, 100, 'retries'),
  'approval.reminder_hours': num(0.0001, 8760, 'hours'),
  'approval.expiry_days': num(0.00001, 3650, 'days'),
  'deploy.canary_size': int(0, 10_000, 'systems'),
  'deploy.soak_minutes': num(0, 10_080, 'minutes'),
  'deploy.wave_size': int(1, 10_000, 'systems'),
  'deploy.failure_budget_count': int(0, 10_000, 'failed systems'),
  'deploy.failure_budget_percent': num(0, 100, 'percent'),
  'deploy.batch_size': int(1, 10_000, 'systems per UYUNI action'),
  'deploy.canary_fraction': num(0, 100, 'percent of each production group'),
  'deploy.verdict': int(0, 1, '1 = judge each wave, 0 = off'),
  'bundle.max_size': int(1, 64, 'errata'),
  'bundle.alone_below_score': num(0, 100, 'points'),
  'bundle.recent_runs': int(0, 10_000, 'test runs'),
  'bundle.failure_prior_percent': num(0.1, 50, 'percent'),
  'bundle.kernel_alone': int(0, 1, '1 = alone, 0 = with others'),
  // The statistical verdict (domain/judge.ts): Kayenta's judge for the test system and each wave.
  'verdict.confidence': num(0.5, 0.9999, 'confidence level'),
  'verdict.tolerance': num(0, 10, 'fraction of the estimate'),
  'verdict.min_samples': int(2, 100_000, 'samples per side'),
  'verdict.pass_score': num(0, 100, 'points'),
  'verdict.marginal_score': num(0, 100, 'points'),
  'verdict.cpu_allowed_increase': num(0, 100, 'percentage points'),
  'verdict.memory_allowed_increase': num(0, 100, 'percentage points'),
  'verdict.nodata_policy': choice('marginal', 'fail'),
  'verdict.marginal_reminder_hours': num(0.0001, 8760, 'hours'),
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

export const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(SETTINGS, key);

export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9@._:-]{0,127}$/;
export const MAX_SERVICES = 50;

/** What a key accepts, for people: "an integer from 1 to 10000 (systems)". */
export function describeSetting(spec: SettingSpec): string {
  if (spec.kind === 'choice') return `one of ${spec.values.join(', ')}`;
  if (spec.kind === 'services') {
    return `an object mapping an OS (${TARGET_OSES.join(', ')}) to at most ${MAX_SERVICES} service names (letters, digits, @ . _ : -)`;
  }
  return `${spec.integer ? 'an integer' : 'a number'} from ${spec.minimum} to ${spec.maximum} (${spec.unit})`;
}

export type SettingCheck<T = unknown> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Checks a value against its key's type and range. The message names the key and what it accepts:
 * `deploy.wave_size must be an integer from 1 to 10000 (systems); got 1.5`.
 */
export function checkSetting(key: SettingKey, value: unknown): SettingCheck {
  const spec: SettingSpec = SETTINGS[key];
  const refuse = (): SettingCheck => ({ ok: false, message: `${key} must be ${describeSetting(spec)}; got ${shown(value)}` });
  if (spec.kind === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return refuse();
    if (spec.integer && !Number.isInteger(value)) return refuse();
    if (value < spec.minimum || value > spec.maximum) return refuse();
    return { ok: true, value };
  }
  if (spec.kind === 'choice') return typeof value === 'string' && spec.values.includes(value) ? { ok: true, value } : refuse();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return refuse();
  for (const [os, services] of Object.entries(value)) {
    if (!(TARGET_OSES as readonly string[]).includes(os)) return { ok: false, message: `${key}: "${os}" is not an OS (${TARGET_OSES.join(', ')})` };
    if (!Array.isArray(services) || services.length > MAX_SERVICES || !services.every((s) => typeof s === 'string' && SERVICE_NAME.test(s))) {
      return { ok: false, message: `${key}.${os} must be a list of at most ${MAX_SERVICES} service names (letters, digits, @ . _ : -); got ${shown(services)}` };
    }
  }
  return { ok: true, value };
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface SettingInUse<T = unknown> {
  value: T;
  /** database: the stored value; fallback: the environment's or built-in value (no row, or a stored value out of range). */
  source: 'database' | 'fallback';
}

/** The value a reader uses: the stored one when it is in range, else the fallback. */
export function settingInUse<T>(key: SettingKey, stored: unknown, fallback: T): SettingInUse<T> {
  const check = stored === undefined ? undefined : checkSetting(key, stored);
  return check?.ok ? { value: check.value as T, source: 'database' } : { value: fallback, source: 'fallback' };
}

/** Fallbacks of the keys the environment does not set (the first migration's seed values). */
export const BUILT_IN_FALLBACKS = {
  'test.critical_services': { ubuntu: ['ssh', 'cron'], rhel: ['sshd', 'crond'], debian: ['ssh', 'cron'] } as Record<string, string[]>,
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
  'verdict.nodata_policy': 'marginal' as 'marginal' | 'fail',
  'verdict.marginal_reminder_hours': 4,
} satisfies Partial<Record<SettingKey, unknown>>;
