import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { getTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { readKernelState } from '../shared/kernel.js';
import { guarded } from './support.js';
import type { TestDeps, LeasedSystem } from './types.js';

// The snapshot phase: the restore points, taken once the baseline is in (baseline.ts). A snapper snapshot
// where the system has snapper (btrfs); always the whole package inventory (every package and version, so a
// rollback can undo what the patch upgraded, added and removed) and the kernel state (running, boot default).

export function createSnapshotActivities(deps: TestDeps) {
  const { db, salt } = deps;
  const signal = () => cancellationSignal();

  return {
    async snapshotPhase(input: { testId: number; system: LeasedSystem; os: string; advisoryName: string; packageNames: string[] }) {
      const { testId, system } = input;
      await phaseStarted(db, testId, 'snapshot');
      const existing = await getTest(db, testId);
      let inventory = existing?.inventory_before ?? null;
      let kernel = existing?.kernel_before ?? null;
      if (!inventory || !kernel) {
        inventory = await guarded(() => salt.listInventory(system.minion, { signal: signal() }));
        kernel = await guarded(() => readKernelState(salt, system.minion, input.os, { signal: signal() }));
        // restore_point keeps the erratum's own packages at a glance (the approver's evidence); the rollback uses the inventory.
        const restorePoint = Object.fromEntries(input.packageNames.filter((n) => inventory?.[n]).map((n) => [n, (inventory?.[n] ?? []).join(',')]));
        await updateTest(db, testId, { inventory_before: json(inventory), kernel_before: json(kernel), restore_point: json(restorePoint) });
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
      const details = {
        snapshotType, snapshotId, bootTime: up.sinceT, kernel, packages: Object.keys(inventory).length,
        baseline: (await getTest(db, testId))?.metrics_before ?? null,
      };
      await phaseFinished(db, testId, 'snapshot', 'passed', details);
      return { snapshotType, snapshotId, bootTime: up.sinceT };
    },
  };
}
