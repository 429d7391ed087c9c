import { ApplicationFailure } from '@temporalio/common';
import { insertTest, phaseFinished } from '../../db/queries/tests.js';
import { workflowOf } from './support.js';
import type { TestDeps, TestInfo } from './types.js';

// The test's own record: its patch_tests row, the queue item's status at its start and end, skipped phases.

export function createLifecycleActivities(deps: TestDeps) {
  const { db } = deps;

  return {
    /** Marks a phase as skipped (the workflow did not need it, e.g. no reboot required). */
    async skipPhase(input: { testId: number; phase: 'reboot' | 'rollback' | 'verify_rollback' | 'validate' | 'services'; why: string }): Promise<void> {
      await phaseFinished(db, input.testId, input.phase, 'skipped', { why: input.why });
    },

    async beginTest(input: { queueId: number }): Promise<TestInfo> {
      const { workflowId, runId } = workflowOf();
      return db.transaction().execute(async (trx) => {
        const item = await trx.selectFrom('patch_test_queue').selectAll().where('id', '=', input.queueId).forUpdate().executeTakeFirst();
        if (!item) throw ApplicationFailure.nonRetryable(`queue item ${input.queueId} does not exist`, 'QueueItemNotFound');
        if (item.status === 'queued') {
          await trx.updateTable('patch_test_queue').set({ status: 'testing', workflow_id: workflowId }).where('id', '=', item.id).execute();
        } else if (!(item.status === 'testing' && item.workflow_id === workflowId)) {
          throw ApplicationFailure.nonRetryable(`queue item ${item.id} is ${item.status}, not queued`, 'QueueItemNotQueued');
        }
        const testId = await insertTest(trx, { queueId: item.id, workflowId, runId });
        const erratum = await trx
          .selectFrom('errata_cache')
          .select(['uyuni_errata_id', 'packages', 'test_system_ids'])
          .where('advisory_name', '=', item.advisory_name)
          .executeTakeFirstOrThrow();
        if (erratum.uyuni_errata_id === null) throw ApplicationFailure.nonRetryable(`${item.advisory_name} has no UYUNI errata id; sync first`, 'NotSynced');
        await trx.updateTable('patch_tests').set({ requires_reboot: item.requires_reboot }).where('id', '=', testId).execute();
        return {
          testId,
          advisoryName: item.advisory_name,
          targetOs: item.target_os,
          uyuniErrataId: erratum.uyuni_errata_id,
          requiresReboot: item.requires_reboot,
          packageNames: [...new Set((erratum.packages ?? []).map((p) => p.name))].sort(),
          candidateSystems: erratum.test_system_ids,
        };
      });
    },

    /** Closes the test: patch_tests and the queue item follow the verdict (the state machine is enforced by the database). */
    async finishTest(input: { testId: number; queueId: number; status: 'passed' | 'failed' | 'rolled_back'; failurePhase?: string; failureReason?: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('patch_tests')
          .set({
            status: input.status,
            completed_at: new Date(),
            failure_phase: input.failurePhase ?? null,
            failure_reason: input.failureReason ?? null,
          })
          .where('id', '=', input.testId)
          .execute();
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (item.status === 'testing') {
          await trx.updateTable('patch_test_queue').set({ status: input.status }).where('id', '=', input.queueId).execute();
        }
      });
    },

    /** A test cancelled before anything was applied goes back to the queue. */
    async requeueUntested(input: { testId: number; queueId: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('patch_tests').set({ status: 'cancelled', completed_at: new Date() }).where('id', '=', input.testId).execute();
        await trx.updateTable('patch_test_queue').set({ status: 'queued', workflow_id: null, test_system_id: null }).where('id', '=', input.queueId).where('status', '=', 'testing').execute();
      });
    },
  };
}
