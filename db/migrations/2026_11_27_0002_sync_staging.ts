import { sql, type Kysely } from 'kysely';

// Staging for a sync run in progress. Chunk activities write here (idempotently, keyed by run and chunk)
// instead of returning large payloads into workflow history; the commit merges the run into errata_cache
// in one transaction and deletes its rows. UNLOGGED: disposable, and a crash just means a re-run.

const UP = [
  `CREATE UNLOGGED TABLE sync_staging_errata (
     sync_run_id integer NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
     chunk integer NOT NULL,
     advisory_name text NOT NULL,
     uyuni_errata_id integer NOT NULL,
     advisory_type text NOT NULL,
     advisory_status text,
     synopsis text,
     issue_date date,
     update_date date,
     reboot_suggested boolean,
     target_os text[] NOT NULL,
     system_ids integer[] NOT NULL,
     PRIMARY KEY (sync_run_id, chunk, advisory_name)
   )`,
  // One row per advisory whose details must be fetched, numbered so chunk activities can take ranges.
  `CREATE UNLOGGED TABLE sync_staging_details (
     sync_run_id integer NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
     seq integer NOT NULL,
     advisory_name text NOT NULL,
     advisory_type text NOT NULL,
     fetched boolean NOT NULL DEFAULT false,
     description text,
     uyuni_severity text,
     severity text,
     cves text[],
     reboot_suggested boolean,
     PRIMARY KEY (sync_run_id, advisory_name),
     UNIQUE (sync_run_id, seq)
   )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP TABLE IF EXISTS sync_staging_details').execute(db);
  await sql.raw('DROP TABLE IF EXISTS sync_staging_errata').execute(db);
}
