import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code. Later changes go in new migrations.

const STATUSES = [
  'queued', 'testing', 'passed', 'failed', 'rolled_back', 'pending_approval', 'snoozed', 'approved',
  'rejected', 'expired', 'promoting', 'prod_applied', 'halted', 'completed', 'prod_rolled_back', 'cancelled',
];

const TRANSITIONS: Record<string, string[]> = {
  queued: ['testing', 'cancelled'],
  testing: ['passed', 'failed', 'rolled_back', 'queued', 'cancelled'],
  failed: ['rolled_back', 'queued'],
  rolled_back: ['queued'],
  passed: ['pending_approval', 'rolled_back'],
  pending_approval: ['approved', 'rejected', 'snoozed', 'expired', 'rolled_back'],
  snoozed: ['pending_approval', 'approved', 'rejected', 'expired'],
  approved: ['promoting'],
  promoting: ['prod_applied', 'halted', 'prod_rolled_back'],
  halted: ['promoting', 'prod_rolled_back'],
  prod_applied: ['completed', 'prod_rolled_back'],
  completed: ['prod_rolled_back'],
  expired: ['queued'],
  rejected: [],
  cancelled: ['queued'],
  prod_rolled_back: [],
};

const ACTIVE = ['queued', 'testing', 'passed', 'pending_approval', 'snoozed', 'approved', 'promoting', 'prod_applied', 'halted'];

const DEFAULT_CONFIG: [string, unknown, string][] = [
  ['score.kernel_penalty', 30, 'Success Score: kernel package in the erratum'],
  ['score.reboot_penalty', 15, 'Success Score: reboot required'],
  ['score.config_penalty', 10, 'Success Score: a package ships configuration files'],
  ['score.dependency_penalty', 3, 'Success Score: per additional package'],
  ['score.dependency_max_penalty', 15, 'Success Score: cap of the dependency penalty'],
  ['score.size_penalty_per_mb', 2, 'Success Score: per MB of packages'],
  ['score.size_max_penalty', 10, 'Success Score: cap of the size penalty'],
  ['score.history_max_penalty', 20, 'Success Score: cap of the failure-history penalty'],
  ['score.history_min_tests', 3, 'Success Score: tests of the advisory/package before history counts'],
  ['score.small_patch_bonus', 5, 'Success Score: bonus for a patch under small_patch_bytes'],
  ['score.small_patch_bytes', 102400, 'Success Score: size limit of a small patch'],
  ['test.cpu_delta_threshold', 20, 'max CPU % increase (points) between baseline and after patching'],
  ['test.memory_delta_threshold', 15, 'max memory % increase (points) between baseline and after patching'],
  ['test.settle_seconds', 60, 'wait after patching/reboot before taking the after-metrics'],
  ['test.critical_services', { ubuntu: ['ssh', 'cron'], rhel: ['sshd', 'crond'], debian: ['ssh', 'cron'] }, 'services that must be running after a patch, per OS'],
  ['approval.reminder_hours', 24, 'hours between reminders while a patch waits for a decision'],
  ['approval.expiry_days', 14, 'days after which an undecided approval expires'],
  ['deploy.canary_size', 1, 'systems in the canary wave'],
  ['deploy.soak_minutes', 30, 'wait after the canary wave'],
  ['deploy.wave_size', 10, 'systems per wave after the canary'],
  ['deploy.failure_budget_count', 2, 'failed systems allowed before the rollout halts'],
  ['deploy.failure_budget_percent', 10, 'failed share (percent) allowed before the rollout halts'],
];

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (xs: string[]) => xs.map(q).join(', ');

