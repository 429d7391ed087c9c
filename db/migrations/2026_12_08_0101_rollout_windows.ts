import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Batches by maintenance window (issue 15): each system of a rollout (and of a dry run's plan) keeps the next
// UYUNI maintenance window its batch was cut by ({schedule, start, end}, {schedule, start: null, reason} when
// its schedule has none, SQL NULL when it has no schedule) and its batch's `earliest` (the start of that window,
// or when the batch was cut if it may go at once; NULL: never). A system UYUNI refused outside its window
// (fault 1334) moves to a new batch of its wave at its next window: `rescheduled_from` names the batch it left.

const UP = [
  'ALTER TABLE patch_deployments ADD COLUMN next_window jsonb',
  'ALTER TABLE patch_deployments ADD COLUMN earliest timestamptz',
  'ALTER TABLE patch_deployments ADD COLUMN rescheduled_from integer',
  'ALTER TABLE deployment_plan_targets ADD COLUMN next_window jsonb',
  'ALTER TABLE deployment_plan_targets ADD COLUMN earliest timestamptz',
];
const DOWN = [
  'ALTER TABLE deployment_plan_targets DROP COLUMN IF EXISTS earliest',
  'ALTER TABLE deployment_plan_targets DROP COLUMN IF EXISTS next_window',
  'ALTER TABLE patch_deployments DROP COLUMN IF EXISTS rescheduled_from',
  'ALTER TABLE patch_deployments DROP COLUMN IF EXISTS earliest',
  'ALTER TABLE patch_deployments DROP COLUMN IF EXISTS next_window',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const q of UP) await sql.raw(q).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const q of DOWN) await sql.raw(q).execute(db);
}
