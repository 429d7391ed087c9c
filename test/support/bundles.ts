import { expect } from 'vitest';
import type { Erratum } from '../../lab/fleet/index.js';
import { claimAndStartBundle, loadBundleSettings } from '../../temporal/bundles.js';
import { approvalPolicy } from '../../db/queries/orchestrator-config.js';
import { testTimingInUse } from '../../activities/patch-test/settings.js';
import type { BundleTestResult } from '../../workflows/bundle.js';
import { bearer } from './api.js';
import type { Os, TestEngine } from './test-engine.js';

// Bundles end to end: errata relevant to every test system of an OS, queued in a known order, and the
// dispatcher's own start (claimAndStartBundle) for the head of the queue.

/** `n` errata of `os` relevant to every test system of it, matching `q`, none in `exclude`. */
export function errataForAll(t: TestEngine, os: Os, n: number, q: Parameters<TestEngine['lab']['fleet']['findErrata']>[0] = {}, exclude: number[] = []): Erratum[] {
  const systems = t.lab.fleet.systemsOf(os, 'test');
  const relevant = systems.map((s) => new Set(t.lab.fleet.findErrata({ os, relevantTo: s.id, unscheduled: true }).map((e) => e.id)));
  const out = t.lab.fleet.findErrata({ os, relevantTo: systems[0]!.id, unscheduled: true, ...q, exclude }).filter((e) => relevant.every((r) => r.has(e.id)));
  // two errata of one source in one bundle would have the newer cover the older: one of each source
  const bySource = new Map<string, Erratum>();
  for (const e of out) if (!bySource.has(e.source)) bySource.set(e.source, e);
  const picked = [...bySource.values()].slice(0, n);
  if (picked.length < n) throw new Error(`the lab has only ${picked.length} ${os} errata of distinct sources relevant to every test system (${JSON.stringify(q)})`);
  return picked;
}

/** Queues the errata in this order (priority_override 1…n keeps it the work order); their queue ids. */
export async function queueInOrder(t: TestEngine, errata: Erratum[], base = 1): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, e] of errata.entries()) {
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName], priority_override: base + i } });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().items[0].id);
  }
  return ids;
}

/** What the dispatcher does for the head of the queue; the bundle's id and the workflow's result. */
export async function startBundle(t: TestEngine): Promise<{ bundleId: number; members: number[]; result: Promise<BundleTestResult> }> {
  const settings = await loadBundleSettings(t.tw.db);
  const approval = await approvalPolicy(t.tw.db, t.tw.config.approval);
  const r = await claimAndStartBundle(t.tw.db, t.tw.client, t.tw.config, { requestedBy: 'test', approval, timing: await testTimingInUse(t.tw.db, t.tw.config), settings });
  if (!r.started) throw new Error(`nothing started: ${r.reason}`);
  expect(r.bundleId, 'a bundle, not a single test').toBeDefined();
  return { bundleId: r.bundleId as number, members: r.members ?? [], result: t.tw.client.workflow.getHandle(r.workflowId).result() as Promise<BundleTestResult> };
}

export async function setConfig(t: TestEngine, key: string, value: unknown): Promise<void> {
  const put = await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
  expect(put.statusCode, put.body).toBe(200);
}

/** Runs of the bundle (its root and every node below it). */
export async function nodesOf(t: TestEngine, rootId: number) {
  return t.tw.db.selectFrom('test_bundles').selectAll().where((eb) => eb.or([eb('id', '=', rootId), eb('root_id', '=', rootId)])).orderBy('id').execute();
}

/** Every member applied exactly once per run that held it (no run repeated, none lost), on the test systems. */
export async function expectOneApplyPerRun(t: TestEngine, os: Os, rootId: number, errata: Erratum[], queueIds: number[]): Promise<void> {
  const nodes = await nodesOf(t, rootId);
  const systems = t.lab.fleet.systemsOf(os, 'test');
  for (const [i, e] of errata.entries()) {
    const runs = nodes.filter((n) => n.member_ids.includes(queueIds[i]!)).length;
    // an action that failed (a member that fails to apply) applied nothing, but it was one attempt of that run
    const records = t.lab.fleet.applyRecords().filter((r) => r.erratumId === e.id && systems.some((s) => s.id === r.systemId));
    const attempts = records.reduce((sum, r) => sum + r.applied + r.failed, 0);
    expect(attempts, `${e.advisoryName}: applied ${attempts} times over ${runs} runs`).toBe(runs);
  }
}
