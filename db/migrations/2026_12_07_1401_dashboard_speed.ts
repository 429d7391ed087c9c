import { sql, type Kysely } from 'kysely';

// Issue 12's speed goal: what the dashboard polls must not scan the history.
//
// 1. daily_stats: the overview's 30-day chart (v_daily_stats' figures, with failed and rolled back apart) kept
//    per UTC day by statement-level triggers on the four tables it counts. Each statement folds its changed
//    rows (transition tables: OLD TABLE minus, NEW TABLE plus) into one upsert per day touched, so a bulk
//    write costs one row update per day, not one per row, and a row that moves day or status is moved, not
//    added twice. TRUNCATE (which fires no row-level logic) rebuilds the table from the rows left.
//    Days are UTC days (`at time zone 'UTC'`), whatever the session's TimeZone, so every writer agrees.
// 2. The Errata page's default (relevant advisories by severity, newest update first) as an index scan.

/** The counted columns: a test that passes counts on the day it completed, a decision on the day it was made. */
const COLUMNS = ['tests_started', 'tests_passed', 'tests_failed', 'tests_rolled_back', 'approved', 'rejected', 'systems_patched', 'rollbacks'] as const;

const day = (col: string) => `(r.${col} at time zone 'UTC')::date`;

/**
 * Per table: what one row contributes, as (day, column) pairs: a SELECT over `r` (a transition table) that
 * yields day, the column it counts in, and nothing for a row that counts nowhere.
 */
const CONTRIBUTIONS: Record<string, string> = {
  patch_tests: `
    select ${day('started_at')} as day, 'tests_started' as col from %REL% r where r.started_at is not null
    union all
    select ${day('completed_at')}, case r.status when 'passed' then 'tests_passed' when 'failed' then 'tests_failed' else 'tests_rolled_back' end
      from %REL% r where r.completed_at is not null and r.status in ('passed', 'failed', 'rolled_back')`,
  patch_approvals: `
    select ${day('decided_at')} as day, case r.decision when 'approve' then 'approved' else 'rejected' end as col
      from %REL% r where r.decision in ('approve', 'reject')`,
  patch_deployments: `
    select ${day('completed_at')} as day, 'systems_patched' as col from %REL% r where r.status = 'applied' and r.completed_at is not null`,
  patch_rollbacks: `
    select ${day('started_at')} as day, 'rollbacks' as col from %REL% r`,
};

/** Upsert of signed per-day deltas from `changes` (day, col, sign); days in order so two writers lock them alike. */
const upsert = (changes: string) => `
  INSERT INTO daily_stats AS d (day, ${COLUMNS.join(', ')})
  SELECT day, ${COLUMNS.map((c) => `sum(sign * (col = '${c}')::integer)::integer`).join(', ')}
  FROM (${changes}) c
  GROUP BY day
  HAVING ${COLUMNS.map((c) => `sum(sign * (col = '${c}')::integer) <> 0`).join(' OR ')}
  ORDER BY day
  ON CONFLICT (day) DO UPDATE SET ${COLUMNS.map((c) => `${c} = d.${c} + EXCLUDED.${c}`).join(', ')}`;

const signed = (table: string, rel: string, sign: number) =>
  `select day, col, ${sign} as sign from (${CONTRIBUTIONS[table]!.replaceAll('%REL%', rel)}) x`;

function triggerFunction(table: string): string {
  return `CREATE FUNCTION daily_stats_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       ${upsert(signed(table, 'new_rows', 1))};
     ELSIF TG_OP = 'UPDATE' THEN
       ${upsert(`${signed(table, 'old_rows', -1)} union all ${signed(table, 'new_rows', 1)}`)};
     ELSIF TG_OP = 'DELETE' THEN
       ${upsert(signed(table, 'old_rows', -1))};
     ELSE
       PERFORM daily_stats_rebuild();
     END IF;
     RETURN NULL;
   END $$`;
}

const REBUILD = `CREATE FUNCTION daily_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM daily_stats;
     ${upsert(Object.keys(CONTRIBUTIONS).map((t) => signed(t, t, 1)).join(' union all '))};
   END $$`;

const UP = [
  `CREATE TABLE daily_stats (
     day date PRIMARY KEY,
     ${COLUMNS.map((c) => `${c} integer NOT NULL DEFAULT 0`).join(',\n     ')}
   )`,
  REBUILD,
  ...Object.keys(CONTRIBUTIONS).flatMap((table) => [
    triggerFunction(table),
    `CREATE TRIGGER daily_stats_ins AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION daily_stats_${table}()`,
    `CREATE TRIGGER daily_stats_upd AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION daily_stats_${table}()`,
    `CREATE TRIGGER daily_stats_del AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION daily_stats_${table}()`,
    `CREATE TRIGGER daily_stats_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION daily_stats_${table}()`,
  ]),
  'SELECT daily_stats_rebuild()',
  // the Errata page's first page: relevant advisories by severity, then newest update (errata.ts orders by the same expressions)
  `CREATE INDEX errata_cache_relevant_severity_idx ON errata_cache (severity_rank(severity), update_date DESC, advisory_name)
     WHERE cardinality(test_system_ids) > 0`,
];

const DOWN = [
  'DROP INDEX IF EXISTS errata_cache_relevant_severity_idx',
  ...Object.keys(CONTRIBUTIONS).flatMap((table) => [
    ...['ins', 'upd', 'del', 'truncate'].map((t) => `DROP TRIGGER IF EXISTS daily_stats_${t} ON ${table}`),
    `DROP FUNCTION IF EXISTS daily_stats_${table}()`,
  ]),
  'DROP FUNCTION IF EXISTS daily_stats_rebuild()',
  'DROP TABLE IF EXISTS daily_stats',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
