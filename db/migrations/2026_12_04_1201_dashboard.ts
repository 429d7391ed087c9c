import { sql, type Kysely } from 'kysely';

// What the dashboard's lists need: tests newest first (optionally by status or test system), the decision
// history newest first, reminders per queue item, a production rollback's rows per item, and the record of a
// halt a person asked for (written before the halt signal is sent, like every human action).

const UP = [
  `CREATE INDEX patch_tests_status_id_idx ON patch_tests (status, id DESC)`,
  `CREATE INDEX patch_tests_system_id_idx ON patch_tests (test_system_id, id DESC)`,
  `CREATE INDEX patch_approvals_decided_idx ON patch_approvals (decided_at DESC, id DESC)`,
  `CREATE INDEX patch_rollbacks_queue_idx ON patch_rollbacks (queue_id)`,
  // an item's last passed test (the evidence and pending_since of an approval) in one probe
  `CREATE INDEX patch_tests_passed_idx ON patch_tests (queue_id, completed_at DESC NULLS LAST, id DESC) WHERE status = 'passed'`,
  // the Deployments page: rollouts most recently changed first
  `CREATE INDEX patch_test_queue_rollout_idx ON patch_test_queue (status_changed_at DESC, id DESC)
     WHERE status IN ('approved', 'promoting', 'halted', 'prod_applied', 'completed', 'prod_rolled_back')`,
  `CREATE INDEX orchestrator_notifications_queue_event_idx ON orchestrator_notifications (queue_id, event_type)`,
  `CREATE TABLE deployment_halts (
     id serial PRIMARY KEY,
     queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
     requested_by text NOT NULL,
     reason text NOT NULL,
     source text NOT NULL CHECK (source IN ('api', 'dashboard')),
     request_id text NOT NULL UNIQUE,
     requested_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX deployment_halts_queue_idx ON deployment_halts (queue_id)`,
];

const DOWN = [
  'DROP TABLE IF EXISTS deployment_halts',
  'DROP INDEX IF EXISTS orchestrator_notifications_queue_event_idx',
  'DROP INDEX IF EXISTS patch_test_queue_rollout_idx',
  'DROP INDEX IF EXISTS patch_tests_passed_idx',
  'DROP INDEX IF EXISTS patch_rollbacks_queue_idx',
  'DROP INDEX IF EXISTS patch_approvals_decided_idx',
  'DROP INDEX IF EXISTS patch_tests_system_id_idx',
  'DROP INDEX IF EXISTS patch_tests_status_id_idx',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
