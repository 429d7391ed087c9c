import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Truthful outcomes and recorded human actions:
// - queue states for what could not be checked or done: `inconclusive` (a test whose baseline never settled,
//   or whose failure could not be pinned on the patch), `untestable` (no test system can test it any more),
//   `prod_rollback_failed` (a production rollback that did not restore everything) — plus the reason;
// - the full package inventory before a patch (upgraded, added and removed packages are all undone from it)
//   and what caused a failure (the patch or the test system: only the patch's own failures count in history);
// - operator_actions: every human action (decisions, deployment and rollback requests, releases, halts),
//   recorded before it takes effect, and the refused ones with why;
// - deployments: one row per production rollout, written when it is requested.

const STATUSES = [
  'queued', 'testing', 'passed', 'failed', 'rolled_back', 'inconclusive', 'untestable', 'pending_approval', 'snoozed', 'approved',
  'rejected', 'expired', 'promoting', 'prod_applied', 'halted', 'completed', 'prod_rolled_back', 'prod_rollback_failed', 'cancelled',
];
const ACTIVE = ['queued', 'testing', 'passed', 'inconclusive', 'untestable', 'pending_approval', 'snoozed', 'approved', 'promoting', 'prod_applied', 'halted', 'prod_rollback_failed'];
const OLD_ACTIVE = ['queued', 'testing', 'passed', 'pending_approval', 'snoozed', 'approved', 'promoting', 'prod_applied', 'halted'];
const OLD_STATUSES = STATUSES.filter((s) => !['inconclusive', 'untestable', 'prod_rollback_failed'].includes(s));

const NEW_TRANSITIONS: [string, string][] = [
  ['testing', 'inconclusive'],
  ['inconclusive', 'queued'],
  ['inconclusive', 'cancelled'],
  ['queued', 'untestable'],
  ['untestable', 'queued'],
  ['untestable', 'cancelled'],
  ['promoting', 'prod_rollback_failed'],
  ['halted', 'prod_rollback_failed'],
  ['prod_applied', 'prod_rollback_failed'],
  ['completed', 'prod_rollback_failed'],
  ['prod_rollback_failed', 'prod_rolled_back'],
];

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (xs: string[]) => xs.map(q).join(', ');

const UP = [
  `ALTER TABLE patch_test_queue DROP CONSTRAINT patch_test_queue_status_check`,
  `ALTER TABLE patch_test_queue ADD CONSTRAINT patch_test_queue_status_check CHECK (status IN (${list(STATUSES)}))`,
  `ALTER TABLE patch_test_queue ADD COLUMN status_reason text`,
  `DROP INDEX patch_test_queue_active_uq`,
  `CREATE UNIQUE INDEX patch_test_queue_active_uq ON patch_test_queue (advisory_name, target_os) WHERE status IN (${list(ACTIVE)})`,
  `INSERT INTO queue_status_transitions (from_status, to_status) VALUES ${NEW_TRANSITIONS.map(([a, b]) => `(${q(a)}, ${q(b)})`).join(', ')}`,

  `ALTER TABLE patch_tests DROP CONSTRAINT patch_tests_status_check`,
  `ALTER TABLE patch_tests ADD CONSTRAINT patch_tests_status_check CHECK (status IN ('running', 'passed', 'failed', 'rolled_back', 'inconclusive', 'cancelled'))`,
  `ALTER TABLE patch_tests ADD COLUMN inventory_before jsonb`,
  `ALTER TABLE patch_tests ADD COLUMN kernel_before jsonb`,
  `ALTER TABLE patch_tests ADD COLUMN failure_cause text CHECK (failure_cause IN ('patch', 'test_system', 'unknown'))`,

  `ALTER TABLE patch_deployments ADD COLUMN inventory_before jsonb`,
  `ALTER TABLE patch_deployments ADD COLUMN kernel_before jsonb`,

  `CREATE TABLE operator_actions (
     id serial PRIMARY KEY,
     queue_id integer REFERENCES patch_test_queue (id) ON DELETE SET NULL,
     workflow_id text,
     action text NOT NULL,
     actor text NOT NULL,
     source text NOT NULL CHECK (source IN ('api', 'cli', 'dashboard', 'system')),
     status text NOT NULL CHECK (status IN ('recorded', 'refused', 'failed')),
     reason text,
     refusal text,
     details jsonb NOT NULL DEFAULT '{}',
     request_id text UNIQUE,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX operator_actions_queue_idx ON operator_actions (queue_id, created_at DESC)`,

  `CREATE TABLE deployments (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     workflow_id text NOT NULL UNIQUE,
     requested_by text NOT NULL,
     request_id text NOT NULL UNIQUE,
     source text NOT NULL,
     policy jsonb NOT NULL,
     status text NOT NULL DEFAULT 'requested'
       CHECK (status IN ('requested', 'promoting', 'halted', 'completed', 'rolling_back', 'rolled_back', 'rollback_failed')),
     halt_reason text,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX deployments_queue_idx ON deployments (queue_id)`,
  `CREATE TRIGGER deployments_updated_at BEFORE UPDATE ON deployments FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
];

const DOWN = [
  'DROP TABLE IF EXISTS deployments',
  'DROP TABLE IF EXISTS operator_actions',
  'ALTER TABLE patch_deployments DROP COLUMN IF EXISTS kernel_before',
  'ALTER TABLE patch_deployments DROP COLUMN IF EXISTS inventory_before',
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS failure_cause',
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS kernel_before',
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS inventory_before',
  `ALTER TABLE patch_tests DROP CONSTRAINT patch_tests_status_check`,
  `ALTER TABLE patch_tests ADD CONSTRAINT patch_tests_status_check CHECK (status IN ('running', 'passed', 'failed', 'rolled_back', 'cancelled'))`,
  `DELETE FROM queue_status_transitions WHERE ${NEW_TRANSITIONS.map(([a, b]) => `(from_status = ${q(a)} AND to_status = ${q(b)})`).join(' OR ')}`,
  `DROP INDEX patch_test_queue_active_uq`,
  `CREATE UNIQUE INDEX patch_test_queue_active_uq ON patch_test_queue (advisory_name, target_os) WHERE status IN (${list(OLD_ACTIVE)})`,
  'ALTER TABLE patch_test_queue DROP COLUMN IF EXISTS status_reason',
  `ALTER TABLE patch_test_queue DROP CONSTRAINT patch_test_queue_status_check`,
  `ALTER TABLE patch_test_queue ADD CONSTRAINT patch_test_queue_status_check CHECK (status IN (${list(OLD_STATUSES)}))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
