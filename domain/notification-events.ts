import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';

// The events a person hears of (ARCHITECTURE §3 "Notifications"), each with one fixed JSON schema. A webhook
// body and an email are rendered from the same envelope: `{ type, timestamp, data }` (Standard Webhooks'
// payload shape). `data` always carries `queue_id`, `advisory` and `os` (null where the event is not about a
// queue item: a sync, a test system) and `links` (the dashboard page and the Temporal Web UI workflow).
// recordEvent (db/queries/notifications.ts) checks every event against its schema before it writes it.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());
const NNum = Nullable(Type.Number());
const NInt = Nullable(Type.Integer());

export const EventLinks = Type.Object(
  {
    dashboard: Type.String({ description: 'the dashboard page of this event (the approval inbox for approvals)' }),
    temporal: NStr,
  },
  { additionalProperties: false },
);

/** The fields every event's data has, then the event's own. */
const common = {
  queue_id: NInt,
  advisory: NStr,
  os: NStr,
};

function eventData<P extends TProperties>(own: P, description: string) {
  return Type.Object({ ...common, ...own }, { additionalProperties: false, description });
}

const TestEvidence = Type.Object(
  {
    test_id: Type.Integer(),
    test_system: NStr,
    cpu_delta: NNum,
    memory_delta: NNum,
    services: Type.Unknown({ description: 'the critical services and their state after the patch' }),
    reboot_duration_seconds: NNum,
    snapshot_type: NStr,
    completed_at: NStr,
  },
  { additionalProperties: false },
);

const testOutcome = (description: string) =>
  eventData(
    {
      test_id: Type.Integer(),
      workflow_id: NStr,
      test_system: NStr,
      failure_phase: NStr,
      reason: NStr,
      cpu_delta: NNum,
      memory_delta: NNum,
    },
    description,
  );

const deploymentCounts = {
  workflow_id: NStr,
  targets: Type.Integer(),
  applied: Type.Integer(),
  failed: Type.Integer(),
};

/** Every event type with the schema of its `data` (without `links`, which delivery adds). */
export const EVENT_DATA = {
  'sync.completed': Type.Object(
    {
      ...common,
      sync_run_id: Type.Integer(),
      trigger: Type.String(),
      groups: Type.Integer(),
      systems: Type.Integer(),
      errata: Type.Integer(),
      inserted: Type.Integer(),
      updated: Type.Integer(),
      duration_seconds: NNum,
    },
    { additionalProperties: false, description: 'a UYUNI sync committed its run into the errata cache' },
  ),
  'sync.failed': Type.Object(
    { ...common, sync_run_id: Type.Integer(), trigger: Type.String(), error: Type.String() },
    { additionalProperties: false, description: 'a UYUNI sync failed; the cache is as it was before the run' },
  ),
  'test.passed': testOutcome('a patch passed its test and will wait for a decision'),
  'test.failed': testOutcome('a patch failed its test (the reason and the phase say why)'),
  'test.rolled_back': testOutcome('a patch failed its test and was rolled back, the rollback verified'),
  'test.inconclusive': testOutcome('a test could not reach a verdict (nothing was applied); it is queued again later'),
  'bundle.culprit_found': eventData(
    {
      bundle_id: Type.Integer(),
      culprit_advisory: Type.String(),
      culprit_queue_id: NInt,
      members: Type.Array(Type.String(), { description: 'the advisories of the bundle' }),
      test_id: NInt,
      reason: NStr,
    },
    'a bundle of errata failed its test and bisection found the erratum that broke it',
  ),
  'approval.requested': eventData(
    {
      test_id: Type.Integer(),
      synopsis: NStr,
      severity: NStr,
      cves: Type.Array(Type.String()),
      success_score: NNum,
      evidence: TestEvidence,
    },
    'a passed patch waits for a person to approve, reject or snooze it',
  ),
  'approval.reminder': eventData(
    { test_id: Type.Integer(), reminder: Type.Integer(), reason: Type.String() },
    'a patch still waits for a decision (a reminder, or a snooze ended)',
  ),
  'approval.decided': eventData(
    {
      approval_id: Type.Integer(),
      test_id: Type.Integer(),
      decision: Type.Union([Type.Literal('approve'), Type.Literal('reject'), Type.Literal('snooze')]),
      by: Type.String(),
      reason: NStr,
      until: NStr,
      source: Type.String(),
    },
    'a person approved, rejected or snoozed a patch',
  ),
  'approval.expired': eventData({ test_id: Type.Integer(), reason: Type.String() }, 'nobody decided before the approval expired'),
  'deployment.started': eventData(
    { deployment_id: Type.Integer(), workflow_id: NStr, requested_by: Type.String(), source: Type.String(), policy: Type.Unknown() },
    'a production rollout was requested and starts',
  ),
  'deployment.wave_completed': eventData(
    { ...deploymentCounts, wave: Type.Integer(), wave_kind: Type.String(), wave_applied: Type.Integer(), wave_failed: Type.Integer() },
    'a wave of the rollout finished',
  ),
  'deployment.halted': eventData(
    {
      ...deploymentCounts,
      cause: Type.Union([Type.Literal('budget'), Type.Literal('manual'), Type.Literal('retraction')]),
      by: NStr,
      reason: NStr,
      skipped: Type.Integer(),
    },
    'the rollout stopped: the failure budget was exceeded, a person halted it, or its advisory was retracted',
  ),
  'deployment.verdict_paused': eventData(
    {
      verdict_id: Type.Integer(),
      wave: NInt,
      group: NStr,
      verdict: Type.String({ description: 'marginal, or nodata' }),
      score: NNum,
      reminder: Type.Integer({ description: '0 for the first notice, then 1, 2, … every verdict.marginal_reminder_hours' }),
      reason: Type.String(),
    },
    'a wave verdict was marginal (or had no data): the rollout waits for a person to continue or halt it',
  ),
  'deployment.completed': eventData({ ...deploymentCounts, skipped: Type.Integer() }, 'the rollout reached every target'),
  'deployment.rolled_back': eventData(
    { workflow_id: NStr, verified: Type.Boolean(), rolled_back: Type.Integer(), failed: Type.Integer(), reason: NStr },
    'the production rollback finished (verified, or with the systems that differ)',
  ),
  'advisory.retracted': eventData(
    {
      reason: Type.String(),
      found_by: Type.String({ description: 'sync (errata.getDetails said retracted), test or rollout (UYUNI refused it with fault 2602)' }),
      cancelled: Type.Array(Type.Integer(), { description: 'queue items cancelled (queued, untestable, inconclusive)' }),
      halted: Type.Array(Type.Integer(), { description: 'queue items whose running rollout is halted' }),
      refused: Type.Array(Type.Integer(), { description: 'queue items left as they are whose approval and deployment are now refused' }),
    },
    'an advisory was retracted by its vendor: its queued items are cancelled, its rollouts halted, approval and deployment refused',
  ),
  'test_system.quarantined': eventData(
    { system_id: Type.Integer(), name: NStr, reason: Type.String(), test_id: NInt },
    'a test system is quarantined: it is never leased again until an operator releases it',
  ),
  'notification.test': eventData({ endpoint_id: Type.Integer(), requested_by: Type.String(), message: Type.String() }, 'a test event sent by hand to one endpoint'),
} as const satisfies Record<string, TObject>;

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export type EventData<T extends EventType> = Static<(typeof EVENT_DATA)[T]>;

