import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Rollouts at fleet scale (issue 15): a production system belongs to a batch of its wave (one UYUNI action per
// batch), keeps the boot time read with its restore point (a batched reboot is proved against it), and a plan
// can be computed and stored without starting anything (a dry run, GET /api/v1/deployments/<id>/plan).

const CONFIG: [string, unknown, string][] = [
  ['deploy.batch_size', 100, 'production systems per UYUNI action (one system.scheduleApplyErrata per batch of a wave)'],
  ['deploy.canary_fraction', 0, 'percent of each production group in the canary wave (0: deploy.canary_size systems per group)'],
  ['deploy.verdict', 0, '1: judge each wave after its soak (patched vs unpatched peers of its groups); 0: off'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE patch_deployments ADD COLUMN batch integer`.execute(db);
  await sql`ALTER TABLE patch_deployments ADD COLUMN boot_before bigint`.execute(db);
  await sql`CREATE INDEX patch_deployments_workflow_wave_batch_idx ON patch_deployments (workflow_id, wave, batch)`.execute(db);
  await sql`CREATE TABLE deployment_plans (
    queue_id integer PRIMARY KEY REFERENCES patch_test_queue (id) ON DELETE CASCADE,
    planned_at timestamptz NOT NULL DEFAULT now(),
    policy jsonb NOT NULL,
    targets integer NOT NULL,
    waves integer NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE deployment_plan_targets (
    queue_id integer NOT NULL REFERENCES deployment_plans (queue_id) ON DELETE CASCADE,
    system_id integer NOT NULL,
    system_name text NOT NULL,
    group_name text,
    wave integer NOT NULL,
    batch integer NOT NULL,
    minion text NOT NULL,
    errata jsonb,
    PRIMARY KEY (queue_id, system_id)
  )`.execute(db);
  for (const [key, value, description] of CONFIG) {
    await sql`INSERT INTO orchestrator_config (key, value, description, updated_by) VALUES (${key}, ${JSON.stringify(value)}::jsonb, ${description}, 'migration')
              ON CONFLICT (key) DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM orchestrator_config WHERE key = ANY(${CONFIG.map(([k]) => k)}::text[])`.execute(db);
  await sql`DROP TABLE IF EXISTS deployment_plan_targets`.execute(db);
  await sql`DROP TABLE IF EXISTS deployment_plans`.execute(db);
  await sql`DROP INDEX IF EXISTS patch_deployments_workflow_wave_batch_idx`.execute(db);
  await sql`ALTER TABLE patch_deployments DROP COLUMN IF EXISTS boot_before`.execute(db);
  await sql`ALTER TABLE patch_deployments DROP COLUMN IF EXISTS batch`.execute(db);
}
