import { setTimeout as sleep } from 'node:timers/promises';
import { json } from '../../db/json.js';
import { verdictPolicy } from '../../db/queries/orchestrator-config.js';
import { phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { recordVerdict } from '../../db/queries/verdicts.js';
import { judgeTestMetrics } from '../../domain/metric-verdict.js';
import { nodeInstance } from '../prometheus/promql.js';
import { loadTestSettings } from './settings.js';
import { guarded } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict, MetricsReading } from './types.js';

// The validate phase: the after window's samples against the baseline window's, by the statistical judge
// (domain/metric-verdict.ts → domain/judge.ts), the test.* thresholds as allowed rises; the ceilings stay.

const windowOf = (reading: MetricsReading): { from: Date; to: Date } => ({ from: new Date(reading.from ?? reading.takenAt), to: new Date(reading.takenAt) });

export function createValidateActivities(deps: TestDeps) {
  const { db, metrics, config } = deps;

  return {
    /**
     * After-metrics against the baseline; Prometheus down or no data is an error (retried), never a pass. The
     * after window is the metricsRangeSeconds from the activity's start (the settle's end), waited for. The
     * verdict is stored (verdicts, scope test) before the phase records its outcome; a retry stores its own
     * (keyed by the after window's end) and the test's latest verdict is the one its phase reports.
     */
    async validatePhase(input: { testId: number; system: LeasedSystem; baseline: MetricsReading; timing: { metricsRangeSeconds: number; metricsWindowSeconds: number } }): Promise<PhaseVerdict> {
      const { testId } = input;
      await phaseStarted(db, testId, 'validate');
      const instance = nodeInstance(input.system.ip, config.prometheus.nodeExporterPort);
      // The after window starts now — the workflow has just slept the settle — and never before the baseline
      // ended, then lasts metricsRangeSeconds. Read backwards from "now" (as before the judge) it reached into
      // the settle whenever the range was longer, and with a fast patch into the baseline: a spike that began
      // mid-window diluted the after samples (the bundle false green of 2026-12-07).
      const start = Math.max(Date.now(), Date.parse(input.baseline.takenAt));
      const end = new Date(start + input.timing.metricsRangeSeconds * 1000);
      // One second more, so Prometheus has scraped the window's last point.
      const wait = end.getTime() + 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      const after: MetricsReading = await guarded(() =>
        metrics.snapshot(instance, { rangeSeconds: input.timing.metricsRangeSeconds }, { window: `${input.timing.metricsWindowSeconds}s`, end }),
      );
      const [settings, policy] = await Promise.all([loadTestSettings(db, config), verdictPolicy(db)]);
      const thresholds = { cpuDelta: settings.cpuDelta, memoryDelta: settings.memoryDelta, cpuCeiling: settings.cpuCeiling, memoryCeiling: settings.memoryCeiling };
      const verdict = judgeTestMetrics(input.baseline, after, thresholds, policy.judge);
      const stored = await recordVerdict(db, {
        scope: 'test',
        idempotencyKey: `test:${testId}:${after.takenAt}`,
        testId,
        experimentSystems: [input.system.systemId],
        controlSystems: [input.system.systemId],
        controlWindow: windowOf(input.baseline),
        experimentWindow: windowOf(after),
        settings: policy.judge,
        inputs: verdict.inputs,
        verdict: verdict.judged,
      });
      await updateTest(db, testId, { metrics_after: json(after), cpu_delta: verdict.cpuDelta, memory_delta: verdict.memoryDelta });
      const { judged, inputs: _samples, ...rest } = verdict;
      const details = {
        before: input.baseline, after,
        thresholds: { cpu: settings.cpuDelta, memory: settings.memoryDelta, cpuCeiling: settings.cpuCeiling, memoryCeiling: settings.memoryCeiling },
        ...rest,
        verdict: { id: stored.id, verdict: judged.verdict, score: judged.score, reason: judged.reason },
      };
      const reason = verdict.reasons.join('; ');
      await phaseFinished(db, testId, 'validate', verdict.passed ? 'passed' : 'failed', details, verdict.passed ? null : reason);
      if (verdict.passed) return { ok: true };
      // A metric without enough data is no pass, and no failure of the patch either: when no metric was shown to
      // rise (High/Low) and no ceiling was crossed, nothing was shown to be wrong — whatever the verdict's cap
      // (nodata, or marginal under verdict.nodata_policy) — so the test is inconclusive, not the patch's failure.
      const unjudged = !verdict.cpuAboveCeiling && !verdict.memoryAboveCeiling
        && judged.metrics.some((m) => m.classification === 'nodata') && judged.metrics.every((m) => m.classification === 'pass' || m.classification === 'nodata');
      return unjudged ? { ok: false, reason: `not judged: ${reason}`, unjudged } : { ok: false, reason };
    },

    /** Records a validate phase that could not read metrics (after its retries): a failure, never a pass. */
    async validateUnavailable(input: { testId: number; reason: string }): Promise<void> {
      await phaseFinished(db, input.testId, 'validate', 'failed', {}, `no metrics: ${input.reason}`);
    },
  };
}
