import { sql, type Selectable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import type { Database } from '../../db/database.js';
import { QUEUE_TRANSITIONS } from '../../domain/queue-status.js';
import { testDb } from '../support/context.js';

// The typed `Database` interface must match the real schema. The column lists below are checked against
// the interface at compile time (Exact<>), and against information_schema at run time.

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type NullableKeys<T> = { [K in keyof Selectable<T>]-?: null extends Selectable<T>[K] ? K : never }[keyof Selectable<T>];

const COLUMNS = {
  sync_runs: ['id', 'workflow_id', 'run_id', 'trigger', 'status', 'started_at', 'finished_at', 'duration_ms', 'groups_count', 'systems_count', 'errata_count', 'errata_inserted', 'errata_updated', 'cves_fetched', 'uyuni_calls', 'phase_durations', 'errors', 'error'],
  sync_staging_errata: ['sync_run_id', 'chunk', 'advisory_name', 'uyuni_errata_id', 'advisory_type', 'advisory_status', 'synopsis', 'issue_date', 'update_date', 'reboot_suggested', 'target_os', 'system_ids'],
  sync_staging_details: ['sync_run_id', 'seq', 'advisory_name', 'advisory_type', 'fetched', 'description', 'uyuni_severity', 'severity', 'cves', 'reboot_suggested'],
  errata_cache: ['id', 'advisory_name', 'uyuni_errata_id', 'advisory_type', 'advisory_status', 'synopsis', 'description', 'severity', 'uyuni_severity', 'cves', 'packages', 'packages_fetched_at', 'target_os', 'test_system_ids', 'requires_reboot', 'issue_date', 'update_date', 'first_seen_at', 'last_synced_at', 'last_sync_run_id', 'created_at', 'updated_at', 'severity_source', 'cvss_score', 'cvss_version', 'cvss_source', 'cvss_cve', 'epss_score', 'epss_percentile', 'epss_cve', 'kev', 'kev_due_date', 'kev_ransomware', 'urgency', 'urgency_breakdown', 'intel_at', 'retracted_at'],
  patch_test_queue: ['id', 'advisory_name', 'target_os', 'status', 'status_changed_at', 'last_passed_at', 'priority_override', 'notes', 'success_score', 'requires_reboot', 'queued_by', 'workflow_id', 'test_system_id', 'snoozed_until', 'created_at', 'updated_at', 'severity_rank', 'request_id', 'status_reason', 'urgency'],
  queue_counts: ['status', 'target_os', 'severity_rank', 'items', 'scored', 'score_sum'],
  daily_stats: ['day', 'tests_started', 'tests_passed', 'tests_failed', 'tests_rolled_back', 'approved', 'rejected', 'systems_patched', 'rollbacks'],
  queue_status_transitions: ['from_status', 'to_status'],
  patch_risk_profile: ['id', 'queue_id', 'advisory_name', 'success_score', 'has_kernel', 'requires_reboot', 'has_config_files', 'dependency_count', 'total_size_bytes', 'failure_history_count', 'breakdown', 'weights', 'computed_at'],
  patch_tests: ['id', 'queue_id', 'workflow_id', 'run_id', 'test_system_id', 'test_system_name', 'status', 'started_at', 'completed_at', 'metrics_before', 'metrics_after', 'cpu_delta', 'memory_delta', 'services', 'snapshot_id', 'snapshot_type', 'requires_reboot', 'reboot_duration_seconds', 'rollback_type', 'rollback_verified', 'uyuni_action_id', 'failure_phase', 'failure_reason', 'created_at', 'updated_at', 'restore_point', 'test_system_ip', 'test_system_minion', 'inventory_before', 'kernel_before', 'failure_cause', 'inventory_changes', 'bundle_id'],
  test_bundles: ['id', 'root_id', 'parent_id', 'kind', 'target_os', 'workflow_id', 'member_ids', 'status', 'cause', 'failure_reason', 'test_id', 'size_policy', 'outcome', 'requested_by', 'created_at', 'completed_at'],
  test_bundle_members: ['bundle_id', 'queue_id', 'position', 'verdict', 'reason'],
  test_systems: ['system_id', 'name', 'os', 'group_name', 'minion_id', 'last_seen_at', 'leased_by', 'leased_run_id', 'leased_at', 'quarantined', 'quarantine_reason', 'quarantined_at', 'created_at', 'updated_at'],
  patch_test_phases: ['id', 'test_id', 'phase', 'status', 'started_at', 'completed_at', 'duration_ms', 'details', 'error'],
  patch_approvals: ['id', 'queue_id', 'test_id', 'workflow_id', 'decision', 'decided_by', 'reason', 'snooze_until', 'evidence', 'source', 'request_id', 'decided_at'],
  patch_deployments: ['id', 'queue_id', 'workflow_id', 'system_id', 'system_name', 'group_name', 'wave', 'status', 'uyuni_action_id', 'pre_versions', 'services', 'error', 'started_at', 'completed_at', 'created_at', 'updated_at', 'patched', 'inventory_before', 'kernel_before', 'inventory_changes', 'batch', 'boot_before', 'next_window', 'earliest', 'rescheduled_from'],
  deployment_plans: ['queue_id', 'planned_at', 'policy', 'targets', 'waves'],
  deployment_plan_targets: ['queue_id', 'system_id', 'system_name', 'group_name', 'wave', 'batch', 'minion', 'errata', 'next_window', 'earliest'],
  operator_actions: ['id', 'queue_id', 'workflow_id', 'action', 'actor', 'source', 'status', 'reason', 'refusal', 'details', 'request_id', 'created_at'],
  deployments: ['id', 'queue_id', 'workflow_id', 'requested_by', 'request_id', 'source', 'policy', 'status', 'halt_reason', 'created_at', 'updated_at'],
  patch_rollbacks: ['id', 'queue_id', 'scope', 'test_id', 'deployment_id', 'system_id', 'rollback_type', 'status', 'requested_by', 'reason', 'details', 'error', 'idempotency_key', 'started_at', 'completed_at'],
  deployment_halts: ['id', 'queue_id', 'requested_by', 'reason', 'source', 'request_id', 'requested_at'],
  orchestrator_notifications: ['id', 'event_type', 'channel', 'recipient', 'subject', 'payload', 'queue_id', 'status', 'attempts', 'last_error', 'dedupe_key', 'sent_at', 'created_at', 'updated_at', 'event_id', 'workflow_id', 'dispatched_at', 'only_endpoint_id'],
  notification_endpoints: ['id', 'name', 'kind', 'url', 'recipients', 'event_types', 'enabled', 'disabled_reason', 'disabled_at', 'max_concurrency', 'secret', 'previous_secret', 'previous_secret_expires_at', 'created_by', 'deleted_at', 'created_at', 'updated_at'],
  notification_deliveries: ['id', 'notification_id', 'endpoint_id', 'status', 'attempts', 'schedule_step', 'next_attempt_at', 'last_status_code', 'last_response', 'last_error', 'delivered_at', 'created_at', 'updated_at'],
  notification_attempts: ['id', 'delivery_id', 'attempt', 'status', 'status_code', 'response', 'error', 'next_attempt_at', 'worker', 'started_at', 'finished_at', 'duration_ms'],
  orchestrator_config: ['key', 'value', 'description', 'updated_by', 'updated_at'],
  cve_intel: ['cve_id', 'nvd_status', 'nvd_published', 'nvd_last_modified', 'cvss_score', 'cvss_vector', 'cvss_version', 'cvss_source', 'cvss_type', 'nvd_fetched_at', 'epss_score', 'epss_percentile', 'epss_date', 'epss_model_version', 'epss_fetched_at', 'kev', 'kev_date_added', 'kev_due_date', 'kev_ransomware', 'kev_name', 'kev_fetched_at', 'fetched_at'],
  intel_sources: ['source', 'refreshed_at', 'version', 'score_date', 'window_end', 'details'],
  nvd_request_log: ['id', 'at'],
  verdicts: ['id', 'scope', 'idempotency_key', 'test_id', 'queue_id', 'wave', 'group_name', 'experiment_systems', 'control_systems', 'control_from', 'control_to', 'experiment_from', 'experiment_to', 'verdict', 'decision', 'score', 'reason', 'settings', 'decided', 'decided_by', 'decided_reason', 'decided_source', 'decided_request_id', 'decided_at', 'reminders', 'created_at'],
  verdict_metrics: ['verdict_id', 'metric', 'position', 'unit', 'direction', 'weight', 'critical', 'allowed', 'classification', 'control_samples', 'experiment_samples', 'control_count', 'experiment_count', 'removed_nan', 'method', 'u', 'p', 'estimate', 'ci_lower', 'ci_upper', 'mean_ratio', 'control_mean', 'experiment_mean', 'reason'],
  v_queue_details: ['id', 'advisory_name', 'target_os', 'status', 'status_changed_at', 'priority_override', 'notes', 'success_score', 'requires_reboot', 'queued_by', 'workflow_id', 'test_system_id', 'snoozed_until', 'created_at', 'updated_at', 'advisory_type', 'synopsis', 'severity', 'cves', 'severity_rank', 'score_breakdown', 'last_test_id', 'last_test_status', 'last_test_completed_at'],
  v_pending_approvals: ['queue_id', 'advisory_name', 'target_os', 'status', 'success_score', 'workflow_id', 'snoozed_until', 'severity', 'synopsis', 'advisory_type', 'cves', 'test_id', 'test_system_name', 'test_completed_at', 'cpu_delta', 'memory_delta', 'reboot_duration_seconds', 'services', 'pending_since', 'hours_pending'],
  v_daily_stats: ['day', 'queued', 'tests_started', 'tests_passed', 'tests_failed', 'approved', 'rejected', 'systems_patched', 'rollbacks', 'sync_runs'],
} as const satisfies { [T in keyof Database]: readonly (keyof Database[T])[] };

const NULLABLE = {
  sync_runs: ['finished_at', 'duration_ms', 'error'],
  sync_staging_errata: ['advisory_status', 'synopsis', 'issue_date', 'update_date', 'reboot_suggested'],
  sync_staging_details: ['description', 'uyuni_severity', 'severity', 'cves', 'reboot_suggested'],
  errata_cache: ['uyuni_errata_id', 'advisory_status', 'synopsis', 'description', 'uyuni_severity', 'packages', 'packages_fetched_at', 'issue_date', 'update_date', 'last_sync_run_id', 'cvss_score', 'cvss_version', 'cvss_source', 'cvss_cve', 'epss_score', 'epss_percentile', 'epss_cve', 'kev_due_date', 'intel_at', 'retracted_at'],
  patch_test_queue: ['last_passed_at', 'priority_override', 'notes', 'success_score', 'queued_by', 'workflow_id', 'test_system_id', 'snoozed_until', 'request_id', 'status_reason'],
  queue_counts: [],
  daily_stats: [],
  queue_status_transitions: [],
  patch_risk_profile: [],
  patch_tests: ['test_system_id', 'test_system_name', 'completed_at', 'metrics_before', 'metrics_after', 'cpu_delta', 'memory_delta', 'services', 'snapshot_id', 'snapshot_type', 'requires_reboot', 'reboot_duration_seconds', 'rollback_type', 'rollback_verified', 'uyuni_action_id', 'failure_phase', 'failure_reason', 'restore_point', 'test_system_ip', 'test_system_minion', 'inventory_before', 'kernel_before', 'failure_cause', 'inventory_changes', 'bundle_id'],
  test_bundles: ['root_id', 'parent_id', 'cause', 'failure_reason', 'test_id', 'size_policy', 'outcome', 'requested_by', 'completed_at'],
  test_bundle_members: ['verdict', 'reason'],
  test_systems: ['minion_id', 'leased_by', 'leased_run_id', 'leased_at', 'quarantine_reason', 'quarantined_at'],
  patch_test_phases: ['completed_at', 'duration_ms', 'error'],
  patch_approvals: ['test_id', 'reason', 'snooze_until'],
  patch_deployments: ['group_name', 'uyuni_action_id', 'pre_versions', 'services', 'error', 'started_at', 'completed_at', 'inventory_before', 'kernel_before', 'inventory_changes', 'batch', 'boot_before', 'next_window', 'earliest', 'rescheduled_from'],
  deployment_plans: [],
  deployment_plan_targets: ['group_name', 'errata', 'next_window', 'earliest'],
  operator_actions: ['queue_id', 'workflow_id', 'reason', 'refusal', 'request_id'],
  deployments: ['halt_reason'],
  patch_rollbacks: ['test_id', 'deployment_id', 'requested_by', 'reason', 'error', 'completed_at'],
  deployment_halts: [],
  orchestrator_notifications: ['queue_id', 'last_error', 'sent_at', 'workflow_id', 'dispatched_at', 'only_endpoint_id'],
  notification_endpoints: ['url', 'disabled_reason', 'disabled_at', 'secret', 'previous_secret', 'previous_secret_expires_at', 'deleted_at'],
  notification_deliveries: ['next_attempt_at', 'last_status_code', 'last_response', 'last_error', 'delivered_at'],
  notification_attempts: ['status_code', 'response', 'error', 'next_attempt_at', 'worker', 'finished_at', 'duration_ms'],
  orchestrator_config: ['description', 'updated_by'],
  cve_intel: ['nvd_status', 'nvd_published', 'nvd_last_modified', 'cvss_score', 'cvss_vector', 'cvss_version', 'cvss_source', 'cvss_type', 'nvd_fetched_at', 'epss_score', 'epss_percentile', 'epss_date', 'epss_model_version', 'epss_fetched_at', 'kev_date_added', 'kev_due_date', 'kev_name', 'kev_fetched_at'],
  intel_sources: ['refreshed_at', 'version', 'score_date', 'window_end'],
  nvd_request_log: [],
  verdicts: ['test_id', 'queue_id', 'wave', 'group_name', 'score', 'decided', 'decided_by', 'decided_reason', 'decided_source', 'decided_request_id', 'decided_at'],
  verdict_metrics: ['method', 'u', 'p', 'estimate', 'ci_lower', 'ci_upper', 'mean_ratio', 'control_mean', 'experiment_mean'],
} as const;

type Tables = keyof typeof NULLABLE;
type ColumnsMatch = { [T in keyof Database]: Exact<(typeof COLUMNS)[T][number], keyof Database[T]> };
type NullablesMatch = { [T in Tables]: Exact<(typeof NULLABLE)[T][number], NullableKeys<Database[T]>> };
type AllTrue<T> = T[keyof T] extends true ? true : false;
const columnsMatch: AllTrue<ColumnsMatch> = true;
const nullablesMatch: AllTrue<NullablesMatch> = true;

describe('database schema', () => {
  let db: Db;
  beforeAll(() => {
    db = testDb();
  });
  afterAll(async () => db?.destroy());

  it('has exactly the tables and views of the typed Database interface, column for column', async () => {
    expect(columnsMatch && nullablesMatch).toBe(true);
    const { rows } = await sql<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO'; table_type: string }>`
      select c.table_name, c.column_name, c.is_nullable, t.table_type
      from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = 'public' and c.table_name not like 'kysely_%'`.execute(db);
    const actual: Record<string, string[]> = {};
    for (const r of rows) (actual[r.table_name] ??= []).push(r.column_name);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(COLUMNS).sort());
    for (const [table, cols] of Object.entries(COLUMNS)) {
      expect(actual[table]?.sort(), table).toEqual([...cols].sort());
    }
    for (const [table, nullable] of Object.entries(NULLABLE)) {
      const actualNullable = rows.filter((r) => r.table_name === table && r.is_nullable === 'YES').map((r) => r.column_name);
      expect(actualNullable.sort(), `nullable columns of ${table}`).toEqual([...nullable].sort());
    }
  });

  it('keeps the database state machine equal to domain/queue-status.ts', async () => {
    const rows = await db.selectFrom('queue_status_transitions').selectAll().execute();
    const fromDb = rows.map((r) => `${r.from_status}->${r.to_status}`).sort();
    const fromDomain = Object.entries(QUEUE_TRANSITIONS)
      .flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`))
      .sort();
    expect(fromDb).toEqual(fromDomain);
  });
});
