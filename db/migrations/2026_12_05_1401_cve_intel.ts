import { sql, type Kysely } from 'kysely';

// Real severity and exploit-aware ranking (issue 14): what NVD (CVSS), FIRST (EPSS) and CISA (KEV) say about
// each CVE, one row per CVE in cve_intel; per erratum the aggregate (highest CVSS with its version and source,
// highest EPSS, KEV with the earliest due date) and its urgency with the breakdown, written by the enrichment
// (db/queries/cve-intel.ts, domain/urgency.ts). The queue copies the urgency like severity_rank, and the work
// order becomes priority_override, urgency, severity, Success Score. A sync that rewrites an erratum's severity
// keeps the CVSS one while the erratum has a CVSS score (cvss_severity() is domain/cvss.ts's table).

const UP = [
  `CREATE TABLE cve_intel (
     cve_id text PRIMARY KEY CHECK (cve_id ~ '^CVE-[0-9]{4}-[0-9]{4,}$'),
     nvd_status text,
     nvd_published timestamptz,
     nvd_last_modified timestamptz,
     cvss_score double precision CHECK (cvss_score BETWEEN 0 AND 10),
     cvss_vector text,
     cvss_version text CHECK (cvss_version IN ('3.1', '3.0', '4.0', '2.0')),
     cvss_source text,
     cvss_type text CHECK (cvss_type IN ('Primary', 'Secondary')),
     nvd_fetched_at timestamptz,
     epss_score double precision CHECK (epss_score BETWEEN 0 AND 1),
     epss_percentile double precision CHECK (epss_percentile BETWEEN 0 AND 1),
     epss_date date,
     epss_model_version text,
     epss_fetched_at timestamptz,
     kev boolean NOT NULL DEFAULT false,
     kev_date_added date,
     kev_due_date date,
     kev_ransomware boolean NOT NULL DEFAULT false,
     kev_name text,
     kev_fetched_at timestamptz,
     fetched_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX cve_intel_nvd_fetched_idx ON cve_intel (nvd_fetched_at NULLS FIRST)`,
  `CREATE INDEX cve_intel_kev_idx ON cve_intel (cve_id) WHERE kev`,
  `CREATE TABLE intel_sources (
     source text PRIMARY KEY CHECK (source IN ('nvd', 'epss', 'kev')),
     refreshed_at timestamptz,
     version text,
     score_date date,
     window_end timestamptz,
     details jsonb NOT NULL DEFAULT '{}'
   )`,
  `CREATE TABLE nvd_request_log (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL DEFAULT clock_timestamp()
   )`,
  `CREATE INDEX nvd_request_log_at_idx ON nvd_request_log (at)`,

  `ALTER TABLE errata_cache
     ADD COLUMN severity_source text NOT NULL DEFAULT 'advisory_type' CHECK (severity_source IN ('cvss', 'uyuni', 'advisory_type')),
     ADD COLUMN cvss_score double precision,
     ADD COLUMN cvss_version text,
     ADD COLUMN cvss_source text,
     ADD COLUMN cvss_cve text,
     ADD COLUMN epss_score double precision,
     ADD COLUMN epss_percentile double precision,
     ADD COLUMN epss_cve text,
     ADD COLUMN kev boolean NOT NULL DEFAULT false,
     ADD COLUMN kev_due_date date,
     ADD COLUMN kev_ransomware boolean NOT NULL DEFAULT false,
     ADD COLUMN urgency double precision NOT NULL DEFAULT 0,
     ADD COLUMN urgency_breakdown jsonb NOT NULL DEFAULT '[]',
     ADD COLUMN intel_at timestamptz`,
  `CREATE INDEX errata_cache_kev_idx ON errata_cache (advisory_name) WHERE kev`,
  `ALTER TABLE patch_test_queue ADD COLUMN urgency double precision NOT NULL DEFAULT 0`,

  `CREATE FUNCTION cvss_severity(score double precision) RETURNS text LANGUAGE sql IMMUTABLE AS $$
     SELECT CASE WHEN score IS NULL OR score <= 0 THEN NULL WHEN score >= 9 THEN 'Critical' WHEN score >= 7 THEN 'High'
                 WHEN score >= 4 THEN 'Medium' ELSE 'Low' END $$`,
  `CREATE FUNCTION errata_cache_keep_cvss_severity() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF cvss_severity(NEW.cvss_score) IS NOT NULL THEN
       NEW.severity := cvss_severity(NEW.cvss_score);
       NEW.severity_source := 'cvss';
     ELSIF lower(btrim(coalesce(NEW.uyuni_severity, ''))) IN ('critical', 'important', 'high', 'moderate', 'medium', 'low') THEN
       NEW.severity_source := 'uyuni';
     ELSE
       NEW.severity_source := 'advisory_type';
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER errata_cache_keep_cvss_severity BEFORE INSERT OR UPDATE OF severity, uyuni_severity, cvss_score ON errata_cache
     FOR EACH ROW EXECUTE FUNCTION errata_cache_keep_cvss_severity()`,
  `CREATE FUNCTION patch_test_queue_set_urgency() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     SELECT e.urgency INTO NEW.urgency FROM errata_cache e WHERE e.advisory_name = NEW.advisory_name;
     NEW.urgency := coalesce(NEW.urgency, 0);
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER patch_test_queue_urgency BEFORE INSERT ON patch_test_queue
     FOR EACH ROW EXECUTE FUNCTION patch_test_queue_set_urgency()`,
  `CREATE FUNCTION errata_cache_propagate_urgency() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE patch_test_queue SET urgency = NEW.urgency WHERE advisory_name = NEW.advisory_name AND urgency <> NEW.urgency;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER errata_cache_propagate_urgency AFTER UPDATE OF urgency ON errata_cache
     FOR EACH ROW WHEN (OLD.urgency IS DISTINCT FROM NEW.urgency) EXECUTE FUNCTION errata_cache_propagate_urgency()`,
  `UPDATE errata_cache SET severity_source = CASE WHEN lower(btrim(coalesce(uyuni_severity, ''))) IN
     ('critical', 'important', 'high', 'moderate', 'medium', 'low') THEN 'uyuni' ELSE 'advisory_type' END`,

  `DROP INDEX IF EXISTS patch_test_queue_order_idx`,
  `CREATE INDEX patch_test_queue_order_idx ON patch_test_queue
     (priority_override ASC NULLS LAST, urgency DESC, severity_rank ASC, success_score DESC NULLS LAST, id ASC)`,
];

