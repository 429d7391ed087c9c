import { sql, type Kysely } from 'kysely';

// Issue 12's polling goal for the approval inbox and the overview's "oldest waiting": both order the items
// waiting for a decision by v_pending_approvals' pending_since (the last passed test's completed_at, else the
// item's status_changed_at). Computed per request that is one probe of patch_tests per waiting item (2,500 in
// bench/ui: ~20 ms a poll). Kept on the queue row instead — patch_test_queue.last_passed_at, the newest
// completed_at of the item's passed tests — by a statement-level trigger on patch_tests that recomputes it for
// the items a statement touched (only rows whose value really changes are written), so the inbox's page is an
// index scan of the partial index below, in the same order as the view.

const RECOMPUTE = (rel: string) => `
  UPDATE patch_test_queue q SET last_passed_at = p.last_passed_at
  FROM (SELECT c.queue_id,
               (SELECT max(pt.completed_at) FROM patch_tests pt WHERE pt.queue_id = c.queue_id AND pt.status = 'passed') AS last_passed_at
        FROM (SELECT DISTINCT queue_id FROM (${rel}) r ORDER BY queue_id) c) p
  WHERE q.id = p.queue_id AND q.last_passed_at IS DISTINCT FROM p.last_passed_at`;

const UP = [
  'ALTER TABLE patch_test_queue ADD COLUMN last_passed_at timestamptz',
  `CREATE FUNCTION queue_last_passed() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       ${RECOMPUTE('SELECT queue_id FROM new_rows')};
     ELSIF TG_OP = 'UPDATE' THEN
       ${RECOMPUTE('SELECT queue_id FROM old_rows UNION SELECT queue_id FROM new_rows')};
     ELSIF TG_OP = 'DELETE' THEN
       ${RECOMPUTE('SELECT queue_id FROM old_rows')};
     ELSE
       UPDATE patch_test_queue SET last_passed_at = NULL WHERE last_passed_at IS NOT NULL;
     END IF;
     RETURN NULL;
   END $$`,
  'CREATE TRIGGER queue_last_passed_ins AFTER INSERT ON patch_tests REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_last_passed()',
  'CREATE TRIGGER queue_last_passed_upd AFTER UPDATE ON patch_tests REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_last_passed()',
  'CREATE TRIGGER queue_last_passed_del AFTER DELETE ON patch_tests REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_last_passed()',
  'CREATE TRIGGER queue_last_passed_truncate AFTER TRUNCATE ON patch_tests FOR EACH STATEMENT EXECUTE FUNCTION queue_last_passed()',
  `UPDATE patch_test_queue q SET last_passed_at = (SELECT max(pt.completed_at) FROM patch_tests pt WHERE pt.queue_id = q.id AND pt.status = 'passed')
   WHERE EXISTS (SELECT 1 FROM patch_tests pt WHERE pt.queue_id = q.id AND pt.status = 'passed')`,
  // the inbox's order (approvals.ts pendingApprovals, overview.ts oldestPending): the same expressions
  `CREATE INDEX patch_test_queue_pending_since_idx ON patch_test_queue ((coalesce(last_passed_at, status_changed_at)), id)
     WHERE status IN ('pending_approval', 'snoozed')`,
];

const DOWN = [
  'DROP INDEX IF EXISTS patch_test_queue_pending_since_idx',
  ...['ins', 'upd', 'del', 'truncate'].map((t) => `DROP TRIGGER IF EXISTS queue_last_passed_${t} ON patch_tests`),
  'DROP FUNCTION IF EXISTS queue_last_passed()',
  'ALTER TABLE patch_test_queue DROP COLUMN IF EXISTS last_passed_at',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