export const isEventType = (s: string): s is EventType => Object.hasOwn(EVENT_DATA, s);

/** The envelope of one event as it is sent: what a webhook body is and an email is rendered from. */
export interface EventEnvelope<T extends EventType = EventType> {
  type: T;
  timestamp: string;
  data: EventData<T> & { links: Static<typeof EventLinks> };
}

/** The JSON schema of a whole envelope of one type (documented at GET /api/v1/notifications/event-types). */
export function envelopeSchema(type: EventType) {
  const data = EVENT_DATA[type];
  return Type.Object(
    {
      type: Type.Literal(type),
      timestamp: Type.String({ format: 'date-time' }),
      data: Type.Object({ ...data.properties, links: EventLinks }, { additionalProperties: false }),
    },
    { additionalProperties: false, description: data.description },
  );
}

// --- endpoint filters ------------------------------------------------------------------------------------

/** A filter entry: `*`, a whole family `approval.*`, or one type. */
export const EVENT_FILTER = /^(\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$/;

export function checkEventFilter(filter: readonly string[]): string | null {
  if (filter.length === 0) return 'must name at least one event type (or "*")';
  for (const f of filter) {
    if (!EVENT_FILTER.test(f)) return `has "${f}": use "*", "<family>.*" or an event type`;
    if (f.endsWith('.*') && f !== '*' && !EVENT_TYPES.some((t) => t.startsWith(f.slice(0, -1)))) return `has "${f}": no event type of that family`;
    if (!f.includes('*') && !isEventType(f)) return `has "${f}", which is not an event type`;
  }
  return null;
}

export function filterMatches(filter: readonly string[], type: string): boolean {
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}

// --- the retry schedule ----------------------------------------------------------------------------------

/**
 * Delays (seconds) after each failed attempt, Standard Webhooks' example: the first attempt at once, then 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h — ten attempts over about three days.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];

/** The most a Retry-After may push the next attempt out (a day). */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * When the next attempt is due after failed attempt number `step` (1-based within the current round), or
 * null when the schedule is used up. `retryAfterSeconds` (429/5xx) is honoured: never sooner than it asks.
 * `jitter` in [0, 1) spreads retries by up to ±10 %.
 */
export function nextAttemptDelaySeconds(
  schedule: readonly number[],
  step: number,
  retryAfterSeconds: number | null,
  jitter: number,
): number | null {
  if (step < 1 || step > schedule.length) return null;
  const base = schedule[step - 1]! * (0.9 + 0.2 * jitter);
  const asked = retryAfterSeconds === null ? 0 : Math.min(Math.max(retryAfterSeconds, 0), MAX_RETRY_AFTER_SECONDS);
  return Math.max(base, asked);
}

/** `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  // an HTTP date (IMF-fixdate, or the obsolete forms): a day or month name, never a bare number
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** What an HTTP answer means for a delivery. */
export type WebhookVerdict = 'delivered' | 'retry' | 'disable';

export function webhookVerdict(status: number): WebhookVerdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'disable';
  // 3xx (redirects are not followed), 4xx, 429 and 5xx: failed this time, tried again on the schedule.
  return 'retry';
}
