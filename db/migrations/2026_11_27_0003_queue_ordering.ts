import { sql, type Kysely } from 'kysely';

// The queue an operator works from, read at hundreds of requests per second:
// - severity_rank denormalized from errata_cache (kept in step by a trigger) so "priority_override, then
//   severity, then score" is one index scan instead of a join and a sort over every row;
// - queue_counts kept by a trigger, so totals and /queue/stats never count 100,000 rows per request;
// - request_id makes the queueing activity idempotent (a retried activity finds its own rows).

const UP = [
  `ALTER TABLE patch_test_queue ADD COLUMN severity_rank smallint NOT NULL DEFAULT 4 CHECK (severity_rank BETWEEN 1 AND 4)`,
  `ALTER TABLE patch_test_queue ADD COLUMN request_id text`,
  `CREATE INDEX patch_test_queue_request_idx ON patch_test_queue (request_id) WHERE request_id IS NOT NULL`,
  `DROP INDEX IF EXISTS patch_test_queue_order_idx`,
  `CREATE INDEX patch_test_queue_order_idx ON patch_test_queue
     (priority_override ASC NULLS LAST, severity_rank ASC, success_score DESC NULLS LAST, id ASC)`,

  `CREATE FUNCTION severity_rank(severity text) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
     SELECT CASE severity WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3 ELSE 4 END::smallint $$`,
  `CREATE FUNCTION patch_test_queue_set_severity_rank() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     SELECT severity_rank(e.severity) INTO NEW.severity_rank FROM errata_cache e WHERE e.advisory_name = NEW.advisory_name;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER patch_test_queue_severity_rank BEFORE INSERT ON patch_test_queue
     FOR EACH ROW EXECUTE FUNCTION patch_test_queue_set_severity_rank()`,
  `CREATE FUNCTION errata_cache_propagate_severity() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE patch_test_queue SET severity_rank = severity_rank(NEW.severity)
      WHERE advisory_name = NEW.advisory_name AND severity_rank <> severity_rank(NEW.severity);
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER errata_cache_propagate_severity AFTER UPDATE OF severity ON errata_cache
     FOR EACH ROW WHEN (OLD.severity IS DISTINCT FROM NEW.severity) EXECUTE FUNCTION errata_cache_propagate_severity()`,

  `CREATE TABLE queue_counts (
     status text NOT NULL,
     target_os text NOT NULL,
     severity_rank smallint NOT NULL,
     items integer NOT NULL DEFAULT 0,
     scored integer NOT NULL DEFAULT 0,
     score_sum bigint NOT NULL DEFAULT 0,
     PRIMARY KEY (status, target_os, severity_rank)
   )`,
  `CREATE FUNCTION queue_counts_apply(s text, os text, sev smallint, d integer, score integer) RETURNS void LANGUAGE sql AS $$
     INSERT INTO queue_counts AS c (status, target_os, severity_rank, items, scored, score_sum)
     VALUES (s, os, sev, d, CASE WHEN score IS NULL THEN 0 ELSE d END, COALESCE(score, 0) * d)
     ON CONFLICT (status, target_os, severity_rank) DO UPDATE SET
       items = c.items + EXCLUDED.items, scored = c.scored + EXCLUDED.scored, score_sum = c.score_sum + EXCLUDED.score_sum $$`,
  `CREATE FUNCTION patch_test_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') THEN
       PERFORM queue_counts_apply(OLD.status, OLD.target_os, OLD.severity_rank, -1, OLD.success_score);
     END IF;
     IF TG_OP IN ('INSERT', 'UPDATE') THEN
       PERFORM queue_counts_apply(NEW.status, NEW.target_os, NEW.severity_rank, 1, NEW.success_score);
     END IF;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER patch_test_queue_count AFTER INSERT OR DELETE OR UPDATE OF status, target_os, severity_rank, success_score
     ON patch_test_queue FOR EACH ROW EXECUTE FUNCTION patch_test_queue_count()`,
  `UPDATE patch_test_queue q SET severity_rank = severity_rank(e.severity) FROM errata_cache e WHERE e.advisory_name = q.advisory_name`,
  `INSERT INTO queue_counts (status, target_os, severity_rank, items, scored, score_sum)
     SELECT status, target_os, severity_rank, count(*), count(success_score), COALESCE(sum(success_score), 0)
     FROM patch_test_queue GROUP BY 1, 2, 3`,
];

const DOWN = [
  'DROP TRIGGER IF EXISTS patch_test_queue_count ON patch_test_queue',
  'DROP FUNCTION IF EXISTS patch_test_queue_count()',
  'DROP FUNCTION IF EXISTS queue_counts_apply(text, text, smallint, integer, integer)',
  'DROP TABLE IF EXISTS queue_counts',
  'DROP TRIGGER IF EXISTS errata_cache_propagate_severity ON errata_cache',
  'DROP FUNCTION IF EXISTS errata_cache_propagate_severity()',
  'DROP TRIGGER IF EXISTS patch_test_queue_severity_rank ON patch_test_queue',
  'DROP FUNCTION IF EXISTS patch_test_queue_set_severity_rank()',
  'DROP INDEX IF EXISTS patch_test_queue_order_idx',
  'DROP INDEX IF EXISTS patch_test_queue_request_idx',
  'ALTER TABLE patch_test_queue DROP COLUMN IF EXISTS request_id',
  'ALTER TABLE patch_test_queue DROP COLUMN IF EXISTS severity_rank',
  'DROP FUNCTION IF EXISTS severity_rank(text)',
  `CREATE INDEX patch_test_queue_order_idx ON patch_test_queue (priority_override ASC NULLS LAST, success_score DESC)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
