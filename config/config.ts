import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { Value } from '@sinclair/typebox/value';
import { EnvSchema, SECRET_VARIABLES, type Env } from './env-schema.js';
import { parseApiTokens, type ApiToken } from './api-tokens.js';
import type { ScoreWeights } from '../domain/score.js';
import type { TestTiming } from '../workflows/messages.js';
import { checkEventFilter } from '../domain/notification-events.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`configuration error: ${variable} ${message}`);
  }
}

export type Role = ApiToken['role'];
export type { ApiToken };

export interface Config {
  env: 'production' | 'lab';
  logLevel: Env['LOG_LEVEL'];
  uyuni: {
    url: string;
    user: string;
    password: string;
    verifyTls: boolean;
    caFile?: string;
    timeoutMs: number;
    pollIntervalMinutes: number;
    syncWorkers: number;
    timeZone: string;
    testGroupPrefix: string;
    syncOnStart: boolean;
    /** allowModules of every scheduling call that takes it (UYUNI_ALLOW_MODULES). */
    allowModules: boolean;
    retry: { maximumAttempts: number; initialIntervalMs: number };
  };
  db: { connectionString?: string; host: string; port: number; database: string; user: string; password: string; poolMax: number };
  score: ScoreWeights;

  testThresholds: { cpuDelta: number; memoryDelta: number };
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    /** TLS settings (file paths, read when connecting) or undefined for plaintext; temporal/connection.ts uses them. */
    tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
    apiKey?: string;
  };
  api: { host: string; port: number; tokens: ApiToken[] };
  salt: { url: string; user: string; password: string; eauth: string; verifyTls: boolean; timeoutMs: number };
  prometheus: { url: string; timeoutMs: number; nodeExporterPort: number };
  /** The test engine's timing (the starter hands it to each patchTest) and auto-dispatch. */
  test: TestTiming & { autoDispatch: boolean };
  /** Fallbacks for orchestrator_config's approval.reminder_hours / approval.expiry_days. */
  approval: { reminderHours: number; expiryDays: number };

  worker: { metricsPort: number; metricsHost: string; shutdownGraceMs: number; maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number; workflowBundle?: string; manageSchedules: boolean };
  health: { required: string[] };
  /** issue 14: NVD / EPSS / KEV enrichment */
  intel: {
    afterSync: boolean;
    nvd: { url: string; apiKey?: string; timeoutMs: number; rateLimit: number; windowMs: number; backoffMs: number; lookupMax: number; sweepDays: number; staleHours: number };
    epss: { url: string; staleHours: number };
    kev: { url: string; refreshHours: number };
    timeoutMs: number;
  };
  /** Email and webhook delivery (workflows/notify.ts). */
  notify: {
    smtp: { url: string | null; from: string; requireTls: boolean; verifyTls: boolean; timeoutMs: number; maxConnections: number };
    /** NOTIFY_EMAIL_RECIPIENTS: an email endpoint per filter, kept in step by the worker at start. */
    emailRecipients: { filter: string[]; recipients: string[] }[];
    dashboardUrl: string;
    webhookTimeoutMs: number;
    retryScheduleSeconds: number[];
    endpointConcurrency: number;
    sweepSeconds: number;
  };
}

const HEALTH_DEPENDENCIES = ['postgres', 'temporal', 'uyuni', 'prometheus'];

/** Reads `.env` (if present) under the process environment, which wins; never mutates process.env. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, dotenvPath = env.DOTENV_PATH ?? '.env') {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(readFileSync(dotenvPath));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

function describeValue(variable: string, value: unknown): string {
  if (SECRET_VARIABLES.has(variable as keyof Env)) return '';
  return ` (got ${JSON.stringify(value)})`;
}

function validate(raw: Record<string, string | undefined>): Env {
  const known: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = raw[key];
    // An empty optional variable means "not set", as in most .env conventions.
    if (value !== undefined && !(value === '' && isOptional(key))) known[key] = value;
  }
  const withDefaults = Value.Default(EnvSchema, known);
  const converted = Value.Convert(EnvSchema, withDefaults);
  const first = Value.Errors(EnvSchema, converted).First();
  if (first) {
    const variable = first.path.replace(/^\//, '').split('/')[0] || '(unknown)';
    const schema = EnvSchema.properties[variable as keyof Env] as { description?: string } | undefined;
    throw new ConfigError(
      variable,
      `is invalid: ${first.message.toLowerCase()}${describeValue(variable, known[variable])}` +
        (schema?.description ? ` — ${schema.description}` : ''),
    );
  }
  return converted as Env;
}

function isOptional(key: string): boolean {
  return !((EnvSchema.required ?? []) as string[]).includes(key);
}

function checkUrl(variable: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `is not a valid URL${describeValue(variable, value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, `must use ${protocols.join(' or ')}${describeValue(variable, value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** `approval.*=a@x,b@x;deployment.halted=c@x;*=d@x` → one entry per filter (a filter may be `a|b`). */
function parseRecipients(variable: string, value: string): { filter: string[]; recipients: string[] }[] {
  return value
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      const filter = (eq > 0 ? part.slice(0, eq) : '').split('|').map((f) => f.trim()).filter(Boolean);
      const recipients = (eq > 0 ? part.slice(eq + 1) : '').split(',').map((r) => r.trim()).filter(Boolean);
      const problem = filter.length === 0 || recipients.length === 0 ? 'needs <event filter>=<address>[,<address>…]' : checkEventFilter(filter);
      if (problem) throw new ConfigError(variable, `has "${part}": ${problem}`);
      const bad = recipients.find((r) => !/^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(r));
      if (bad) throw new ConfigError(variable, `has "${bad}", which is not an email address`);
      return { filter, recipients };
    });
}

