import { Type } from '@sinclair/typebox';
import type { StoredVerdict } from '../../db/queries/verdicts.js';
import { Nullable, StringEnum } from './types.js';

// A statistical verdict (domain/judge.ts) as the API shows it: GET /api/v1/tests/<id> (`verdict`) and
// GET /api/v1/deployments/<id>/verdicts. Statistics that could not be computed, and NaN samples, are null.

const N = Nullable(Type.Number());

export const VerdictMetric = Type.Object({
  metric: Type.String({ description: 'cpu or memory (percent, node_exporter)' }),
  unit: Type.String(),
  direction: StringEnum(['increase', 'decrease', 'either'] as const, { description: 'which change can fail it' }),
  weight: Type.Number(),
  critical: Type.Boolean({ description: 'a high/low here fails the verdict whatever the score' }),
  allowed: Type.Object({ increase: N, decrease: N, increase_ratio: N, decrease_ratio: N }, { description: 'allowed effect sizes: shift in the unit, or the mean ratio' }),
  classification: StringEnum(['pass', 'high', 'low', 'nodata'] as const),
  control_count: Type.Integer({ description: 'finite samples judged (baseline window, or the unpatched peers)' }),
  experiment_count: Type.Integer({ description: 'finite samples judged (after window, or the wave\'s patched systems)' }),
  removed_nan: Type.Integer(),
  method: Nullable(StringEnum(['exact', 'asymptotic'] as const, { description: 'how p was computed' })),
  u: N,
  p: N,
  estimate: Nullable(Type.Number({ description: 'Hodges–Lehmann shift experiment − control, in the unit' })),
  ci_lower: N,
  ci_upper: N,
  mean_ratio: N,
  control_mean: N,
  experiment_mean: N,
  reason: Type.String(),
  control_samples: Type.Optional(Type.Array(N)),
  experiment_samples: Type.Optional(Type.Array(N)),
});

export const VerdictSchema = Type.Object({
  id: Type.Integer(),
  scope: StringEnum(['test', 'wave'] as const),
  test_id: Nullable(Type.Integer()),
  queue_id: Nullable(Type.Integer()),
  wave: Nullable(Type.Integer()),
  group_name: Nullable(Type.String()),
  experiment_systems: Type.Array(Type.Integer()),
  control_systems: Type.Array(Type.Integer()),
  control_window: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }),
  experiment_window: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }),
  verdict: StringEnum(['pass', 'marginal', 'fail', 'nodata'] as const),
  decision: StringEnum(['continue', 'pause', 'halt'] as const, { description: 'what a rollout does with it' }),
  score: Nullable(Type.Number({ description: '0–100: the weight share of passed metrics among those with data' })),
  reason: Type.String(),
  settings: Type.Object({}, { additionalProperties: true, description: 'the judge settings it was made with' }),
  created_at: Type.String({ format: 'date-time' }),
  metrics: Type.Array(VerdictMetric),
});

const finite = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);

/** The API view of a stored verdict; samples only when `samples` (they can be thousands for a wave). */
export function verdictView(v: StoredVerdict, samples = true) {
  return {
    id: v.id, scope: v.scope, test_id: v.test_id, queue_id: v.queue_id, wave: v.wave, group_name: v.group_name,
    experiment_systems: v.experiment_systems, control_systems: v.control_systems,
    control_window: { from: v.control_from.toISOString(), to: v.control_to.toISOString() },
    experiment_window: { from: v.experiment_from.toISOString(), to: v.experiment_to.toISOString() },
    verdict: v.verdict, decision: v.decision, score: v.score, reason: v.reason,
    settings: v.settings as Record<string, unknown>,
    created_at: v.created_at.toISOString(),
    metrics: v.metrics.map(({ verdict_id: _id, position: _p, control_samples, experiment_samples, allowed, ...m }) => ({
      ...m,
      allowed: allowed as { increase: number | null; decrease: number | null; increase_ratio: number | null; decrease_ratio: number | null },
      ...(samples ? { control_samples: control_samples.map(finite), experiment_samples: experiment_samples.map(finite) } : {}),
    })),
  };
}
