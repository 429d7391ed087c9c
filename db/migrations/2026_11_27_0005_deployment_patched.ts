import { sql, type Kysely } from 'kysely';

// A production system counts as patched once UYUNI completed the erratum on it, whatever the checks after
// it said: exactly these systems are rolled back (a system whose action failed had nothing applied).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE patch_deployments ADD COLUMN patched boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE patch_deployments DROP COLUMN IF EXISTS patched`.execute(db);
}
