import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// New defaults for bundle composition (README "Bundles"): a kernel erratum shares a bundle with non-kernel
// errata, one kernel erratum per bundle at most (bundle.kernel_alone 1 → 0), and only errata scoring below 20
// are tested alone (bundle.alone_below_score 40 → 20). Rows a person changed (updated_by is not the migration)
// keep their value.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE orchestrator_config SET value = '0'::jsonb, updated_at = now(),
      description = 'a kernel erratum may share a bundle with errata that are not kernel errata (0, the default; at most one kernel erratum per bundle), or is tested alone (1)'
    WHERE key = 'bundle.kernel_alone' AND updated_by = 'migration' AND value = '1'::jsonb`.execute(db);
  await sql`UPDATE orchestrator_config SET value = '20'::jsonb, updated_at = now()
    WHERE key = 'bundle.alone_below_score' AND updated_by = 'migration' AND value = '40'::jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE orchestrator_config SET value = '1'::jsonb, updated_at = now(),
      description = 'a kernel erratum is tested alone (1), or may share a bundle with errata that are not kernel errata (0; at most one kernel erratum per bundle either way)'
    WHERE key = 'bundle.kernel_alone' AND updated_by = 'migration' AND value = '0'::jsonb`.execute(db);
  await sql`UPDATE orchestrator_config SET value = '40'::jsonb, updated_at = now()
    WHERE key = 'bundle.alone_below_score' AND updated_by = 'migration' AND value = '20'::jsonb`.execute(db);
}
