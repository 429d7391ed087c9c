import type { Kysely, Selectable, Transaction } from 'kysely';
import type { JudgeSettings, MetricInput, Verdict } from '../../domain/judge.js';
import type { Database, VerdictMetricsTable, VerdictsTable } from '../database.js';
import { json } from '../json.js';

type Executor = Kysely<Database> | Transaction<Database>;

// Statistical verdicts (domain/judge.ts) with their samples and statistics: one `verdicts` row, one
// `verdict_metrics` row per metric. Written once per idempotency key — a retried activity reads back the
// verdict it stored first, so the workflow always acts on the recorded one.

export interface VerdictRecord {
  scope: 'test' | 'wave';
  /** e.g. `test:<testId>`, `wave:<queueId>:<wave>:<group>:<from>`. */
  idempotencyKey: string;
  testId?: number | null;
  /** The rollout's queue item (the id of /api/v1/deployments/<id>). */
  queueId?: number | null;
  wave?: number | null;
  groupName?: string | null;
  experimentSystems?: number[];
  controlSystems?: number[];
  controlWindow: { from: Date; to: Date };
  experimentWindow: { from: Date; to: Date };
  /** The judge settings used (JudgeSettings, plus whatever else shaped the samples: step, baseline window). */
  settings: JudgeSettings | Record<string, unknown>;
  /** The samples judged, as given to the judge (NaN included: the record shows what was removed). */
  inputs: readonly MetricInput[];
  verdict: Verdict;
}

export type VerdictRow = Selectable<VerdictsTable>;
export type VerdictMetricRow = Selectable<VerdictMetricsTable>;

const finiteOrNull = (value: number | null | undefined): number | null => (value === null || value === undefined || !Number.isFinite(value) ? null : value);

/** Stores a verdict unless one with its idempotency key exists; returns the stored verdict's id and whether it was new. */
export async function recordVerdict(db: Kysely<Database>, record: VerdictRecord): Promise<{ id: number; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('verdicts')
      .values({
        scope: record.scope,
        idempotency_key: record.idempotencyKey,
        test_id: record.testId ?? null,
        queue_id: record.queueId ?? null,
        wave: record.wave ?? null,
        group_name: record.groupName ?? null,
        experiment_systems: record.experimentSystems ?? [],
        control_systems: record.controlSystems ?? [],
        control_from: record.controlWindow.from,
        control_to: record.controlWindow.to,
        experiment_from: record.experimentWindow.from,
        experiment_to: record.experimentWindow.to,
        verdict: record.verdict.verdict,
        decision: record.verdict.decision,
        score: record.verdict.score,
        reason: record.verdict.reason,
        settings: json(record.settings),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await trx.selectFrom('verdicts').select('id').where('idempotency_key', '=', record.idempotencyKey).executeTakeFirstOrThrow();
      return { id: existing.id, created: false };
    }
    // A handful of metrics: far below PostgreSQL's 65,535 parameters (each row's samples are one array parameter).
    const rows = record.verdict.metrics.map((m, position) => {
      const input = record.inputs.find((i) => i.spec.name === m.name);
      if (!input) throw new Error(`verdict metric ${m.name} has no input samples`);
      const { spec } = input;
      return {
        verdict_id: inserted.id,
        metric: m.name,
        position,
        unit: spec.unit,
        direction: spec.direction,
        weight: spec.weight,
        critical: spec.critical === true,
        allowed: json({
          increase: spec.allowedIncrease ?? null, decrease: spec.allowedDecrease ?? null,
          increase_ratio: spec.allowedIncreaseRatio ?? null, decrease_ratio: spec.allowedDecreaseRatio ?? null,
        }),
        classification: m.classification,
        control_samples: [...input.control],
        experiment_samples: [...input.experiment],
        control_count: m.controlCount,
        experiment_count: m.experimentCount,
        removed_nan: m.removedNaN,
        method: m.test?.method ?? null,
        u: finiteOrNull(m.test?.u),
        p: finiteOrNull(m.test?.p),
        estimate: finiteOrNull(m.test?.estimate),
        // An unbounded interval (too few samples) is stored as null: the classification is then nodata.
        ci_lower: finiteOrNull(m.test?.lower),
        ci_upper: finiteOrNull(m.test?.upper),
        mean_ratio: finiteOrNull(m.meanRatio),
        control_mean: finiteOrNull(m.controlMean),
        experiment_mean: finiteOrNull(m.experimentMean),
        reason: m.reason,
      };
    });
    if (rows.length) await trx.insertInto('verdict_metrics').values(rows).execute();
    return { id: inserted.id, created: true };
  });
}

export interface StoredVerdict extends VerdictRow {
  metrics: VerdictMetricRow[];
}

async function withMetrics(db: Executor, verdicts: VerdictRow[], samples: boolean): Promise<StoredVerdict[]> {
  if (!verdicts.length) return [];
  const metrics = await db
    .selectFrom('verdict_metrics')
    .selectAll()
    .where('verdict_id', 'in', verdicts.map((v) => v.id))
    .orderBy('verdict_id')
    .orderBy('position')
    .execute();
  return verdicts.map((v) => ({
    ...v,
    metrics: metrics.filter((m) => m.verdict_id === v.id).map((m) => (samples ? m : { ...m, control_samples: [], experiment_samples: [] })),
  }));
}

/** The latest verdict of a test (its validate phase), with its metrics and samples; undefined when none. */
export async function testVerdict(db: Executor, testId: number): Promise<StoredVerdict | undefined> {
  const row = await db.selectFrom('verdicts').selectAll().where('scope', '=', 'test').where('test_id', '=', testId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? (await withMetrics(db, [row], true))[0] : undefined;
}

/** A rollout's wave verdicts, oldest first, with their metrics (samples only when asked: they can be thousands). */
export async function waveVerdicts(db: Executor, queueId: number, options: { samples?: boolean } = {}): Promise<StoredVerdict[]> {
  const rows = await db.selectFrom('verdicts').selectAll().where('scope', '=', 'wave').where('queue_id', '=', queueId).orderBy('id').execute();
  return withMetrics(db, rows, options.samples === true);
}

/** One verdict by id, with its metrics and samples. */
export async function verdictById(db: Executor, id: number): Promise<StoredVerdict | undefined> {
  const row = await db.selectFrom('verdicts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? (await withMetrics(db, [row], true))[0] : undefined;
}
