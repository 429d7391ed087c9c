import { createBaselineActivities } from './baseline.js';
import { createBundleActivities } from './bundle.js';
import { createLeaseActivities } from './lease.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createPatchActivities } from './patch.js';
import { createRebootActivities } from './reboot.js';
import { createRestoreActivities } from './restore.js';
import { createRollbackActivities } from './rollback.js';
import { createServicesActivities } from './services.js';
import { createSnapshotActivities } from './snapshot.js';
import type { TestDeps } from './types.js';
import { createValidateActivities } from './validate.js';

export type { BaselineOutcome } from './baseline.js';
export type { RollbackResult } from './rollback.js';
export type { Residue } from './restore.js';
export type { LeasedSystem, MetricsReading, PhaseVerdict, TestDeps, TestInfo } from './types.js';

// The side effects of patchTest, one file per phase. Each activity writes its patch_test_phases row when it
// starts and when it ends (a retry rewrites the same row), keeps what a retry needs in patch_tests, and
// returns only small verdicts: the workflow decides what happens next.
export function createTestActivities(deps: TestDeps) {
  return {
    ...createLifecycleActivities(deps),
    ...createLeaseActivities(deps),
    ...createBaselineActivities(deps),
    ...createSnapshotActivities(deps),
    ...createPatchActivities(deps),
    ...createRebootActivities(deps),
    ...createValidateActivities(deps),
    ...createServicesActivities(deps),
    ...createRollbackActivities(deps),
    ...createRestoreActivities(deps),
    ...createBundleActivities(deps),
  };
}