const UP: string[] = [
  `CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN NEW.updated_at := now(); RETURN NEW; END $$`,

  `CREATE TABLE sync_runs (
     id serial PRIMARY KEY,
     workflow_id text NOT NULL,
     run_id text NOT NULL UNIQUE,
     trigger text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli', 'startup', 'manual')),
     status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
     started_at timestamptz NOT NULL DEFAULT now(),
     finished_at timestamptz,
     duration_ms integer,
     groups_count integer NOT NULL DEFAULT 0,
     systems_count integer NOT NULL DEFAULT 0,
     errata_count integer NOT NULL DEFAULT 0,
     errata_inserted integer NOT NULL DEFAULT 0,
     errata_updated integer NOT NULL DEFAULT 0,
     cves_fetched integer NOT NULL DEFAULT 0,
     uyuni_calls integer NOT NULL DEFAULT 0,
     phase_durations jsonb NOT NULL DEFAULT '{}',
     errors jsonb NOT NULL DEFAULT '[]',
     error text
   )`,
  `CREATE INDEX sync_runs_started_at_idx ON sync_runs (started_at DESC)`,

  `CREATE TABLE errata_cache (
     id serial PRIMARY KEY,
     advisory_name text NOT NULL UNIQUE,
     uyuni_errata_id integer,
     advisory_type text NOT NULL,
     advisory_status text,
     synopsis text,
     description text,
     severity text NOT NULL CHECK (severity IN ('Critical', 'High', 'Medium', 'Low')),
     uyuni_severity text,
     cves text[] NOT NULL DEFAULT '{}',
     packages jsonb,
     packages_fetched_at timestamptz,
     target_os text[] NOT NULL DEFAULT '{}',
     test_system_ids integer[] NOT NULL DEFAULT '{}',
     requires_reboot boolean NOT NULL DEFAULT false,
     issue_date date,
     update_date date,
     first_seen_at timestamptz NOT NULL DEFAULT now(),
     last_synced_at timestamptz NOT NULL DEFAULT now(),
     last_sync_run_id integer REFERENCES sync_runs (id) ON DELETE SET NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX errata_cache_severity_idx ON errata_cache (severity)`,
  `CREATE INDEX errata_cache_target_os_idx ON errata_cache USING gin (target_os)`,
  `CREATE INDEX errata_cache_cves_idx ON errata_cache USING gin (cves)`,

  `CREATE TABLE patch_test_queue (
     id serial PRIMARY KEY,
     advisory_name text NOT NULL REFERENCES errata_cache (advisory_name) ON UPDATE CASCADE,
     target_os text NOT NULL CHECK (target_os IN ('ubuntu', 'rhel', 'debian')),
     status text NOT NULL DEFAULT 'queued' CHECK (status IN (${list(STATUSES)})),
     status_changed_at timestamptz NOT NULL DEFAULT now(),
     priority_override integer CHECK (priority_override BETWEEN 1 AND 1000),
     notes text,
     success_score integer CHECK (success_score BETWEEN 0 AND 100),
     requires_reboot boolean NOT NULL DEFAULT false,
     queued_by text,
     workflow_id text,
     test_system_id integer,
     snoozed_until timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE UNIQUE INDEX patch_test_queue_active_uq ON patch_test_queue (advisory_name, target_os)
     WHERE status IN (${list(ACTIVE)})`,
  `CREATE INDEX patch_test_queue_status_idx ON patch_test_queue (status)`,
  `CREATE INDEX patch_test_queue_order_idx ON patch_test_queue (priority_override ASC NULLS LAST, success_score DESC)`,

  `CREATE TABLE queue_status_transitions (
     from_status text NOT NULL,
     to_status text NOT NULL,
     PRIMARY KEY (from_status, to_status)
   )`,
  `INSERT INTO queue_status_transitions (from_status, to_status) VALUES ${Object.entries(TRANSITIONS)
    .flatMap(([from, tos]) => tos.map((to) => `(${q(from)}, ${q(to)})`))
    .join(', ')}`,
  `CREATE FUNCTION patch_test_queue_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       IF NEW.status <> 'queued' THEN
         RAISE EXCEPTION 'patch_test_queue: a new item must start as queued, not %', NEW.status
           USING ERRCODE = 'check_violation';
       END IF;
       RETURN NEW;
     END IF;
     IF NEW.status IS DISTINCT FROM OLD.status THEN
       IF NOT EXISTS (SELECT 1 FROM queue_status_transitions t
                      WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
         RAISE EXCEPTION 'patch_test_queue %: status transition % -> % is not allowed', OLD.id, OLD.status, NEW.status
           USING ERRCODE = 'check_violation';
       END IF;
       NEW.status_changed_at := now();
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER patch_test_queue_status_guard BEFORE INSERT OR UPDATE OF status ON patch_test_queue
     FOR EACH ROW EXECUTE FUNCTION patch_test_queue_status_guard()`,

  `CREATE TABLE patch_risk_profile (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL UNIQUE REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     advisory_name text NOT NULL,
     success_score integer NOT NULL CHECK (success_score BETWEEN 0 AND 100),
     has_kernel boolean NOT NULL,
     requires_reboot boolean NOT NULL,
     has_config_files boolean NOT NULL,
     dependency_count integer NOT NULL,
     total_size_bytes bigint NOT NULL,
     failure_history_count integer NOT NULL DEFAULT 0,
     breakdown jsonb NOT NULL,
     weights jsonb NOT NULL,
     computed_at timestamptz NOT NULL DEFAULT now()
   )`,

  `CREATE TABLE patch_tests (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     workflow_id text NOT NULL,
     run_id text NOT NULL UNIQUE,
     test_system_id integer,
     test_system_name text,
     status text NOT NULL DEFAULT 'running'
       CHECK (status IN ('running', 'passed', 'failed', 'rolled_back', 'cancelled')),
     started_at timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz,
     metrics_before jsonb,
     metrics_after jsonb,
     cpu_delta double precision,
     memory_delta double precision,
     services jsonb,
     snapshot_id text,
     snapshot_type text CHECK (snapshot_type IN ('snapper', 'package')),
     requires_reboot boolean,
     reboot_duration_seconds double precision,
     rollback_type text CHECK (rollback_type IN ('package', 'snapshot')),
     rollback_verified boolean,
     uyuni_action_id integer,
     failure_phase text,
     failure_reason text,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX patch_tests_queue_idx ON patch_tests (queue_id)`,

  `CREATE TABLE patch_test_phases (
     id serial PRIMARY KEY,
     test_id integer NOT NULL REFERENCES patch_tests (id) ON DELETE CASCADE,
     phase text NOT NULL CHECK (phase IN ('lease', 'snapshot', 'patch', 'reboot', 'validate', 'services', 'rollback', 'verify_rollback')),
     status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'passed', 'failed', 'skipped')),
     started_at timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz,
     duration_ms integer,
     details jsonb NOT NULL DEFAULT '{}',
     error text,
     UNIQUE (test_id, phase)
   )`,

  `CREATE TABLE patch_approvals (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     test_id integer REFERENCES patch_tests (id) ON DELETE SET NULL,
     workflow_id text NOT NULL,
     decision text NOT NULL CHECK (decision IN ('approve', 'reject', 'snooze', 'expire')),
     decided_by text NOT NULL,
     reason text,
     snooze_until timestamptz,
     evidence jsonb NOT NULL DEFAULT '{}',
     source text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'cli', 'dashboard', 'system')),
     request_id text NOT NULL UNIQUE,
     decided_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX patch_approvals_queue_idx ON patch_approvals (queue_id)`,

  `CREATE TABLE patch_deployments (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     workflow_id text NOT NULL,
     system_id integer NOT NULL,
     system_name text NOT NULL,
     group_name text,
     wave integer NOT NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN
       ('pending', 'applying', 'rebooting', 'verifying', 'applied', 'failed', 'skipped', 'rolled_back', 'rollback_failed')),
     uyuni_action_id integer,
     pre_versions jsonb,
     services jsonb,
     error text,
     started_at timestamptz,
     completed_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (workflow_id, system_id)
   )`,
  `CREATE INDEX patch_deployments_queue_idx ON patch_deployments (queue_id)`,

  `CREATE TABLE patch_rollbacks (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     scope text NOT NULL CHECK (scope IN ('test', 'production')),
     test_id integer REFERENCES patch_tests (id) ON DELETE SET NULL,
     deployment_id integer REFERENCES patch_deployments (id) ON DELETE SET NULL,
     system_id integer NOT NULL,
     rollback_type text NOT NULL CHECK (rollback_type IN ('package', 'snapshot')),
     status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
     requested_by text,
     reason text,
     details jsonb NOT NULL DEFAULT '{}',
     error text,
     idempotency_key text NOT NULL UNIQUE,
     started_at timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz
   )`,

  `CREATE TABLE orchestrator_notifications (
     id serial PRIMARY KEY,
     event_type text NOT NULL,
     channel text NOT NULL CHECK (channel IN ('email', 'webhook', 'log')),
     recipient text NOT NULL,
     subject text NOT NULL,
     payload jsonb NOT NULL DEFAULT '{}',
     queue_id integer REFERENCES patch_test_queue (id) ON DELETE SET NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     last_error text,
     dedupe_key text NOT NULL UNIQUE,
     sent_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,

  `CREATE TABLE orchestrator_config (
     key text PRIMARY KEY,
     value jsonb NOT NULL,
     description text,
     updated_by text,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `INSERT INTO orchestrator_config (key, value, description, updated_by) VALUES ${DEFAULT_CONFIG.map(
    ([k, v, d]) => `(${q(k)}, ${q(JSON.stringify(v))}::jsonb, ${q(d)}, 'migration')`,
  ).join(', ')}`,

  ...['errata_cache', 'patch_test_queue', 'patch_tests', 'patch_deployments', 'orchestrator_notifications', 'orchestrator_config'].map(
    (t) => `CREATE TRIGGER ${t}_updated_at BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
  ),

  `CREATE VIEW v_queue_details AS
   SELECT q.id, q.advisory_name, q.target_os, q.status, q.status_changed_at, q.priority_override, q.notes,
          q.success_score, q.requires_reboot, q.queued_by, q.workflow_id, q.test_system_id, q.snoozed_until,
          q.created_at, q.updated_at,
          e.advisory_type, e.synopsis, e.severity, e.cves,
          CASE e.severity WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3 ELSE 4 END AS severity_rank,
          r.breakdown AS score_breakdown,
          t.id AS last_test_id, t.status AS last_test_status, t.completed_at AS last_test_completed_at
   FROM patch_test_queue q
   JOIN errata_cache e ON e.advisory_name = q.advisory_name
   LEFT JOIN patch_risk_profile r ON r.queue_id = q.id
   LEFT JOIN LATERAL (
     SELECT pt.id, pt.status, pt.completed_at FROM patch_tests pt
     WHERE pt.queue_id = q.id ORDER BY pt.started_at DESC, pt.id DESC LIMIT 1
   ) t ON true`,

  `CREATE VIEW v_pending_approvals AS
   SELECT q.id AS queue_id, q.advisory_name, q.target_os, q.status, q.success_score, q.workflow_id, q.snoozed_until,
          e.severity, e.synopsis, e.advisory_type, e.cves,
          t.id AS test_id, t.test_system_name, t.completed_at AS test_completed_at,
          t.cpu_delta, t.memory_delta, t.reboot_duration_seconds, t.services,
          COALESCE(t.completed_at, q.status_changed_at) AS pending_since,
          round((extract(epoch FROM (now() - COALESCE(t.completed_at, q.status_changed_at))) / 3600.0)::numeric, 2)::double precision
            AS hours_pending
   FROM patch_test_queue q
   JOIN errata_cache e ON e.advisory_name = q.advisory_name
   LEFT JOIN LATERAL (
     SELECT pt.* FROM patch_tests pt WHERE pt.queue_id = q.id AND pt.status = 'passed'
     ORDER BY pt.completed_at DESC NULLS LAST, pt.id DESC LIMIT 1
   ) t ON true
   WHERE q.status IN ('pending_approval', 'snoozed')`,

  `CREATE VIEW v_daily_stats AS
   SELECT d.day::date AS day,
          (SELECT count(*) FROM patch_test_queue q WHERE q.created_at::date = d.day)::integer AS queued,
          (SELECT count(*) FROM patch_tests t WHERE t.started_at::date = d.day)::integer AS tests_started,
          (SELECT count(*) FROM patch_tests t WHERE t.completed_at::date = d.day AND t.status = 'passed')::integer AS tests_passed,
          (SELECT count(*) FROM patch_tests t WHERE t.completed_at::date = d.day AND t.status IN ('failed', 'rolled_back'))::integer AS tests_failed,
          (SELECT count(*) FROM patch_approvals a WHERE a.decided_at::date = d.day AND a.decision = 'approve')::integer AS approved,
          (SELECT count(*) FROM patch_approvals a WHERE a.decided_at::date = d.day AND a.decision = 'reject')::integer AS rejected,
          (SELECT count(*) FROM patch_deployments p WHERE p.completed_at::date = d.day AND p.status = 'applied')::integer AS systems_patched,
          (SELECT count(*) FROM patch_rollbacks r WHERE r.started_at::date = d.day)::integer AS rollbacks,
          (SELECT count(*) FROM sync_runs s WHERE s.started_at::date = d.day)::integer AS sync_runs
   FROM generate_series(current_date - 29, current_date, interval '1 day') AS d(day)`,
];

const DOWN: string[] = [
  'DROP VIEW IF EXISTS v_daily_stats',
  'DROP VIEW IF EXISTS v_pending_approvals',
  'DROP VIEW IF EXISTS v_queue_details',
  'DROP TABLE IF EXISTS orchestrator_config',
  'DROP TABLE IF EXISTS orchestrator_notifications',
  'DROP TABLE IF EXISTS patch_rollbacks',
  'DROP TABLE IF EXISTS patch_deployments',
  'DROP TABLE IF EXISTS patch_approvals',
  'DROP TABLE IF EXISTS patch_test_phases',
  'DROP TABLE IF EXISTS patch_tests',
  'DROP TABLE IF EXISTS patch_risk_profile',
  'DROP TABLE IF EXISTS patch_test_queue',
  'DROP FUNCTION IF EXISTS patch_test_queue_status_guard()',
  'DROP TABLE IF EXISTS queue_status_transitions',
  'DROP TABLE IF EXISTS errata_cache',
  'DROP TABLE IF EXISTS sync_runs',
  'DROP FUNCTION IF EXISTS set_updated_at()',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
