import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// A new default for bundle composition (README "Bundles"): only errata scoring below 20 are tested alone
// (bundle.alone_below_score 40 → 20); kernel errata stay alone by bundle.kernel_alone (1). Rows a person changed
// (updated_by is not the migration) keep their value.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE orchestrator_config SET value = '20'::jsonb, updated_at = now()
    WHERE key = 'bundle.alone_below_score' AND updated_by = 'migration' AND value = '40'::jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE orchestrator_config SET value = '40'::jsonb, updated_at = now()
    WHERE key = 'bundle.alone_below_score' AND updated_by = 'migration' AND value = '20'::jsonb`.execute(db);
}
