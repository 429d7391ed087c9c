import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Bisection by binary splitting: what a search sets aside is tested again as one run, a node of kind `rest`.
// And bundle.kernel_alone: whether a kernel erratum is tested alone (1, the default) or may share a bundle with
// errata that are not kernel errata (0; still at most one kernel erratum per bundle).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE test_bundles DROP CONSTRAINT test_bundles_kind_check`.execute(db);
  await sql`ALTER TABLE test_bundles ADD CONSTRAINT test_bundles_kind_check CHECK (kind IN ('bundle', 'half', 'rest', 'retest', 'probe'))`.execute(db);
  await sql`INSERT INTO orchestrator_config (key, value, description, updated_by)
    VALUES ('bundle.kernel_alone', '1'::jsonb, 'a kernel erratum is tested alone (1), or may share a bundle with errata that are not kernel errata (0; at most one kernel erratum per bundle either way)', 'migration')
    ON CONFLICT (key) DO NOTHING`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM orchestrator_config WHERE key = 'bundle.kernel_alone'`.execute(db);
  await sql`DELETE FROM test_bundles WHERE kind = 'rest'`.execute(db);
  await sql`ALTER TABLE test_bundles DROP CONSTRAINT test_bundles_kind_check`.execute(db);
  await sql`ALTER TABLE test_bundles ADD CONSTRAINT test_bundles_kind_check CHECK (kind IN ('bundle', 'half', 'retest', 'probe'))`.execute(db);
}