/** `5s,5m,2h` → seconds; at most 20 entries, each from 0.01 s to 7 days. */
function parseDurations(variable: string, value: string): number[] {
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || parts.length > 20) throw new ConfigError(variable, `must list 1 to 20 delays${describeValue(variable, value)}`);
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(p);
    const seconds = m ? Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
    if (!(seconds >= 0.01 && seconds <= 7 * 86_400)) {
      throw new ConfigError(variable, `has "${p}": each delay is a number with s, m or h (0.01 s to 7 days)${describeValue(variable, value)}`);
    }
    return seconds;
  });
}

function deepFreeze<T>(obj: T): T {
  for (const value of Object.values(obj as object)) {
    if (value && typeof value === 'object') deepFreeze(value);
  }
  return Object.freeze(obj);
}

export function loadConfig(raw: Record<string, string | undefined> = readEnvironment()): Readonly<Config> {
  const e = validate(raw);
  const tokens = parseApiTokens(e.API_TOKENS ?? '', (message) => new ConfigError('API_TOKENS', message));
  const required = e.HEALTH_REQUIRED.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = required.find((r) => !HEALTH_DEPENDENCIES.includes(r));
  if (unknown) {
    throw new ConfigError('HEALTH_REQUIRED', `names an unknown dependency "${unknown}" (known: ${HEALTH_DEPENDENCIES.join(', ')})`);
  }
  if (e.DATABASE_URL) checkUrl('DATABASE_URL', e.DATABASE_URL, ['postgres:', 'postgresql:']);
  if (e.UYUNI_CA_FILE) {
    try {
      readFileSync(e.UYUNI_CA_FILE);
    } catch {
      throw new ConfigError('UYUNI_CA_FILE', `cannot be read${describeValue('UYUNI_CA_FILE', e.UYUNI_CA_FILE)}`);
    }
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: e.UYUNI_TIMEZONE });
  } catch {
    throw new ConfigError('UYUNI_TIMEZONE', `is not an IANA time zone${describeValue('UYUNI_TIMEZONE', e.UYUNI_TIMEZONE)}`);
  }
  if (!/^[^:\s]+:\d{1,5}$/.test(e.TEMPORAL_ADDRESS)) {
    throw new ConfigError('TEMPORAL_ADDRESS', `must be host:port${describeValue('TEMPORAL_ADDRESS', e.TEMPORAL_ADDRESS)}`);
  }
  const temporalTls = temporalTlsConfig(e);
  // A baseline window (and the rate() window before it) must fit after the system's last change within the
  // wait, or every test right after another one would be inconclusive.
  if (e.TEST_BASELINE_TIMEOUT_SECONDS <= e.TEST_METRICS_RANGE_SECONDS + e.TEST_METRICS_WINDOW_SECONDS) {
    throw new ConfigError(
      'TEST_BASELINE_TIMEOUT_SECONDS',
      `must be longer than TEST_METRICS_RANGE_SECONDS + TEST_METRICS_WINDOW_SECONDS (${e.TEST_METRICS_RANGE_SECONDS + e.TEST_METRICS_WINDOW_SECONDS} s); got ${e.TEST_BASELINE_TIMEOUT_SECONDS}`,
    );
  }

  if (e.SMTP_URL) checkUrl('SMTP_URL', e.SMTP_URL, ['smtp:', 'smtps:']);
  const retryScheduleSeconds = parseDurations('NOTIFY_RETRY_SCHEDULE', e.NOTIFY_RETRY_SCHEDULE);

  const config: Config = {
    env: e.SPM_ENV,
    logLevel: e.LOG_LEVEL,
    uyuni: {
      url: checkUrl('UYUNI_URL', e.UYUNI_URL, ['http:', 'https:']),
      user: e.UYUNI_USER,
      password: e.UYUNI_PASSWORD,
      verifyTls: e.UYUNI_VERIFY_SSL,
      ...(e.UYUNI_CA_FILE ? { caFile: e.UYUNI_CA_FILE } : {}),
      timeoutMs: e.UYUNI_TIMEOUT_SECONDS * 1000,
      pollIntervalMinutes: e.UYUNI_POLL_INTERVAL_MINUTES,
      syncWorkers: e.UYUNI_SYNC_WORKERS,
      timeZone: e.UYUNI_TIMEZONE,
      testGroupPrefix: e.UYUNI_TEST_GROUP_PREFIX,
      syncOnStart: e.UYUNI_SYNC_ON_START,
      allowModules: e.UYUNI_ALLOW_MODULES,
      retry: { maximumAttempts: e.UYUNI_RETRY_MAX_ATTEMPTS, initialIntervalMs: Math.round(e.UYUNI_RETRY_INITIAL_SECONDS * 1000) },
    },
    db: {
      ...(e.DATABASE_URL ? { connectionString: e.DATABASE_URL } : {}),
      host: e.DB_HOST,
      port: e.DB_PORT,
      database: e.DB_NAME,
      user: e.DB_USER,
      password: e.DB_PASSWORD,
      poolMax: e.DB_POOL_MAX,
    },
    score: {
      kernelPenalty: e.SCORE_KERNEL_PENALTY,
      rebootPenalty: e.SCORE_REBOOT_PENALTY,
      configPenalty: e.SCORE_CONFIG_PENALTY,
      dependencyPenalty: e.SCORE_DEPENDENCY_PENALTY,
      dependencyMaxPenalty: e.SCORE_DEPENDENCY_MAX_PENALTY,
      sizePenaltyPerMb: e.SCORE_SIZE_PENALTY_PER_MB,
      sizeMaxPenalty: e.SCORE_SIZE_MAX_PENALTY,
      historyMaxPenalty: e.SCORE_HISTORY_MAX_PENALTY,
      historyMinTests: e.SCORE_HISTORY_MIN_TESTS,
      smallPatchBonus: e.SCORE_SMALL_PATCH_BONUS,
      smallPatchBytes: e.SCORE_SMALL_PATCH_BYTES,
    },
    testThresholds: { cpuDelta: e.TEST_CPU_DELTA_THRESHOLD, memoryDelta: e.TEST_MEMORY_DELTA_THRESHOLD },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: checkUrl('TEMPORAL_UI_URL', e.TEMPORAL_UI_URL, ['http:', 'https:']),
      ...(temporalTls ? { tls: temporalTls } : {}),
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
    },
    api: { host: e.API_HOST, port: e.API_PORT, tokens },
    salt: {
      url: checkUrl('SALT_URL', e.SALT_URL, ['http:', 'https:']),
      user: e.SALT_USER,
      password: e.SALT_PASSWORD,
      eauth: e.SALT_EAUTH,
      verifyTls: e.SALT_VERIFY_SSL,
      timeoutMs: e.SALT_TIMEOUT_SECONDS * 1000,
    },
    prometheus: {
      url: checkUrl('PROMETHEUS_URL', e.PROMETHEUS_URL, ['http:', 'https:']),
      timeoutMs: e.PROMETHEUS_TIMEOUT_SECONDS * 1000,
      nodeExporterPort: e.NODE_EXPORTER_PORT,
    },
    test: {
      settleSeconds: e.TEST_SETTLE_SECONDS,
      metricsRangeSeconds: e.TEST_METRICS_RANGE_SECONDS,
      metricsWindowSeconds: e.TEST_METRICS_WINDOW_SECONDS,
      pollSeconds: e.TEST_POLL_SECONDS,
      actionTimeoutSeconds: e.TEST_ACTION_TIMEOUT_SECONDS,
      rebootTimeoutSeconds: e.TEST_REBOOT_TIMEOUT_SECONDS,
      leaseWaitSeconds: e.TEST_LEASE_WAIT_SECONDS,
      baselineTimeoutSeconds: e.TEST_BASELINE_TIMEOUT_SECONDS,
      autoDispatch: e.TEST_AUTO_DISPATCH,
    },
    approval: { reminderHours: e.APPROVAL_REMINDER_HOURS, expiryDays: e.APPROVAL_EXPIRY_DAYS },
    worker: {
      metricsPort: e.WORKER_METRICS_PORT,
      metricsHost: e.WORKER_METRICS_HOST,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      manageSchedules: e.WORKER_MANAGE_SCHEDULES,
      ...(e.WORKER_WORKFLOW_BUNDLE ? { workflowBundle: e.WORKER_WORKFLOW_BUNDLE } : {}),
    },
    health: { required },
    intel: {
      afterSync: e.INTEL_AFTER_SYNC,
      nvd: {
        url: checkUrl('NVD_URL', e.NVD_URL, ['http:', 'https:']),
        ...(e.NVD_API_KEY ? { apiKey: e.NVD_API_KEY } : {}),
        timeoutMs: e.NVD_TIMEOUT_SECONDS * 1000,
        rateLimit: e.NVD_RATE_LIMIT || (e.NVD_API_KEY ? 50 : 5),
        windowMs: e.NVD_RATE_WINDOW_SECONDS * 1000,
        backoffMs: Math.round(e.NVD_BACKOFF_SECONDS * 1000),
        lookupMax: e.INTEL_NVD_LOOKUP_MAX,
        sweepDays: e.INTEL_NVD_SWEEP_DAYS,
        staleHours: e.INTEL_NVD_STALE_HOURS,
      },
      epss: { url: checkUrl('EPSS_URL', e.EPSS_URL, ['http:', 'https:']), staleHours: e.INTEL_EPSS_STALE_HOURS },
      kev: { url: checkUrl('KEV_URL', e.KEV_URL, ['http:', 'https:']), refreshHours: e.INTEL_KEV_REFRESH_HOURS },
      timeoutMs: e.INTEL_TIMEOUT_SECONDS * 1000,
    },
    notify: {
      smtp: {
        url: e.SMTP_URL ?? null,
        from: e.SMTP_FROM,
        requireTls: e.SMTP_REQUIRE_TLS,
        verifyTls: e.SMTP_VERIFY_TLS,
        timeoutMs: e.SMTP_TIMEOUT_SECONDS * 1000,
        maxConnections: e.SMTP_MAX_CONNECTIONS,
      },
      emailRecipients: parseRecipients('NOTIFY_EMAIL_RECIPIENTS', e.NOTIFY_EMAIL_RECIPIENTS ?? ''),
      dashboardUrl: checkUrl('NOTIFY_DASHBOARD_URL', e.NOTIFY_DASHBOARD_URL, ['http:', 'https:']),
      webhookTimeoutMs: e.NOTIFY_WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryScheduleSeconds,
      endpointConcurrency: e.NOTIFY_ENDPOINT_CONCURRENCY,
      sweepSeconds: e.NOTIFY_SWEEP_SECONDS,
    },
  };
  return deepFreeze(config);
}

