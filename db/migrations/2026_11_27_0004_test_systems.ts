import { sql, type Kysely } from 'kysely';

// Test systems as the sync sees them (UYUNI's test groups), with the lease that keeps two tests off one
// system and the quarantine that keeps a system that never came back from a reboot out of rotation until an
// operator releases it. patch_tests gains what a later (forced) rollback needs.

const UP = [
  `CREATE TABLE test_systems (
     system_id integer PRIMARY KEY,
     name text NOT NULL,
     os text NOT NULL,
     group_name text NOT NULL,
     minion_id text,
     last_seen_at timestamptz NOT NULL DEFAULT now(),
     leased_by text,
     leased_run_id text,
     leased_at timestamptz,
     quarantined boolean NOT NULL DEFAULT false,
     quarantine_reason text,
     quarantined_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     CHECK ((leased_by IS NULL) = (leased_at IS NULL))
   )`,
  `CREATE INDEX test_systems_free_idx ON test_systems (os, system_id) WHERE leased_by IS NULL AND NOT quarantined`,
  `CREATE TRIGGER test_systems_updated_at BEFORE UPDATE ON test_systems FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
  `ALTER TABLE patch_tests ADD COLUMN restore_point jsonb`,
  `ALTER TABLE patch_tests ADD COLUMN test_system_ip text`,
  `ALTER TABLE patch_tests ADD COLUMN test_system_minion text`,
];

const DOWN = [
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS test_system_minion',
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS test_system_ip',
  'ALTER TABLE patch_tests DROP COLUMN IF EXISTS restore_point',
  'DROP TABLE IF EXISTS test_systems',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
