import { json } from '../../db/json.js';
import { phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { compareMetrics } from '../../domain/metric-verdict.js';
import { nodeInstance } from '../prometheus/promql.js';
import { loadTestSettings } from './settings.js';
import { guarded } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict, MetricsReading } from './types.js';

// The validate phase: the after-metrics against the baseline.

export function createValidateActivities(deps: TestDeps) {
  const { db, metrics, config } = deps;

  return {
    /** After-metrics against the baseline; Prometheus down or no data is an error (retried), never a pass. */
    async validatePhase(input: { testId: number; system: LeasedSystem; baseline: MetricsReading; timing: { metricsRangeSeconds: number; metricsWindowSeconds: number } }): Promise<PhaseVerdict> {
      const { testId } = input;
      await phaseStarted(db, testId, 'validate');
      const instance = nodeInstance(input.system.ip, config.prometheus.nodeExporterPort);
      const after = await guarded(() =>
        metrics.snapshot(instance, { rangeSeconds: input.timing.metricsRangeSeconds }, { window: `${input.timing.metricsWindowSeconds}s` }),
      );
      const settings = await loadTestSettings(db, config);
      const thresholds = { cpuDelta: settings.cpuDelta, memoryDelta: settings.memoryDelta, cpuCeiling: settings.cpuCeiling, memoryCeiling: settings.memoryCeiling };
      const verdict = compareMetrics(input.baseline, after, thresholds);
      await updateTest(db, testId, { metrics_after: json(after), cpu_delta: verdict.cpuDelta, memory_delta: verdict.memoryDelta });
      const details = { before: input.baseline, after, thresholds: { cpu: settings.cpuDelta, memory: settings.memoryDelta, cpuCeiling: settings.cpuCeiling, memoryCeiling: settings.memoryCeiling }, ...verdict };
      await phaseFinished(db, testId, 'validate', verdict.passed ? 'passed' : 'failed', details, verdict.passed ? null : verdict.reasons.join('; '));
      return verdict.passed ? { ok: true } : { ok: false, reason: verdict.reasons.join('; ') };
    },

    /** Records a validate phase that could not read metrics (after its retries): a failure, never a pass. */
    async validateUnavailable(input: { testId: number; reason: string }): Promise<void> {
      await phaseFinished(db, input.testId, 'validate', 'failed', {}, `no metrics: ${input.reason}`);
    },
  };
}
