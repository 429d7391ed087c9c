import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { QueueStatus } from '../domain/queue-status.js';
import type { InventoryChanges, KernelState, PackageInventory } from '../domain/package-inventory.js';
import type { NextWindow } from '../domain/maintenance-plan.js';
import type { Severity } from '../domain/severity.js';

// The typed view of the schema the migrations create. test/integration/db-schema.test.ts compares it with
// information_schema, so a migration that drifts from these types fails the suite.

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** `date` columns are read as 'YYYY-MM-DD' strings (see connection.ts): a calendar day has no time zone. */
type DateString = ColumnType<string | null, string | null | undefined, string | null>;
/** jsonb is written as JSON text (db/json.ts): node-postgres would turn a JS array into a PostgreSQL array. */
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
type DefaultedJson<T> = ColumnType<T, string | undefined, string>;
/** Any JSON value but null (a NOT NULL jsonb column). */
export type JsonValue = string | number | boolean | readonly unknown[] | Record<string, unknown>;

export interface SyncRunsTable {
  id: Generated<number>;
  workflow_id: string;
  run_id: string;
  trigger: 'schedule' | 'api' | 'cli' | 'startup' | 'manual';
  status: ColumnType<'running' | 'succeeded' | 'failed', 'running' | 'succeeded' | 'failed' | undefined>;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
  groups_count: Generated<number>;
  systems_count: Generated<number>;
  errata_count: Generated<number>;
  errata_inserted: Generated<number>;
  errata_updated: Generated<number>;
  cves_fetched: Generated<number>;
  uyuni_calls: Generated<number>;
  phase_durations: DefaultedJson<Record<string, number>>;
  errors: DefaultedJson<SyncError[]>;
  error: string | null;
}

export interface SyncError {
  scope: string;
  message: string;
}

export type { Severity };

export interface ErrataPackage {
  id: number;
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
  size: number;
}

export interface ErrataCacheTable {
  id: Generated<number>;
  advisory_name: string;
  uyuni_errata_id: number | null;
  advisory_type: string;
  advisory_status: string | null;
  synopsis: string | null;
  description: string | null;
  severity: Severity;
  uyuni_severity: string | null;
  cves: ColumnType<string[], string[] | undefined, string[]>;
  packages: NullableJson<ErrataPackage[]>;
  packages_fetched_at: NullableTimestamp;
  target_os: ColumnType<string[], string[] | undefined, string[]>;
  test_system_ids: ColumnType<number[], number[] | undefined, number[]>;
  requires_reboot: Generated<boolean>;
  issue_date: DateString;
  update_date: DateString;
  first_seen_at: Timestamp;
  last_synced_at: Timestamp;
  last_sync_run_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** issue 14: where `severity` comes from (cvss = its highest CVSS; kept by a trigger) */
  severity_source: ColumnType<'cvss' | 'uyuni' | 'advisory_type', 'cvss' | 'uyuni' | 'advisory_type' | undefined, 'cvss' | 'uyuni' | 'advisory_type'>;
  cvss_score: number | null;
  cvss_version: string | null;
  cvss_source: string | null;
  cvss_cve: string | null;
  epss_score: number | null;
  epss_percentile: number | null;
  epss_cve: string | null;
  kev: Generated<boolean>;
  kev_due_date: DateString;
  kev_ransomware: Generated<boolean>;
  urgency: Generated<number>;
  urgency_breakdown: DefaultedJson<JsonValue>;
  intel_at: NullableTimestamp;
  /** issue 15: since when the advisory is known to be retracted (sticky, set by a trigger from advisory_status). */
  retracted_at: NullableTimestamp;
}

/** issue 14: what NVD, FIRST EPSS and CISA KEV say about one CVE. */
export interface CveIntelTable {
  cve_id: string;
  nvd_status: string | null;
  nvd_published: NullableTimestamp;
  nvd_last_modified: NullableTimestamp;
  cvss_score: number | null;
  cvss_vector: string | null;
  cvss_version: string | null;
  cvss_source: string | null;
  cvss_type: string | null;
  nvd_fetched_at: NullableTimestamp;
  epss_score: number | null;
  epss_percentile: number | null;
  epss_date: DateString;
  epss_model_version: string | null;
  epss_fetched_at: NullableTimestamp;
  kev: Generated<boolean>;
  kev_date_added: DateString;
  kev_due_date: DateString;
  kev_ransomware: Generated<boolean>;
  kev_name: string | null;
  kev_fetched_at: NullableTimestamp;
  fetched_at: Generated<Date>;
}