const DOWN = [
  'DROP INDEX IF EXISTS patch_test_queue_order_idx',
  `CREATE INDEX patch_test_queue_order_idx ON patch_test_queue
     (priority_override ASC NULLS LAST, severity_rank ASC, success_score DESC NULLS LAST, id ASC)`,
  'DROP TRIGGER IF EXISTS errata_cache_propagate_urgency ON errata_cache',
  'DROP FUNCTION IF EXISTS errata_cache_propagate_urgency()',
  'DROP TRIGGER IF EXISTS patch_test_queue_urgency ON patch_test_queue',
  'DROP FUNCTION IF EXISTS patch_test_queue_set_urgency()',
  'DROP TRIGGER IF EXISTS errata_cache_keep_cvss_severity ON errata_cache',
  'DROP FUNCTION IF EXISTS errata_cache_keep_cvss_severity()',
  'DROP FUNCTION IF EXISTS cvss_severity(double precision)',
  'ALTER TABLE patch_test_queue DROP COLUMN IF EXISTS urgency',
  'DROP INDEX IF EXISTS errata_cache_kev_idx',
  `ALTER TABLE errata_cache DROP COLUMN IF EXISTS severity_source, DROP COLUMN IF EXISTS cvss_score, DROP COLUMN IF EXISTS cvss_version,
     DROP COLUMN IF EXISTS cvss_source, DROP COLUMN IF EXISTS cvss_cve, DROP COLUMN IF EXISTS epss_score, DROP COLUMN IF EXISTS epss_percentile,
     DROP COLUMN IF EXISTS epss_cve, DROP COLUMN IF EXISTS kev, DROP COLUMN IF EXISTS kev_due_date, DROP COLUMN IF EXISTS kev_ransomware,
     DROP COLUMN IF EXISTS urgency, DROP COLUMN IF EXISTS urgency_breakdown, DROP COLUMN IF EXISTS intel_at`,
  'DROP TABLE IF EXISTS nvd_request_log',
  'DROP TABLE IF EXISTS intel_sources',
  'DROP TABLE IF EXISTS cve_intel',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
