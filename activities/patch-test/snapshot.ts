import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { getTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { nodeInstance } from '../prometheus/promql.js';
import { guarded, pinsOf } from './support.js';
import type { TestDeps, LeasedSystem } from './types.js';

// The snapshot phase: the restore points (snapper where available, always the package versions) and the baseline.

export function createSnapshotActivities(deps: TestDeps) {
  const { db, salt, metrics, config } = deps;
  const signal = () => cancellationSignal();

  return {
    /**
     * The restore points: a snapper snapshot where the system has snapper (btrfs), and always the installed
     * versions of the erratum's packages (the package-level restore point); then the metrics baseline.
     */
    async snapshotPhase(input: { testId: number; system: LeasedSystem; advisoryName: string; packageNames: string[]; timing: { metricsRangeSeconds: number; metricsWindowSeconds: number } }) {
      const { testId, system } = input;
      await phaseStarted(db, testId, 'snapshot');
      const existing = await getTest(db, testId);
      let restorePoint = existing?.restore_point ?? null;
      if (!restorePoint) {
        const installed = await guarded(() => salt.listPackages(system.minion, { signal: signal() }));
        restorePoint = pinsOf(installed, input.packageNames);
        await updateTest(db, testId, { restore_point: json(restorePoint) });
      }
      let snapshotId = existing?.snapshot_id ?? null;
      let snapshotType: 'snapper' | 'package' = existing?.snapshot_type ?? 'package';
      if (!existing?.snapshot_type) {
        if (await guarded(() => salt.snapperAvailable(system.minion, { signal: signal() }))) {
          snapshotId = String(await guarded(() => salt.snapperCreate(system.minion, `spm: before ${input.advisoryName} (test ${testId})`, { signal: signal() })));
          snapshotType = 'snapper';
        }
        await updateTest(db, testId, { snapshot_id: snapshotId, snapshot_type: snapshotType });
      }
      const up = await guarded(() => salt.uptime(system.minion, { signal: signal() }));
      if (up.kind !== 'up') throw ApplicationFailure.retryable(`${system.minion} did not answer status.uptime`, 'SaltNoAnswerError');
      const instance = nodeInstance(system.ip, config.prometheus.nodeExporterPort);
      const baseline = await guarded(() =>
        metrics.snapshot(instance, { rangeSeconds: input.timing.metricsRangeSeconds }, { window: `${input.timing.metricsWindowSeconds}s` }),
      );
      await updateTest(db, testId, { metrics_before: json(baseline) });
      const details = { snapshotType, snapshotId, restorePoint, bootTime: up.sinceT, baseline, instance };
      await phaseFinished(db, testId, 'snapshot', 'passed', details);
      return { snapshotType, snapshotId, bootTime: up.sinceT, baseline };
    },
  };
}
