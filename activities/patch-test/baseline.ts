import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { json } from '../../db/json.js';
import { lastChangeOf } from '../../db/queries/test-systems.js';
import { phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { aboveCeilings, judgeSettled } from '../../domain/baseline.js';
import { nodeInstance } from '../prometheus/promql.js';
import { loadTestSettings } from './settings.js';
import { guarded } from './support.js';
import type { LeasedSystem, MetricsReading, TestDeps } from './types.js';

// The baseline a patch is judged against, taken only once the test system is at rest: the last
// `metricsRangeSeconds` of CPU and memory must each stay within a tolerance (an earlier test's spike, a
// rollback's reboot or a leak still climbing all move them). A system that does not settle within
// `baselineTimeoutSeconds` makes the test inconclusive: nothing was applied, and no verdict is claimed.
// The window (and the rate() window before its first point) must also lie wholly after the system's last
// change: a flat window from before a rollback "settles" at the faulty patch's level (CPU held at 41 % by
// the previous erratum would otherwise be the next one's baseline).

export type BaselineOutcome =
  | { settled: true; baseline: MetricsReading; waitedSeconds: number }
  | { settled: false; reason: string; waitedSeconds: number };

export function createBaselineActivities(deps: TestDeps) {
  const { db, metrics, config } = deps;

  return {
    async baselinePhase(input: {
      testId: number; system: LeasedSystem;
      timing: { metricsRangeSeconds: number; metricsWindowSeconds: number; baselineTimeoutSeconds: number; pollSeconds: number };
    }): Promise<BaselineOutcome> {
      const { testId, timing } = input;
      await phaseStarted(db, testId, 'snapshot', { step: 'waiting for the test system to be at rest' });
      const settings = await loadTestSettings(db, config);
      const instance = nodeInstance(input.system.ip, config.prometheus.nodeExporterPort);
      const started = Date.now();
      const lastChange = await lastChangeOf(db, input.system.systemId, testId);
      const deadline = started + timing.baselineTimeoutSeconds * 1000;
      const pause = Math.max(1, Math.min(timing.metricsRangeSeconds / 3, 15)) * 1000;
      let last: string[] = [];
      let attempts = 0;
      for (;;) {
        attempts++;
        // A window with the host down or without data (just rebooted, not scraped yet) is not at rest yet.
        const reading = await guarded(() =>
          metrics.snapshot(instance, { rangeSeconds: timing.metricsRangeSeconds }, { window: `${timing.metricsWindowSeconds}s` }),
        ).catch((err: unknown) => {
          if (err instanceof ApplicationFailure && err.type === 'PrometheusNoDataError') return err.message;
          throw err;
        });
        const verdict = typeof reading === 'string'
          ? { settled: false, reasons: [`no usable metrics yet: ${reading}`], cpuSpread: Number.NaN, memorySpread: Number.NaN }
          : judgeSettled(reading.series ?? { cpu: [], memory: [] }, {
            cpuSpread: settings.baselineCpuSpread,
            memorySpread: settings.baselineMemorySpread,
            minSamples: Math.max(2, Math.ceil(reading.samples / 2)),
          });
        const reachesBack = typeof reading !== 'string' && lastChange && reading.from
          ? Date.parse(reading.from) - timing.metricsWindowSeconds * 1000 < lastChange.getTime()
          : false;
        if (verdict.settled && typeof reading !== 'string') {
          const high = aboveCeilings(reading, { cpu: settings.cpuCeiling, memory: settings.memoryCeiling });
          if (high.length) Object.assign(verdict, { settled: false, reasons: high });
        }
        if (reachesBack) {
          verdict.settled = false;
          verdict.reasons = [...verdict.reasons, `the window still reaches back before the system's last change at ${lastChange!.toISOString()}`];
        }
        const waitedSeconds = Math.round((Date.now() - started) / 100) / 10;
        if (verdict.settled && typeof reading !== 'string') {
          const baseline: MetricsReading & Record<string, unknown> = {
            ...reading, settle: { attempts, waitedSeconds, after: lastChange?.toISOString() ?? null, cpuSpread: verdict.cpuSpread, memorySpread: verdict.memorySpread, tolerance: { cpu: settings.baselineCpuSpread, memory: settings.baselineMemorySpread } },
          };
          await updateTest(db, testId, { metrics_before: json(baseline) });
          return { settled: true, baseline, waitedSeconds };
        }
        last = verdict.reasons;
        heartbeat({ baseline: 'not at rest yet', reasons: last });
        if (Date.now() + pause > deadline) {
          const reason = `the test system did not come to rest within ${timing.baselineTimeoutSeconds} s: ${last.join('; ')}`;
          const evidence = typeof reading === 'string' ? { error: reading } : reading;
          await updateTest(db, testId, { metrics_before: json({ ...evidence, settle: { attempts, waitedSeconds, settled: false, reasons: last } }) });
          await phaseFinished(db, testId, 'snapshot', 'failed', { reading: evidence, reasons: last, waitedSeconds }, reason);
          return { settled: false, reason, waitedSeconds };
        }
        await sleep(pause);
      }
    },
  };
}