/** issue 14: per intelligence source, when it was last refreshed and what version it had. */
export interface IntelSourcesTable {
  source: 'nvd' | 'epss' | 'kev';
  refreshed_at: NullableTimestamp;
  version: string | null;
  score_date: DateString;
  window_end: NullableTimestamp;
  details: DefaultedJson<Record<string, unknown>>;
}

/** issue 14: every NVD request's time, the rolling-window rate limit shared by every worker process. */
export interface NvdRequestLogTable {
  id: Generated<string>;
  at: Generated<Date>;
}

export interface PatchTestQueueTable {
  id: Generated<number>;
  advisory_name: string;
  target_os: string;
  status: ColumnType<QueueStatus, QueueStatus | undefined, QueueStatus>;
  status_changed_at: Timestamp;
  /** The newest completed_at of its passed tests (a trigger on patch_tests keeps it; migration 2026_12_08_0001). */
  last_passed_at: Generated<Date | null>;
  priority_override: number | null;
  notes: string | null;
  success_score: number | null;
  requires_reboot: Generated<boolean>;
  queued_by: string | null;
  workflow_id: string | null;
  test_system_id: number | null;
  snoozed_until: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** 1 Critical … 4 Low, copied from errata_cache by a trigger (the queue's sort key). */
  severity_rank: Generated<number>;
  /** The queueing request that created the row (idempotent retries). */
  request_id: string | null;
  /** Why the item is in its status, when that needs saying (untestable, inconclusive, a failed rollback). */
  status_reason: string | null;
  /** issue 14: errata_cache.urgency, copied by a trigger (the work order's second key). */
  urgency: Generated<number>;
}

export interface QueueCountsTable {
  status: string;
  target_os: string;
  severity_rank: number;
  items: number;
  scored: number;
  score_sum: number;
}

export interface QueueStatusTransitionsTable {
  from_status: string;
  to_status: string;
}

export interface PatchRiskProfileTable {
  id: Generated<number>;
  queue_id: number;
  advisory_name: string;
  success_score: number;
  has_kernel: boolean;
  requires_reboot: boolean;
  has_config_files: boolean;
  dependency_count: number;
  total_size_bytes: number;
  failure_history_count: Generated<number>;
  breakdown: Json<JsonValue>;
  weights: Json<Record<string, number>>;
  computed_at: Timestamp;
}

export type TestStatus = 'running' | 'passed' | 'failed' | 'rolled_back' | 'inconclusive' | 'cancelled';

export interface PatchTestsTable {
  id: Generated<number>;
  queue_id: number;
  workflow_id: string;
  run_id: string;
  test_system_id: number | null;
  test_system_name: string | null;
  status: ColumnType<TestStatus, TestStatus | undefined, TestStatus>;
  started_at: Timestamp;
  completed_at: NullableTimestamp;
  metrics_before: NullableJson<unknown>;
  metrics_after: NullableJson<unknown>;
  cpu_delta: number | null;
  memory_delta: number | null;
  services: NullableJson<unknown>;
  snapshot_id: string | null;
  snapshot_type: 'snapper' | 'package' | null;
  requires_reboot: boolean | null;
  reboot_duration_seconds: number | null;
  rollback_type: 'package' | 'snapshot' | null;
  rollback_verified: boolean | null;
  uyuni_action_id: number | null;
  failure_phase: string | null;
  failure_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Package versions before the patch (the package-level restore point), by package name. */
  restore_point: NullableJson<Record<string, string>>;
  test_system_ip: string | null;
  test_system_minion: string | null;
  /** Every installed package before the patch (name → versions): what the rollback restores. */
  inventory_before: NullableJson<PackageInventory>;
  /** The boot default and running kernel before the patch. */
  kernel_before: NullableJson<KernelState>;
  /** What a failure is blamed on: only `patch` counts in an erratum's failure history. */
  failure_cause: 'patch' | 'test_system' | 'unknown' | 'bundle' | null;
  /** What the patch changed (upgraded, added, removed), read from the inventory right after it. */
  inventory_changes: NullableJson<InventoryChanges>;
  /** The bundle node this run tested (several errata at once), or null for a one-erratum test. */
  bundle_id: number | null;
}

export type BundleKind = 'bundle' | 'half' | 'rest' | 'retest' | 'probe';
export type BundleRunStatus = 'pending' | 'running' | 'passed' | 'failed' | 'inconclusive';
export type MemberVerdictKind = 'passed' | 'rolled_back' | 'interaction' | 'inconclusive';

/** One test run of a set of queue items: a bundle (root) or a node of its bisection tree. */
export interface TestBundlesTable {
  id: Generated<number>;
  /** The bundle this node bisects (null on the root itself). */
  root_id: number | null;
  parent_id: number | null;
  kind: BundleKind;
  target_os: string;
  workflow_id: string;
  /** Queue item ids, in work order. */
  member_ids: number[];
  status: ColumnType<BundleRunStatus, BundleRunStatus | undefined, BundleRunStatus>;
  cause: 'patch' | 'test_system' | 'unknown' | null;
  failure_reason: string | null;
  test_id: number | null;
  /** The root's chosen size and why (failure probability, Dorfman size, limits). */
  size_policy: NullableJson<unknown>;
  /** The root's final verdict per member, once settled. */
  outcome: NullableJson<unknown>;
  requested_by: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
}

export interface TestBundleMembersTable {
  bundle_id: number;
  queue_id: number;
  position: number;
  /** Set on the root when the bundle is settled. */
  verdict: MemberVerdictKind | null;
  reason: string | null;
}

export interface TestSystemsTable {
  system_id: number;
  name: string;
  os: string;
  group_name: string;
  minion_id: string | null;
  last_seen_at: Timestamp;
  /** Workflow id of the test holding the system, or null when free. */
  leased_by: string | null;
  leased_run_id: string | null;
  leased_at: NullableTimestamp;
  quarantined: Generated<boolean>;
  quarantine_reason: string | null;
  quarantined_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type TestPhase = 'lease' | 'snapshot' | 'patch' | 'reboot' | 'validate' | 'services' | 'rollback' | 'verify_rollback';
export type PhaseStatus = 'running' | 'passed' | 'failed' | 'skipped';

export interface PatchTestPhasesTable {
  id: Generated<number>;
  test_id: number;
  phase: TestPhase;
  status: ColumnType<PhaseStatus, PhaseStatus | undefined, PhaseStatus>;
  started_at: Timestamp;
  completed_at: NullableTimestamp;
  duration_ms: number | null;
  details: DefaultedJson<JsonValue>;
  error: string | null;
}

export interface PatchApprovalsTable {
  id: Generated<number>;
  queue_id: number;
  test_id: number | null;
  workflow_id: string;
  decision: 'approve' | 'reject' | 'snooze' | 'expire';
  decided_by: string;
  reason: string | null;
  snooze_until: NullableTimestamp;
  evidence: DefaultedJson<JsonValue>;
  source: ColumnType<'api' | 'cli' | 'dashboard' | 'system', 'api' | 'cli' | 'dashboard' | 'system' | undefined>;
  request_id: string;
  decided_at: Timestamp;
}

export type DeploymentStatus =
  | 'pending'
  | 'applying'
  | 'rebooting'
  | 'verifying'
  | 'applied'
  | 'failed'
  | 'skipped'
  | 'rolled_back'
  | 'rollback_failed';

export interface PatchDeploymentsTable {
  id: Generated<number>;
  queue_id: number;
  workflow_id: string;
  system_id: number;
  system_name: string;
  group_name: string | null;
  wave: number;
  status: ColumnType<DeploymentStatus, DeploymentStatus | undefined, DeploymentStatus>;
  uyuni_action_id: number | null;
  pre_versions: NullableJson<Record<string, string>>;
  services: NullableJson<unknown>;
  error: string | null;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** UYUNI completed the erratum on the system (what a rollback must undo). */
  patched: Generated<boolean>;
  inventory_before: NullableJson<PackageInventory>;
  kernel_before: NullableJson<KernelState>;
  inventory_changes: NullableJson<InventoryChanges>;
  /** The batch of its wave: one UYUNI action per batch (null for rows planned before batches). */
  batch: number | null;
  /** Salt's boot time (status.uptime since_t, epoch seconds) read with the restore point: a reboot is proved against it. */
  boot_before: ColumnType<number | null, number | null | undefined, number | null>;
  /** The next maintenance window its batch was cut by (domain/maintenance-plan.ts NextWindow; null: no schedule). */
  next_window: NullableJson<NextWindow>;
  /** Its batch's earliest (the window's start, or when the batch was cut if it may go at once); null: never, or planned before windows. */
  earliest: NullableTimestamp;
  /** The batch it left when UYUNI refused it outside its window (fault 1334) and it moved to its next window. */
  rescheduled_from: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A rollout's plan computed without starting it (a dry run): one row per queue item, replaced by the next. */
export interface DeploymentPlansTable {
  queue_id: number;
  planned_at: Generated<Date>;
  policy: Json<Record<string, unknown>>;
  targets: number;
  waves: number;
}

export interface DeploymentPlanTargetsTable {
  queue_id: number;
  system_id: number;
  system_name: string;
  group_name: string | null;
  wave: number;
  batch: number;
  minion: string;
  errata: NullableJson<{ errataIds: number[]; advisoryNames: string[]; requiresReboot: boolean }>;
  /** As patch_deployments.next_window / earliest, as seen when the dry run was planned. */
  next_window: NullableJson<NextWindow>;
  earliest: NullableTimestamp;
}

export type OperatorActionSource = 'api' | 'cli' | 'dashboard' | 'system';

/** Every human action, recorded before it takes effect; refused ones with why. */
export interface OperatorActionsTable {
  id: Generated<number>;
  queue_id: number | null;
  workflow_id: string | null;
  action: string;
  actor: string;
  source: OperatorActionSource;
  status: 'recorded' | 'refused' | 'failed';
  reason: string | null;
  refusal: string | null;
  details: DefaultedJson<JsonValue>;
  request_id: string | null;
  created_at: Timestamp;
}

export type DeploymentRunStatus = 'requested' | 'promoting' | 'halted' | 'completed' | 'rolling_back' | 'rolled_back' | 'rollback_failed';

/** One production rollout, written when a person requests it. */
export interface DeploymentsTable {
  id: Generated<number>;
  queue_id: number;
  workflow_id: string;
  requested_by: string;
  request_id: string;
  source: string;
  policy: Json<JsonValue>;
  status: ColumnType<DeploymentRunStatus, DeploymentRunStatus | undefined, DeploymentRunStatus>;
  halt_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PatchRollbacksTable {
  id: Generated<number>;
  queue_id: number;
  scope: 'test' | 'production';
  test_id: number | null;
  deployment_id: number | null;
  system_id: number;
  rollback_type: 'package' | 'snapshot';
  status: ColumnType<'running' | 'succeeded' | 'failed', 'running' | 'succeeded' | 'failed' | undefined>;
  requested_by: string | null;
  reason: string | null;
  details: DefaultedJson<JsonValue>;
  error: string | null;
  idempotency_key: string;
  started_at: Timestamp;
  completed_at: NullableTimestamp;
}

/** A halt of a production rollout a person asked for, recorded before the halt signal is sent. */
export interface DeploymentHaltsTable {
  id: Generated<number>;
  queue_id: number;
  requested_by: string;
  reason: string;
  /** retraction: recorded by the sync or the rollout because the advisory was retracted (issue 15) */
  source: 'api' | 'dashboard' | 'retraction';
  request_id: string;
  requested_at: Timestamp;
}

/** A statistical verdict (domain/judge.ts; migration 2026_12_07_1501_verdicts). */
export interface VerdictsTable {
  id: Generated<number>;
  scope: 'test' | 'wave';
  idempotency_key: string;
  test_id: number | null;
  queue_id: number | null;
  wave: number | null;
  group_name: string | null;
  experiment_systems: ColumnType<number[], number[] | undefined, number[]>;
  control_systems: ColumnType<number[], number[] | undefined, number[]>;
  control_from: Timestamp;
  control_to: Timestamp;
  experiment_from: Timestamp;
  experiment_to: Timestamp;
  verdict: 'pass' | 'marginal' | 'fail' | 'nodata';
  decision: 'continue' | 'pause' | 'halt';
  score: number | null;
  reason: string;
  settings: Json<JsonValue>;
  decided: 'continue' | 'halt' | null;
  decided_by: string | null;
  decided_reason: string | null;
  decided_source: string | null;
  decided_request_id: string | null;
  decided_at: NullableTimestamp;
  reminders: Generated<number>;
  created_at: Generated<Date>;
}

/** One metric of a verdict: every sample it was judged on and its statistics. */
export interface VerdictMetricsTable {
  verdict_id: number;
  metric: string;
  position: number;
  unit: string;
  direction: 'increase' | 'decrease' | 'either';
  weight: number;
  critical: boolean;
  allowed: DefaultedJson<JsonValue>;
  classification: 'pass' | 'high' | 'low' | 'nodata';
  control_samples: number[];
  experiment_samples: number[];
  control_count: number;
  experiment_count: number;
  removed_nan: number;
  method: 'exact' | 'asymptotic' | null;
  u: number | null;
  p: number | null;
  estimate: number | null;
  ci_lower: number | null;
  ci_upper: number | null;
  mean_ratio: number | null;
  control_mean: number | null;
  experiment_mean: number | null;
  reason: string;
}

export interface OrchestratorNotificationsTable {
  id: Generated<number>;
  event_type: string;
  /** 'outbox' for every event since notifications are delivered; 'log' rows are from before. */
  channel: ColumnType<'email' | 'webhook' | 'log' | 'outbox', 'email' | 'webhook' | 'log' | 'outbox' | undefined>;
  recipient: Generated<string>;
  subject: string;
  payload: DefaultedJson<JsonValue>;
  queue_id: number | null;
  /** pending = in the outbox; dispatched = a delivery per subscribed endpoint exists. */
  status: ColumnType<NotificationEventStatus, NotificationEventStatus | undefined>;
  attempts: Generated<number>;
  last_error: string | null;
  dedupe_key: string;
  sent_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The webhook-id of every delivery of this event (stable across retries). */
  event_id: string;
  workflow_id: string | null;
  dispatched_at: NullableTimestamp;
  /** A test event: delivered to this endpoint only. */
  only_endpoint_id: number | null;
}

export type NotificationEventStatus = 'pending' | 'dispatched' | 'sent' | 'failed';
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed';
export type AttemptStatus = 'sending' | 'succeeded' | 'failed' | 'lost';

export interface NotificationEndpointsTable {
  id: Generated<number>;
  name: string;
  kind: 'webhook' | 'email';
  url: string | null;
  recipients: ColumnType<string[], string[] | undefined, string[]>;
  event_types: ColumnType<string[], string[] | undefined, string[]>;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  max_concurrency: Generated<number>;
  /** whsec_…; never leaves the database through the API (write-only). */
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: NullableTimestamp;
  created_by: string;
  deleted_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NotificationDeliveriesTable {
  id: Generated<number>;
  notification_id: number;
  endpoint_id: number;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined>;
  attempts: Generated<number>;
  /** Failed attempts in the current round (a redelivery starts a new round). */
  schedule_step: Generated<number>;
  next_attempt_at: NullableTimestamp;
  last_status_code: number | null;
  last_response: string | null;
  last_error: string | null;
  delivered_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NotificationAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  status: ColumnType<AttemptStatus, AttemptStatus | undefined>;
  status_code: number | null;
  response: string | null;
  error: string | null;
  next_attempt_at: NullableTimestamp;
  worker: string | null;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
}

export interface OrchestratorConfigTable {
  key: string;
  value: Json<JsonValue>;
  description: string | null;
  updated_by: string | null;
  updated_at: Timestamp;
}

export interface QueueDetailsView {
  id: number;
  advisory_name: string;
  target_os: string;
  status: string;
  status_changed_at: Date;
  priority_override: number | null;
  notes: string | null;
  success_score: number | null;
  requires_reboot: boolean;
  queued_by: string | null;
  workflow_id: string | null;
  test_system_id: number | null;
  snoozed_until: Date | null;
  created_at: Date;
  updated_at: Date;
  advisory_type: string;
  synopsis: string | null;
  severity: Severity;
  cves: string[];
  severity_rank: number;
  score_breakdown: unknown;
  last_test_id: number | null;
  last_test_status: string | null;
  last_test_completed_at: Date | null;
}

export interface PendingApprovalsView {
  queue_id: number;
  advisory_name: string;
  target_os: string;
  status: string;
  success_score: number | null;
  workflow_id: string | null;
  snoozed_until: Date | null;
  severity: Severity;
  synopsis: string | null;
  advisory_type: string;
  cves: string[];
  test_id: number | null;
  test_system_name: string | null;
  test_completed_at: Date | null;
  cpu_delta: number | null;
  memory_delta: number | null;
  reboot_duration_seconds: number | null;
  services: unknown;
  pending_since: Date;
  hours_pending: number;
}

export interface DailyStatsView {
  day: string;
  queued: number;
  tests_started: number;
  tests_passed: number;
  tests_failed: number;
  approved: number;
  rejected: number;
  systems_patched: number;
  rollbacks: number;
  sync_runs: number;
}

/** The overview's chart per UTC day, kept by triggers (migration 2026_12_07_1401_dashboard_speed). */
export interface DailyStatsTable {
  day: string;
  tests_started: Generated<number>;
  tests_passed: Generated<number>;
  tests_failed: Generated<number>;
  tests_rolled_back: Generated<number>;
  approved: Generated<number>;
  rejected: Generated<number>;
  systems_patched: Generated<number>;
  rollbacks: Generated<number>;
}

export interface SyncStagingErrataTable {
  sync_run_id: number;
  chunk: number;
  advisory_name: string;
  uyuni_errata_id: number;
  advisory_type: string;
  advisory_status: string | null;
  synopsis: string | null;
  issue_date: DateString;
  update_date: DateString;
  reboot_suggested: boolean | null;
  target_os: string[];
  system_ids: number[];
}

export interface SyncStagingDetailsTable {
  sync_run_id: number;
  seq: number;
  advisory_name: string;
  advisory_type: string;
  fetched: Generated<boolean>;
  description: string | null;
  uyuni_severity: string | null;
  severity: Severity | null;
  cves: string[] | null;
  reboot_suggested: boolean | null;
}

export interface Database {
  sync_runs: SyncRunsTable;
  sync_staging_errata: SyncStagingErrataTable;
  sync_staging_details: SyncStagingDetailsTable;
  errata_cache: ErrataCacheTable;
  patch_test_queue: PatchTestQueueTable;
  queue_counts: QueueCountsTable;
  daily_stats: DailyStatsTable;
  queue_status_transitions: QueueStatusTransitionsTable;
  patch_risk_profile: PatchRiskProfileTable;
  patch_tests: PatchTestsTable;
  test_systems: TestSystemsTable;
  patch_test_phases: PatchTestPhasesTable;
  test_bundles: TestBundlesTable;
  test_bundle_members: TestBundleMembersTable;
  patch_approvals: PatchApprovalsTable;
  patch_deployments: PatchDeploymentsTable;
  deployment_plans: DeploymentPlansTable;
  deployment_plan_targets: DeploymentPlanTargetsTable;
  patch_rollbacks: PatchRollbacksTable;
  deployment_halts: DeploymentHaltsTable;
  orchestrator_notifications: OrchestratorNotificationsTable;
  notification_endpoints: NotificationEndpointsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_attempts: NotificationAttemptsTable;
  orchestrator_config: OrchestratorConfigTable;
  operator_actions: OperatorActionsTable;
  deployments: DeploymentsTable;
  cve_intel: CveIntelTable;
  intel_sources: IntelSourcesTable;
  nvd_request_log: NvdRequestLogTable;
  verdicts: VerdictsTable;
  verdict_metrics: VerdictMetricsTable;
  v_queue_details: QueueDetailsView;
  v_pending_approvals: PendingApprovalsView;
  v_daily_stats: DailyStatsView;
}

export type ErrataRow = Selectable<ErrataCacheTable>;
export type NewErrata = Insertable<ErrataCacheTable>;
export type QueueRow = Selectable<PatchTestQueueTable>;
export type NewQueueItem = Insertable<PatchTestQueueTable>;
export type QueueUpdate = Updateable<PatchTestQueueTable>;
export type SyncRunRow = Selectable<SyncRunsTable>;