function readablePem(variable: keyof Env, file: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(variable, `cannot be read${describeValue(variable, file)}`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    throw new ConfigError(variable, `is not a PEM ${kind.toLowerCase()} file${describeValue(variable, file)}`);
  }
  return file;
}

/** TEMPORAL_TLS*: undefined for plaintext; the files are checked here and read when connecting. */
function temporalTlsConfig(e: Env): Config['temporal']['tls'] {
  const implied = Boolean(e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_KEY || e.TEMPORAL_API_KEY);
  if (e.TEMPORAL_TLS === 'false') {
    if (implied) {
      throw new ConfigError('TEMPORAL_TLS', 'is false but TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY or TEMPORAL_API_KEY is set');
    }
    return undefined;
  }
  if (e.TEMPORAL_TLS === 'auto' && !implied) return undefined;
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    throw new ConfigError(e.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT', 'is required with the other half of the client certificate pair (mTLS needs both)');
  }
  return {
    ...(e.TEMPORAL_TLS_CA ? { caFile: readablePem('TEMPORAL_TLS_CA', e.TEMPORAL_TLS_CA, 'CERTIFICATE') } : {}),
    ...(e.TEMPORAL_TLS_CERT ? { certFile: readablePem('TEMPORAL_TLS_CERT', e.TEMPORAL_TLS_CERT, 'CERTIFICATE') } : {}),
    ...(e.TEMPORAL_TLS_KEY ? { keyFile: readablePem('TEMPORAL_TLS_KEY', e.TEMPORAL_TLS_KEY, 'PRIVATE KEY') } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/**
 * Entry points call this: a bad value stops the process with one line naming the variable
 * (and never its value when it is a secret).
 */
export function loadConfigOrExit(raw?: Record<string, string | undefined>): Readonly<Config> {
  try {
    return loadConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
