import {
  CancellationScope,
  ParentClosePolicy,
  defineQuery,
  executeChild,
  isCancellation,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { BundleKind } from '../db/database.js';
import { resolveNode, type NodeOutcome, type RunResult, type RunVerdict, type Verdicts } from '../domain/bisection.js';
import { SA, testStatusQuery, workflowIds, type ApprovalPolicy, type TestResult, type TestTiming } from './messages.js';
import { wakeDispatcher } from './dispatch.js';
import { patchTest } from './patch-test.js';
import { testActivities } from './test-proxies.js';
import { runTest } from './test-run.js';
import { TestView } from './test-view.js';

export interface BundleTestInput {
  /** This node (test_bundles.id); the root's id is the bundle's. */
  bundleId: number;
  rootId: number;
  kind: BundleKind;
  /** Queue item ids, in work order. */
  members: number[];
  /** Advisory name by queue item id (for the reasons people read). */
  names: Record<string, string>;
  os: string;
  /** One run and nothing more (a retest of a whole, a probe while growing an interaction set). */
  probeOnly?: boolean;
  requestedBy: string;
  timing: TestTiming;
  /** After the bundle is settled, each passed member waits for a person in its own patchTest. */
  approval?: ApprovalPolicy;
  autoDispatch?: boolean;
}

export interface BundleTestResult {
  run: RunResult;
  testId: number;
  /** The members' verdicts after the bisection (absent for a probe): all of them at the root. */
  verdicts?: Verdicts;
  /** Below the root: members the node's search set aside, for its parent's rest run (runs they were part of). */
  untested?: Record<number, number[]>;
}

export interface BundleStatusView {
  bundleId: number;
  rootId: number;
  kind: BundleKind;
  members: number[];
  run: RunResult | null;
  children: { workflowId: string; kind: BundleKind; members: number[]; verdict: RunVerdict | null }[];
  verdicts: Verdicts | null;
}

export const bundleStatusQuery = defineQuery<BundleStatusView>('bundle');

const verdictOf = (t: TestResult): RunVerdict =>
  t.status === 'passed' ? 'passed' : (t.status === 'failed' || t.status === 'rolled_back') && t.cause === 'patch' ? 'failed' : 'inconclusive';

/**
 * One node of a bundle's test (id `bundle-<id>` for the root, `bundle-<id>.<n>…` below it): a run of its
 * members on a test system it leases (test-run.ts in bundle mode: one UYUNI action for every erratum, one
 * reboot if any needs it, one validation, one services check, a restore point covering all their packages,
 * and the host restored after the run), then — when it failed — its bisection (domain/bisection.ts): halves,
 * the rest, retests and probes as child workflows, each on a free test system of the OS (both halves at once
 * when a system is spare), so the Web UI shows the tree. The root settles every member's own verdict and
 * hands each passed one to its own patchTest for the approval; what its search set aside untested is queued
 * again when other errata of the OS wait (it joins the next bundle), else tested here as one rest run.
 */
export async function bundleTest(input: BundleTestInput): Promise<BundleTestResult> {
  const acts = testActivities(input.timing);
  const lead = input.members[0] as number;
  const view = new TestView(lead);
  const status: BundleStatusView = { bundleId: input.bundleId, rootId: input.rootId, kind: input.kind, members: input.members, run: null, children: [], verdicts: null };
  setHandler(testStatusQuery, () => view.state);
  setHandler(bundleStatusQuery, () => status);
  upsertSearchAttributes([
    { key: SA.bundleId, value: input.rootId },
    { key: SA.bundleKind, value: input.kind },
    { key: SA.queueId, value: lead },
    { key: SA.targetOs, value: input.os },
    { key: SA.advisoryName, value: input.names[String(lead)] ?? String(lead) },
    { key: SA.patchStatus, value: 'testing' },
  ]);
  try {
    const info = await acts.store.beginBundleRun({ bundleId: input.bundleId });
    Object.assign(view.state, { testId: info.testId, advisoryName: info.advisoryName, targetOs: info.targetOs });
    const tested = await runTest({
      input: { queueId: lead, requestedBy: input.requestedBy, timing: input.timing, ...(input.autoDispatch ? { autoDispatch: true } : {}) },
      acts, view, info, bundle: { bundleId: input.bundleId, members: input.members.length },
    });
    const run: RunResult = { verdict: verdictOf(tested), runId: input.bundleId, reason: tested.failure?.reason ?? '' };
    status.run = run;
    if (input.probeOnly) return { run, testId: info.testId };

    let n = 0;
    const child = (kind: BundleKind, members: number[], probeOnly: boolean) => {
      // Numbered before the first await, so concurrent halves get the same ids on every replay.
      const workflowId = `${workflowInfo().workflowId}.${++n}`;
      const entry: BundleStatusView['children'][number] = { workflowId, kind, members, verdict: null };
      status.children.push(entry);
      return (async () => {
        const id = await acts.store.createBundleNode({ rootId: input.rootId, parentId: input.bundleId, kind, os: input.os, workflowId, members });
        const r = await executeChild(bundleTest, { workflowId, args: [{ ...input, bundleId: id, kind, members, probeOnly }] });
        entry.verdict = r.run.verdict;
        return r;
      })();
    };
    // A bundle's set-aside members go back to the queue (to ride in the next bundle) while other errata of the
    // OS are queued, instead of a rest run of their own; histories from before this replay as they ran.
    const deferRest = input.kind === 'bundle' && patched('bundle-rest-deferred');
    const { verdicts, untested } = await resolveNode(
      input.members,
      run,
      {
        node: async (members, kind): Promise<NodeOutcome> => {
          const r = await child(kind, members, false);
          return { run: r.run, verdicts: r.verdicts ?? {}, untested: r.untested ?? {} };
        },
        probe: async (members, kind) => (await child(kind, members, true)).run,
        spare: () => acts.store.spareTestSystem({ os: input.os }),
        nameOf: (m) => input.names[String(m)] ?? `#${m}`,
        ...(deferRest ? { deferRest: () => acts.store.othersQueued({ os: input.os }) } : {}),
      },
      { root: input.kind === 'bundle' },
    );
    status.verdicts = verdicts;
    if (input.kind === 'bundle') {
      await settle(input, acts, verdicts, untested);
      // The members are settled only now (inconclusive ones may be retried): let the dispatcher look again.
      if (input.autoDispatch) await wakeDispatcher();
    }
    return { run, testId: info.testId, verdicts, ...(Object.keys(untested).length ? { untested } : {}) };
  } catch (err) {
    if (isCancellation(err) && input.kind === 'bundle') {
      // Cancelled: whatever ran was restored by its run; the members go back to the queue untested.
      await CancellationScope.nonCancellable(() => acts.store.requeueBundle({ rootId: input.rootId }));
    }
    throw err;
  }
}

/**
 * Records every member's own verdict (and queues again the ones set aside untested), then starts the approval of
 * each passed one (its own patchTest).
 */
async function settle(input: BundleTestInput, acts: ReturnType<typeof testActivities>, verdicts: Verdicts, setAside: Record<number, number[]>): Promise<void> {
  const passedIn = await acts.store.settleBundleVerdicts({ rootId: input.rootId, verdicts, ...(Object.keys(setAside).length ? { setAside } : {}) });
  upsertSearchAttributes([{ key: SA.patchStatus, value: Object.values(verdicts).every((v) => v.verdict === 'passed') ? 'passed' : 'rolled_back' }]);
  if (!input.approval) return;
  for (const [queueId, testId] of Object.entries(passedIn)) {
    const id = Number(queueId);
    try {
      // Abandoned: the approval may wait for days after the bundle has finished.
      await startChild(patchTest, {
        workflowId: workflowIds.patchTest(id),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ queueId: id, requestedBy: input.requestedBy, timing: input.timing, approval: input.approval, ...(input.autoDispatch ? { autoDispatch: true } : {}), pretested: { testId, bundleId: input.rootId } }],
        typedSearchAttributes: [
          { key: SA.queueId, value: id },
          { key: SA.bundleId, value: input.rootId },
          { key: SA.patchStatus, value: 'passed' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}
