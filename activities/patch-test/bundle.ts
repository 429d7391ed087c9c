import { ApplicationFailure } from '@temporalio/common';
import { finishBundleNode, getBundle, insertBundleNode, membersFacts, requeueSetAside, settleBundle, type SettledVerdict } from '../../db/queries/bundles.js';
import { closeTest, getTest } from '../../db/queries/tests.js';
import type { BundleKind } from '../../db/database.js';
import { workflowOf } from './support.js';
import type { TestDeps, TestInfo } from './types.js';

// The record of bundle runs: a node's test row when its run begins, its verdict when it ends, the children a
// bisection adds, and the members' own verdicts when the bundle is settled. Queue items stay `testing` until
// the bundle is settled: a half's verdict says nothing final about its members.

export function createBundleActivities(deps: TestDeps) {
  const { db } = deps;

  return {
    /**
     * Begins the run of a bundle node: its patch_tests row (queue_id = its first member, bundle_id = the node;
     * the same row again on a retry of this run), and what the run needs — every member's errata id, the union
     * of their packages, a reboot if any needs one, and the test systems of the OS relevant to every member.
     */
    async beginBundleRun(input: { bundleId: number }): Promise<TestInfo> {
      const { workflowId, runId } = workflowOf();
      return db.transaction().execute(async (trx) => {
        const node = await trx.selectFrom('test_bundles').selectAll().where('id', '=', input.bundleId).forUpdate().executeTakeFirst();
        // Retryable: the dispatcher starts the workflow inside the claim's transaction, which commits just after.
        if (!node) throw ApplicationFailure.retryable(`bundle ${input.bundleId} does not exist (yet)`, 'BundleNotYetRecorded');
        const members = await membersFacts(trx, node.member_ids);
        const missing = members.filter((m) => m.uyuniErrataId === null).map((m) => m.advisoryName);
        if (missing.length || members.length !== node.member_ids.length) {
          throw ApplicationFailure.nonRetryable(`bundle ${node.id}: ${missing.join(', ') || 'a member'} is not synced from UYUNI`, 'NotSynced');
        }
        let testId = node.test_id;
        const existing = testId === null ? undefined : await getTest(trx, testId);
        if (!existing || existing.run_id !== runId) {
          const inserted = await trx
            .insertInto('patch_tests')
            .values({ queue_id: node.member_ids[0] as number, workflow_id: workflowId, run_id: runId, bundle_id: node.id, requires_reboot: members.some((m) => m.requiresReboot) })
            .onConflict((oc) => oc.column('run_id').doNothing())
            .returning('id')
            .executeTakeFirst();
          testId = inserted?.id ?? (await trx.selectFrom('patch_tests').select('id').where('run_id', '=', runId).executeTakeFirstOrThrow()).id;
          await trx.updateTable('test_bundles').set({ test_id: testId, status: 'running' }).where('id', '=', node.id).execute();
        }
        const relevantToAll = members.reduce<number[] | null>((acc, m) => (acc === null ? [...m.testSystemIds] : acc.filter((s) => m.testSystemIds.includes(s))), null) ?? [];
        const candidates = await trx
          .selectFrom('test_systems')
          .select('system_id')
          .where('os', '=', node.target_os)
          .where('system_id', 'in', relevantToAll.length ? relevantToAll : [-1])
          .execute();
        const names = members.map((m) => m.advisoryName);
        return {
          testId: testId as number,
          advisoryName: names.length === 1 ? (names[0] as string) : `${names[0]} +${names.length - 1} (bundle #${node.root_id ?? node.id})`,
          targetOs: node.target_os,
          uyuniErrataId: members[0]?.uyuniErrataId as number,
          uyuniErrataIds: members.map((m) => m.uyuniErrataId as number),
          advisoryNames: names,
          requiresReboot: members.some((m) => m.requiresReboot),
          packageNames: [...new Set(members.flatMap((m) => m.packageNames))].sort(),
          candidateSystems: candidates.map((c) => c.system_id),
        };
      });
    },

    /**
     * Whether a bisection may run both halves at once without taking a test system from queued work: a test
     * system of the OS is free (not leased, not quarantined) and no item of the OS is queued. Read once per
     * split (an activity, so the workflow's choice replays).
     */
    async spareTestSystem(input: { os: string }): Promise<boolean> {
      const free = await db.selectFrom('test_systems').select('system_id').where('os', '=', input.os).where('leased_by', 'is', null).where('quarantined', '=', false).limit(1).executeTakeFirst();
      if (!free) return false;
      const queued = await db.selectFrom('patch_test_queue').select('id').where('target_os', '=', input.os).where('status', '=', 'queued').limit(1).executeTakeFirst();
      return !queued;
    },

    /**
     * Whether other errata of the OS are queued (so the dispatcher will compose another bundle of the OS): then a
     * bundle's set-aside members go back to the queue and ride in that bundle instead of a rest run of their own.
     */
    async othersQueued(input: { os: string }): Promise<boolean> {
      const queued = await db.selectFrom('patch_test_queue').select('id').where('target_os', '=', input.os).where('status', '=', 'queued').limit(1).executeTakeFirst();
      return queued !== undefined;
    },

    /**
     * Ends a node's run: its test row (a run of several errata that failed is `bundle`-caused: it proves no
     * single erratum's failure) and the node. Queue items do not move here.
     */
    async finishBundleRun(input: {
      bundleId: number; testId: number; status: 'passed' | 'failed' | 'rolled_back' | 'inconclusive'; members: number;
      failurePhase?: string; failureReason?: string; cause?: 'patch' | 'test_system' | 'unknown';
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const cause = input.cause ?? 'unknown';
        await closeTest(trx, input.testId, { ...input, cause: cause === 'patch' && input.members > 1 ? 'bundle' : cause });
        const judged = input.status === 'passed' ? 'passed' : (input.status === 'failed' || input.status === 'rolled_back') && cause === 'patch' ? 'failed' : 'inconclusive';
        await finishBundleNode(trx, input.bundleId, { status: judged, cause: input.status === 'passed' ? null : cause, reason: input.failureReason ?? null });
      });
    },

    /** A child node of a bisection (a half, a retest of the whole, a probe), found again on a retry. */
    async createBundleNode(input: { rootId: number; parentId: number; kind: BundleKind; os: string; workflowId: string; members: number[] }): Promise<number> {
      return insertBundleNode(db, { rootId: input.rootId, parentId: input.parentId, kind: input.kind, os: input.os, workflowId: input.workflowId, members: input.members });
    },

    /**
     * Settles a bundle in one transaction: every member's own verdict and its queue item's status (see
     * settleBundle), and the members its bisection set aside untested (`setAside`: queue id → the runs they were
     * part of) queued again for a later bundle. Settling again changes nothing. Returns, for each passed member,
     * the test row of the last run it passed in (its approval's evidence).
     */
    async settleBundleVerdicts(input: { rootId: number; verdicts: Record<number, SettledVerdict>; setAside?: Record<number, number[]> }): Promise<Record<number, number>> {
      const root = await getBundle(db, input.rootId);
      if (!root) throw ApplicationFailure.nonRetryable(`bundle ${input.rootId} does not exist`, 'BundleNotFound');
      await db.transaction().execute(async (trx) => {
        await settleBundle(trx, root.id, root.workflow_id, input.verdicts);
        if (input.setAside && Object.keys(input.setAside).length) await requeueSetAside(trx, root.id, root.workflow_id, input.setAside);
      });
      const passed = Object.entries(input.verdicts).filter(([, v]) => v.verdict === 'passed').map(([k]) => Number(k));
      if (!passed.length) return {};
      const runs = await db
        .selectFrom('test_bundle_members as m')
        .innerJoin('test_bundles as b', 'b.id', 'm.bundle_id')
        .select(['m.queue_id', 'b.test_id'])
        .where((eb) => eb.or([eb('b.id', '=', root.id), eb('b.root_id', '=', root.id)]))
        .where('b.status', '=', 'passed')
        .where('b.test_id', 'is not', null)
        .where('m.queue_id', 'in', passed)
        .orderBy('b.id', 'desc')
        .execute();
      const last: Record<number, number> = {};
      for (const r of runs) last[r.queue_id] ??= r.test_id as number;
      return last;
    },

    /** A cancelled bundle: its members still `testing` under it go back to the queue, untested. */
    async requeueBundle(input: { rootId: number }): Promise<number> {
      const root = await getBundle(db, input.rootId);
      if (!root) return 0;
      const r = await db
        .updateTable('patch_test_queue')
        .set({ status: 'queued', workflow_id: null, test_system_id: null, status_reason: `bundle #${root.id} was cancelled before it was settled` })
        .where('workflow_id', '=', root.workflow_id)
        .where('status', '=', 'testing')
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    /**
     * A member that passed in a bundle, taken over by its own patchTest (pretested) for the approval and the
     * rollout: the queue item's workflow becomes that one. Returns what the approval and rollout need.
     */
    async adoptTestedItem(input: { queueId: number; testId: number }): Promise<TestInfo> {
      const { workflowId } = workflowOf();
      const row = await db
        .selectFrom('patch_test_queue as q')
        .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
        .select(['q.id', 'q.status', 'q.advisory_name', 'q.target_os', 'q.requires_reboot', 'e.uyuni_errata_id', 'e.packages'])
        .where('q.id', '=', input.queueId)
        .executeTakeFirst();
      if (!row) throw ApplicationFailure.nonRetryable(`queue item ${input.queueId} does not exist`, 'QueueItemNotFound');
      await db.updateTable('patch_test_queue').set({ workflow_id: workflowId }).where('id', '=', input.queueId).where('status', '=', 'passed').execute();
      const test = await getTest(db, input.testId);
      return {
        testId: input.testId, advisoryName: row.advisory_name, targetOs: row.target_os, uyuniErrataId: row.uyuni_errata_id ?? 0, requiresReboot: row.requires_reboot,
        packageNames: [...new Set((row.packages ?? []).map((p) => p.name))].sort(), candidateSystems: test?.test_system_id ? [test.test_system_id] : [],
      };
    },
  };
}
