import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connection.js';
import { insertBundleNode, recentJudged, reserveBundleId } from '../db/queries/bundles.js';
import { bundleCandidates, claimTest, recordLeaseRun, whyNoTest, type TestClaim } from '../db/queries/dispatch.js';
import { configSection } from '../db/queries/orchestrator-config.js';
import { composeBundle, type BundleChoice } from '../domain/bundle.js';
import { BUILT_IN_FALLBACKS, settingInUse } from '../domain/settings.js';
import type { bundleTest } from '../workflows/index.js';
import { SA, workflowIds, type ApprovalPolicy, type TestTiming } from '../workflows/messages.js';
import { startPatchTest, testTiming, type ClaimedStart } from './tests.js';

export interface BundleSettings {
  maxSize: number;
  aloneBelowScore: number;
  recentRuns: number;
  /** bundle.failure_prior_percent / 100. */
  priorAtFifty: number;
  /** bundle.kernel_alone = 1. */
  kernelAlone: boolean;
}

/** orchestrator_config's `bundle.*` rows, each used only within its range (domain/settings.ts). */
export async function loadBundleSettings(db: Db): Promise<BundleSettings> {
  const rows = await configSection(db, 'bundle.');
  const f = BUILT_IN_FALLBACKS;
  return {
    maxSize: settingInUse('bundle.max_size', rows.max_size, f['bundle.max_size']).value,
    aloneBelowScore: settingInUse('bundle.alone_below_score', rows.alone_below_score, f['bundle.alone_below_score']).value,
    recentRuns: settingInUse('bundle.recent_runs', rows.recent_runs, f['bundle.recent_runs']).value,
    priorAtFifty: settingInUse('bundle.failure_prior_percent', rows.failure_prior_percent, f['bundle.failure_prior_percent']).value / 100,
    kernelAlone: settingInUse('bundle.kernel_alone', rows.kernel_alone, f['bundle.kernel_alone']).value === 1,
  };
}

class NotStarted extends Error {}

/** The most queued errata one composition looks at (the seed's whole backlog of an OS is about 400). */
const CANDIDATE_LIMIT = 2_000;

export type DispatchedStart = ClaimedStart & { bundleId?: number; members?: number[] };

/**
 * The dispatcher's start: claims the head of the queue and a free test system (the same claim as
 * POST /tests/start, db/queries/dispatch.ts), then composes the bundle for that system (domain/bundle.ts:
 * work order, one kernel at most, low scores alone, the size from the failure probability). With bundle.max_size 1
 * it is today's patchTest; otherwise one bundleTest (id bundle-<id>, even of one member) with every member
 * `testing` under it. The
 * bundle row, its members and the lease commit only once the workflow exists.
 */
export async function claimAndStartBundle(
  db: Db,
  client: Client,
  config: Readonly<Config>,
  opts: { requestedBy: string; approval?: ApprovalPolicy; timing?: TestTiming; settings: BundleSettings },
): Promise<DispatchedStart> {
  const timing = opts.timing ?? testTiming(config);
  try {
    return await db.transaction().execute(async (trx) => {
      let choice: BundleChoice | undefined;
      let bundleId: number | undefined;
      const claim: TestClaim | undefined = await claimTest(trx, {
        workflowIdOf: workflowIds.patchTest,
        workflowFor: async (c) => {
          // The whole queue of the OS (bounded): composition spreads each large package group over successive bundles.
          const candidates = await bundleCandidates(trx, c, CANDIDATE_LIMIT);
          const recent = opts.settings.recentRuns > 0 ? await recentJudged(trx, c.targetOs, opts.settings.recentRuns) : { judged: 0, failed: 0 };
          choice = composeBundle(candidates.length ? candidates : [{ queueId: c.queueId, advisoryName: c.advisoryName, successScore: null, hasKernel: false }], opts.settings, recent);
          // bundle.max_size 1 is today's one-erratum patchTest. With bundles on, a composition of one is a bundle of
          // one: its run restores the test system like every bundle run, where a passed patchTest leaves its patch
          // installed — which makes a later erratum of the same package "not applicable" there (UYUNI refuses it,
          // and every member of the bundle holding it is inconclusive).
          if (opts.settings.maxSize <= 1) return workflowIds.patchTest(c.queueId);
          bundleId = await reserveBundleId(trx);
          return workflowIds.bundle(bundleId);
        },
      });
      if (!claim) throw new NotStarted(await whyNoTest(trx));
      if (bundleId === undefined || !choice) {
        const handle = await startPatchTest(client, config, claim.queueId, opts.requestedBy, opts.approval, timing);
        if (!handle) throw new NotStarted(`a test of queue item ${claim.queueId} is already running (${workflowIds.patchTest(claim.queueId)})`);
        await recordLeaseRun(trx, claim.systemId, handle.workflowId, handle.firstExecutionRunId);
        return { started: true as const, claim, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      }
      const members = choice.members.map((m) => m.queueId);
      const workflowId = workflowIds.bundle(bundleId);
      await insertBundleNode(trx, { id: bundleId, rootId: null, parentId: null, kind: 'bundle', os: claim.targetOs, workflowId, members, sizePolicy: choice.policy, requestedBy: opts.requestedBy });
      const marked = await trx
        .updateTable('patch_test_queue')
        .set({ status: 'testing', workflow_id: workflowId, test_system_id: claim.systemId })
        .where('id', 'in', members)
        .where((eb) => eb.or([eb('status', '=', 'queued'), eb('id', '=', claim.queueId)]))
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== members.length) throw new Error(`bundle ${bundleId}: a member changed while it was being claimed`);
      const names = Object.fromEntries(choice.members.map((m) => [String(m.queueId), m.advisoryName]));
      let handle;
      try {
        handle = await client.workflow.start<typeof bundleTest>('bundleTest', {
          taskQueue: config.temporal.taskQueue,
          workflowId,
          args: [{ bundleId, rootId: bundleId, kind: 'bundle', members, names, os: claim.targetOs, requestedBy: opts.requestedBy, timing, ...(opts.approval ? { approval: opts.approval } : {}), autoDispatch: config.test.autoDispatch }],
          typedSearchAttributes: [{ key: SA.bundleId, value: bundleId }, { key: SA.bundleKind, value: 'bundle' }, { key: SA.patchStatus, value: 'testing' }],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new NotStarted(`bundle ${bundleId} is already running`);
        throw err;
      }
      await recordLeaseRun(trx, claim.systemId, handle.workflowId, handle.firstExecutionRunId);
      return { started: true as const, claim, workflowId, runId: handle.firstExecutionRunId, bundleId, members };
    });
  } catch (err) {
    if (err instanceof NotStarted) return { started: false, reason: err.message };
    throw err;
  }
}
