import { sql, type Kysely } from 'kysely';

// Retracted advisories (issue 15): UYUNI's advisory_status (final / stable / testing / retracted) was already
// cached; `retracted_at` says since when the orchestrator knows it is retracted. A trigger keeps the retraction
// sticky: a later sync that reads the advisory as `final` again (a cloned channel not yet re-synced still shows
// the old status, uyuni-api.md §3.9) never makes it deployable again. Halts recorded because of a retraction
// carry source `retraction` (the sync or the rollout found it, no person asked).

const UP = [
  'ALTER TABLE errata_cache ADD COLUMN retracted_at timestamptz',
  `UPDATE errata_cache SET retracted_at = now() WHERE advisory_status = 'retracted'`,
  `CREATE FUNCTION errata_cache_sticky_retraction() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'UPDATE' AND OLD.retracted_at IS NOT NULL THEN
       NEW.retracted_at := OLD.retracted_at;
       NEW.advisory_status := 'retracted';
     ELSIF NEW.advisory_status = 'retracted' AND NEW.retracted_at IS NULL THEN
       NEW.retracted_at := now();
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER errata_cache_sticky_retraction BEFORE INSERT OR UPDATE ON errata_cache
     FOR EACH ROW EXECUTE FUNCTION errata_cache_sticky_retraction()`,
  `CREATE INDEX errata_cache_retracted_idx ON errata_cache (advisory_name) WHERE retracted_at IS NOT NULL`,
  'ALTER TABLE deployment_halts DROP CONSTRAINT deployment_halts_source_check',
  `ALTER TABLE deployment_halts ADD CONSTRAINT deployment_halts_source_check CHECK (source IN ('api', 'dashboard', 'retraction'))`,
];

const DOWN = [
  `DELETE FROM deployment_halts WHERE source = 'retraction'`,
  'ALTER TABLE deployment_halts DROP CONSTRAINT deployment_halts_source_check',
  `ALTER TABLE deployment_halts ADD CONSTRAINT deployment_halts_source_check CHECK (source IN ('api', 'dashboard'))`,
  'DROP INDEX IF EXISTS errata_cache_retracted_idx',
  'DROP TRIGGER IF EXISTS errata_cache_sticky_retraction ON errata_cache',
  'DROP FUNCTION IF EXISTS errata_cache_sticky_retraction()',
  'ALTER TABLE errata_cache DROP COLUMN IF EXISTS retracted_at',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
