import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// What a patch changed on a system (upgraded, added, removed packages), read right after it from the whole
// inventory: a rollback undoes exactly that, also later, after other patches ran on the same system. And the
// test engine's settings for a truthful verdict: when a test system is at rest, and the highest levels a
// patched system may show whatever its baseline.

const CONFIG: [string, unknown, string][] = [
  ['test.baseline_cpu_spread', 5, 'a test system is at rest when CPU % moves at most this much (points) across the baseline window'],
  ['test.baseline_memory_spread', 3, 'a test system is at rest when memory % moves at most this much (points) across the baseline window'],
  ['test.cpu_ceiling_percent', 90, 'highest CPU % a patched test system may show, whatever its baseline'],
  ['test.memory_ceiling_percent', 90, 'highest memory % a patched test system may show, whatever its baseline'],
  ['test.inconclusive_retry_minutes', 30, 'an inconclusive test is retried after this many minutes'],
  ['test.inconclusive_max_retries', 3, 'retries of an inconclusive test before it waits for a person'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE patch_tests ADD COLUMN inventory_changes jsonb`.execute(db);
  await sql`ALTER TABLE patch_deployments ADD COLUMN inventory_changes jsonb`.execute(db);
  for (const [key, value, description] of CONFIG) {
    await sql`INSERT INTO orchestrator_config (key, value, description, updated_by) VALUES (${key}, ${JSON.stringify(value)}::jsonb, ${description}, 'migration')
              ON CONFLICT (key) DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM orchestrator_config WHERE key = ANY(${CONFIG.map(([k]) => k)}::text[])`.execute(db);
  await sql`ALTER TABLE patch_deployments DROP COLUMN IF EXISTS inventory_changes`.execute(db);
  await sql`ALTER TABLE patch_tests DROP COLUMN IF EXISTS inventory_changes`.execute(db);
}
