import { sql, type Kysely } from 'kysely';

// Frozen in time: this file must not import application code.
// Statistical verdicts (issue 15, domain/judge.ts): Kayenta's judge — Mann-Whitney U per metric, control vs
// experiment — on the test system (baseline window vs after window, scope `test`) and after each production
// wave's soak (the wave's patched systems vs still-unpatched peers of the same group over the same window,
// scope `wave`). A verdict is one row with its score and reason; each metric one row with every sample it was
// judged on and its statistics. idempotency_key makes a retried activity find the verdict it already stored:
// the first one stored is the one the workflow acts on.

const CONFIG: [string, unknown, string][] = [
  ['verdict.confidence', 0.98, 'confidence level of the Mann-Whitney interval for the shift (Kayenta: 0.98)'],
  ['verdict.tolerance', 0.25, 'the interval must clear ±tolerance × |Hodges–Lehmann estimate| to count as a change (Kayenta: 0.25)'],
  ['verdict.min_samples', 5, 'fewest finite samples per side for a metric to be judged; fewer is NODATA, never a pass'],
  ['verdict.pass_score', 90, 'a wave verdict scoring at least this (0–100, the weight share of passed metrics) passes'],
  ['verdict.marginal_score', 75, 'at least this (and below the pass score) is marginal: the rollout pauses for a person'],
  ['verdict.cpu_allowed_increase', 5, 'a wave: largest allowed CPU rise of the patched systems over their peers (percentage points, Hodges–Lehmann shift)'],
  ['verdict.memory_allowed_increase', 5, 'a wave: largest allowed memory rise of the patched systems over their peers (percentage points)'],
  ['verdict.nodata_policy', 'marginal', 'a metric without enough data: marginal (a person decides) or fail'],
  ['verdict.marginal_reminder_hours', 4, 'a rollout paused by a marginal verdict reminds every this many hours until someone decides'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE verdicts (
    id serial PRIMARY KEY,
    scope text NOT NULL CHECK (scope IN ('test', 'wave')),
    idempotency_key text NOT NULL UNIQUE,
    test_id integer REFERENCES patch_tests (id) ON DELETE CASCADE,
    queue_id integer REFERENCES patch_test_queue (id) ON DELETE CASCADE,
    wave integer CHECK (wave >= 0),
    group_name text,
    experiment_systems integer[] NOT NULL DEFAULT '{}',
    control_systems integer[] NOT NULL DEFAULT '{}',
    control_from timestamptz NOT NULL,
    control_to timestamptz NOT NULL,
    experiment_from timestamptz NOT NULL,
    experiment_to timestamptz NOT NULL,
    verdict text NOT NULL CHECK (verdict IN ('pass', 'marginal', 'fail', 'nodata')),
    decision text NOT NULL CHECK (decision IN ('continue', 'pause', 'halt')),
    score double precision CHECK (score BETWEEN 0 AND 100),
    reason text NOT NULL,
    settings jsonb NOT NULL,
    -- a person's decision on a marginal / nodata wave verdict (workflows/verdict-pause.ts), recorded before it takes effect
    decided text CHECK (decided IN ('continue', 'halt')),
    decided_by text,
    decided_reason text,
    decided_source text,
    decided_request_id text,
    decided_at timestamptz,
    reminders integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((decided IS NULL) = (decided_by IS NULL) AND (decided IS NULL) = (decided_at IS NULL)),
    CHECK (scope <> 'test' OR test_id IS NOT NULL),
    CHECK (scope <> 'wave' OR (queue_id IS NOT NULL AND wave IS NOT NULL))
  )`.execute(db);
  await sql`CREATE INDEX verdicts_test_idx ON verdicts (test_id) WHERE test_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX verdicts_queue_idx ON verdicts (queue_id, wave, id) WHERE queue_id IS NOT NULL`.execute(db);
  await sql`CREATE TABLE verdict_metrics (
    verdict_id integer NOT NULL REFERENCES verdicts (id) ON DELETE CASCADE,
    metric text NOT NULL,
    position integer NOT NULL,
    unit text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('increase', 'decrease', 'either')),
    weight double precision NOT NULL CHECK (weight > 0),
    critical boolean NOT NULL,
    allowed jsonb NOT NULL DEFAULT '{}',
    classification text NOT NULL CHECK (classification IN ('pass', 'high', 'low', 'nodata')),
    control_samples double precision[] NOT NULL,
    experiment_samples double precision[] NOT NULL,
    control_count integer NOT NULL,
    experiment_count integer NOT NULL,
    removed_nan integer NOT NULL,
    method text CHECK (method IN ('exact', 'asymptotic')),
    u double precision,
    p double precision,
    estimate double precision,
    ci_lower double precision,
    ci_upper double precision,
    mean_ratio double precision,
    control_mean double precision,
    experiment_mean double precision,
    reason text NOT NULL,
    PRIMARY KEY (verdict_id, metric)
  )`.execute(db);
  for (const [key, value, description] of CONFIG) {
    await sql`INSERT INTO orchestrator_config (key, value, description, updated_by) VALUES (${key}, ${JSON.stringify(value)}::jsonb, ${description}, 'migration')
              ON CONFLICT (key) DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM orchestrator_config WHERE key = ANY(${CONFIG.map(([k]) => k)}::text[])`.execute(db);
  await sql`DROP TABLE IF EXISTS verdict_metrics`.execute(db);
  await sql`DROP TABLE IF EXISTS verdicts`.execute(db);
}
