import { ApplicationFailure } from '@temporalio/common';
import { closeRunningPhases, closeTest, insertTest, phaseFinished } from '../../db/queries/tests.js';
import { workflowOf } from './support.js';
import type { TestDeps, TestInfo } from './types.js';
import { recordEvent } from '../../db/queries/notifications.js';

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
        const candidates = await trx
          .selectFrom('test_systems')
          .select('system_id')
          .where('os', '=', item.target_os)
          .where('system_id', 'in', erratum.test_system_ids.length ? erratum.test_system_ids : [-1])
          .execute();
        await trx.updateTable('patch_tests').set({ requires_reboot: item.requires_reboot }).where('id', '=', testId).execute();
        return {
          testId,
          advisoryName: item.advisory_name,
          targetOs: item.target_os,
          uyuniErrataId: erratum.uyuni_errata_id,
          requiresReboot: item.requires_reboot,
          packageNames: [...new Set((erratum.packages ?? []).map((p) => p.name))].sort(),
          candidateSystems: candidates.map((c) => c.system_id),
        };
      });
    },

    /**
     * Closes the test: patch_tests and the queue item follow the verdict (the state machine is enforced by the
     * database), with what the failure is blamed on (only the patch's own failures count in its history) and
     * why an item is inconclusive. A phase still `running` did not finish: it is closed as failed.
     */
    async finishTest(input: {
      testId: number; queueId: number; status: 'passed' | 'failed' | 'rolled_back' | 'inconclusive'; failurePhase?: string; failureReason?: string;
      cause?: 'patch' | 'test_system' | 'unknown';
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await closeTest(trx, input.testId, { ...input, cause: input.cause ?? 'unknown' });
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (item.status === 'testing') {
          await trx
            .updateTable('patch_test_queue')
            .set({ status: input.status, status_reason: input.status === 'passed' ? null : (input.failureReason ?? null) })
            .where('id', '=', input.queueId)
            .execute();
        }
        const t = await trx
          .selectFrom('patch_tests')
          .select(['workflow_id', 'test_system_name', 'cpu_delta', 'memory_delta'])
          .where('id', '=', input.testId)
          .executeTakeFirstOrThrow();
        await recordEvent(trx, `test.${input.status}`, {
          queue_id: input.queueId, test_id: input.testId, workflow_id: t.workflow_id, test_system: t.test_system_name,
          failure_phase: input.failurePhase ?? null, reason: input.status === 'passed' ? null : (input.failureReason ?? null),
          cpu_delta: t.cpu_delta, memory_delta: t.memory_delta,
        }, { dedupeKey: `test-${input.status}-${input.testId}`, workflowId: t.workflow_id });
      });
    },

    /** No test system of the item's OS can test it (UYUNI lists it as relevant to none): untestable, with why. */
    async markUntestable(input: { testId: number; queueId: number; reason: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('patch_tests').set({ status: 'cancelled', completed_at: new Date(), failure_reason: input.reason }).where('id', '=', input.testId).execute();
        await closeRunningPhases(trx, input.testId, input.reason);
        await trx.updateTable('patch_test_queue').set({ status: 'queued', workflow_id: null, test_system_id: null }).where('id', '=', input.queueId).where('status', '=', 'testing').execute();
        await trx.updateTable('patch_test_queue').set({ status: 'untestable', status_reason: input.reason }).where('id', '=', input.queueId).where('status', '=', 'queued').execute();
      });
    },

    /** What a later undo of a test's patch needs to know about the test (forced rollback). */
    async describeTest(input: { testId: number }): Promise<TestInfo> {
      const row = await db
        .selectFrom('patch_tests as t')
        .innerJoin('patch_test_queue as q', 'q.id', 't.queue_id')
        .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
        .select(['t.id', 'q.advisory_name', 'q.target_os', 'e.uyuni_errata_id', 'q.requires_reboot', 'e.packages', 't.test_system_id'])
        .where('t.id', '=', input.testId)
        .executeTakeFirst();
      if (!row) throw ApplicationFailure.nonRetryable(`test ${input.testId} does not exist`, 'TestNotFound');
      return {
        testId: row.id, advisoryName: row.advisory_name, targetOs: row.target_os, uyuniErrataId: row.uyuni_errata_id ?? 0, requiresReboot: row.requires_reboot,
        packageNames: [...new Set((row.packages ?? []).map((p) => p.name))].sort(), candidateSystems: row.test_system_id ? [row.test_system_id] : [],
      };
    },

    /** A test cancelled before anything was applied goes back to the queue. */
    async requeueUntested(input: { testId: number; queueId: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('patch_tests').set({ status: 'cancelled', completed_at: new Date() }).where('id', '=', input.testId).execute();
        await closeRunningPhases(trx, input.testId, 'the test was cancelled before this phase finished');
        await trx.updateTable('patch_test_queue').set({ status: 'queued', workflow_id: null, test_system_id: null }).where('id', '=', input.queueId).where('status', '=', 'testing').execute();
      });
    },
  };
}
