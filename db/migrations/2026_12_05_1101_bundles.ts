import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Bundles: several queued errata of one OS tested in one run, and the bisection tree of a bundle that failed.
// A node is one test run of a set of queue items (the root bundle, a half, a retest of a whole, a probe while
// growing an interaction set); its patch_tests row is the run's record (phases, metrics, restore point), with
// queue_id = the node's first member and bundle_id = the node. A run of several errata never proves one
// erratum's own failure, so its failure_cause is `bundle`, which the Success Score's history does not count.

const CONFIG: [string, unknown, string][] = [
  ['bundle.max_size', 8, 'most errata tested together in one run (1 = one erratum per run)'],
  ['bundle.alone_below_score', 40, 'errata whose Success Score is below this are tested alone'],
  ['bundle.failure_prior_percent', 5, 'the failure probability (%) of an erratum with a Success Score of 50, before any run is observed'],
  ['bundle.recent_runs', 50, 'judged errata of the OS whose observed failure rate sizes the next bundle (0: the Success Scores alone)'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE test_bundles (
    id serial PRIMARY KEY,
    root_id integer REFERENCES test_bundles (id) ON DELETE CASCADE,
    parent_id integer REFERENCES test_bundles (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('bundle', 'half', 'retest', 'probe')),
    target_os text NOT NULL,
    workflow_id text NOT NULL UNIQUE,
    member_ids integer[] NOT NULL CHECK (cardinality(member_ids) >= 1),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'passed', 'failed', 'inconclusive')),
    cause text CHECK (cause IN ('patch', 'test_system', 'unknown')),
    failure_reason text,
    test_id integer REFERENCES patch_tests (id) ON DELETE SET NULL,
    size_policy jsonb,
    outcome jsonb,
    requested_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
  )`.execute(db);
  await sql`CREATE INDEX test_bundles_root_idx ON test_bundles (root_id, id)`.execute(db);
  await sql`CREATE INDEX test_bundles_parent_idx ON test_bundles (parent_id)`.execute(db);
  await sql`CREATE TABLE test_bundle_members (
    bundle_id integer NOT NULL REFERENCES test_bundles (id) ON DELETE CASCADE,
    queue_id integer NOT NULL REFERENCES patch_test_queue (id) ON DELETE CASCADE,
    position integer NOT NULL,
    verdict text CHECK (verdict IN ('passed', 'rolled_back', 'interaction', 'inconclusive')),
    reason text,
    PRIMARY KEY (bundle_id, queue_id)
  )`.execute(db);
  await sql`CREATE INDEX test_bundle_members_queue_idx ON test_bundle_members (queue_id, bundle_id)`.execute(db);
  await sql`ALTER TABLE patch_tests ADD COLUMN bundle_id integer REFERENCES test_bundles (id) ON DELETE SET NULL`.execute(db);
  await sql`CREATE INDEX patch_tests_bundle_idx ON patch_tests (bundle_id) WHERE bundle_id IS NOT NULL`.execute(db);
  await sql`ALTER TABLE patch_tests DROP CONSTRAINT IF EXISTS patch_tests_failure_cause_check`.execute(db);
  await sql`ALTER TABLE patch_tests ADD CONSTRAINT patch_tests_failure_cause_check CHECK (failure_cause IN ('patch', 'test_system', 'unknown', 'bundle'))`.execute(db);
  // A set rollout: one rollout (deploy-<carrier>) records one request per item it carries.
  await sql`ALTER TABLE deployments DROP CONSTRAINT IF EXISTS deployments_workflow_id_key`.execute(db);
  await sql`CREATE UNIQUE INDEX deployments_workflow_queue_idx ON deployments (workflow_id, queue_id)`.execute(db);
  for (const [key, value, description] of CONFIG) {
    await sql`INSERT INTO orchestrator_config (key, value, description, updated_by) VALUES (${key}, ${JSON.stringify(value)}::jsonb, ${description}, 'migration')
              ON CONFLICT (key) DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM orchestrator_config WHERE key = ANY(${CONFIG.map(([k]) => k)}::text[])`.execute(db);
  await sql`DROP INDEX IF EXISTS deployments_workflow_queue_idx`.execute(db);
  await sql`DELETE FROM deployments d WHERE EXISTS (SELECT 1 FROM deployments o WHERE o.workflow_id = d.workflow_id AND o.id < d.id)`.execute(db);
  await sql`ALTER TABLE deployments ADD CONSTRAINT deployments_workflow_id_key UNIQUE (workflow_id)`.execute(db);
  await sql`UPDATE patch_tests SET failure_cause = 'unknown' WHERE failure_cause = 'bundle'`.execute(db);
  await sql`ALTER TABLE patch_tests DROP CONSTRAINT IF EXISTS patch_tests_failure_cause_check`.execute(db);
  await sql`ALTER TABLE patch_tests ADD CONSTRAINT patch_tests_failure_cause_check CHECK (failure_cause IN ('patch', 'test_system', 'unknown'))`.execute(db);
  await sql`ALTER TABLE patch_tests DROP COLUMN IF EXISTS bundle_id`.execute(db);
  await sql`DROP TABLE IF EXISTS test_bundle_members`.execute(db);
  await sql`DROP TABLE IF EXISTS test_bundles`.execute(db);
}
