import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Erratum } from '../../lab/fleet/index.js';
import type { DeploymentResult } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { errataForAll, expectOneApplyPerRun, nodesOf, queueInOrder, setConfig, startBundle } from '../support/bundles.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 11: the backlog tested in bundles. Two ubuntu test systems, so a failed bundle's halves run in
// parallel. Every run goes through the real lab (one UYUNI action for the bundle, Salt, the exporters scraped
// by the run's real Prometheus) and restores its test system after itself.
describe('bundles', { timeout: 420_000 }, () => {
  let t: TestEngine;
  const used: number[] = [];
  /** The clean bundle's errata and queue ids, approved at the end of the first case (a patch day's set). */
  let approved: { ids: number[]; errata: Erratum[] } | undefined;
  const status = async (ids: number[]) =>
    Object.fromEntries((await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status', 'status_reason']).where('id', 'in', ids).execute()).map((r) => [r.id, r]));

  beforeAll(async () => {
    t = await startTestEngine('bundle', { fleet: { testSystemsPerOs: 2 } });
    await setConfig(t, 'test.settle_seconds', 5);
    await setConfig(t, 'bundle.max_size', 8);
    await setConfig(t, 'bundle.alone_below_score', 0);
    // a low prior, so that with no history yet the size is bundle.max_size (Dorfman: ≈ 1/√0.005 = 14 > 8)
    await setConfig(t, 'bundle.failure_prior_percent', 0.5);
  }, 240_000);
  afterAll(async () => t?.close());

  it('a clean bundle of 8 passes in one run: one UYUNI action for all, restored after, each member to its own approval', async () => {
    const errata = errataForAll(t, 'ubuntu', 8, { personality: 'none', kernel: false, rebootSuggested: false });
    used.push(...errata.map((e) => e.id));
    const ids = await queueInOrder(t, errata, 1);
    const { bundleId, members, result } = await startBundle(t);
    expect(members).toEqual(ids);
    const r = await result;
    expect(r.run.verdict, JSON.stringify(r)).toBe('passed');
    const nodes = await nodesOf(t, bundleId);
    expect(nodes).toHaveLength(1);
    const root = nodes[0]!;
    expect(root.size_policy).toMatchObject({ chosen: 8, why: expect.stringMatching(/Dorfman/) });
    // one run: one test row, one UYUNI action holding the 8 errata, then the host restored and verified
    const test = await t.testRow(root.test_id!);
    expect(test.bundle_id).toBe(bundleId);
    expect(test.status).toBe('passed');
    expect(await t.phases(test.id)).toMatchObject({ patch: 'passed', validate: 'passed', services: 'passed', rollback: 'passed', verify_rollback: 'passed' });
    const action = t.lab.fleet.action(test.uyuni_action_id!);
    expect(action?.kind).toBe('errata');
    expect([...(action as unknown as { errataIds: number[] }).errataIds].sort()).toEqual(errata.map((e) => e.id).sort());
    await expectOneApplyPerRun(t, 'ubuntu', bundleId, errata, ids);
    // each passed member waits for a person in its own patchTest, with the bundle's run as its evidence
    for (const id of ids) await t.untilStatus(`patch-test-${id}`, 'pending_approval');
    const approvals = await t.api.app.inject({ method: 'GET', url: '/api/v1/approvals/pending', headers: bearer('viewer') });
    expect(approvals.statusCode, approvals.body).toBe(200);
    // GET /bundles/<id>: members and outcome
    const view = await t.api.app.inject({ method: 'GET', url: `/api/v1/bundles/${bundleId}`, headers: bearer('viewer') });
    expect(view.statusCode, view.body).toBe(200);
    const body = view.json();
    expect(body.members.map((m: { queue_id: number; verdict: string }) => [m.queue_id, m.verdict])).toEqual(ids.map((id) => [id, 'passed']));
    expect(body.tree.children).toEqual([]);
    expect(body.runs).toBe(1);
    // a patch day: the approver approves the 8 at once — one patch_approvals row each; again, each is refused
    const batch = await t.api.app.inject({ method: 'POST', url: '/api/v1/approvals/batch', headers: bearer('approver'), payload: { queue_ids: ids, decision: 'approve', reason: 'patch day' } });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json()).toMatchObject({ decided: 8, refused: 0 });
    const rows = await t.tw.db.selectFrom('patch_approvals').select(['queue_id', 'decision', 'test_id']).where('queue_id', 'in', ids).execute();
    expect(rows.map((r) => r.queue_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.decision === 'approve' && r.test_id === root.test_id)).toBe(true);
    const again = await t.api.app.inject({ method: 'POST', url: '/api/v1/approvals/batch', headers: bearer('approver'), payload: { queue_ids: [ids[0], 999999], decision: 'approve' } });
    expect(again.json()).toMatchObject({ decided: 0, refused: 2, results: [{ ok: false, error: { status_code: 409 } }, { ok: false, error: { status_code: 404 } }] });
    const viewer = await t.api.app.inject({ method: 'POST', url: '/api/v1/approvals/batch', headers: bearer('viewer'), payload: { queue_ids: ids, decision: 'approve' } });
    expect(viewer.statusCode).toBe(403);
    approved = { ids, errata };
  });

  it('a bundle of 8 with one cpu_spike: exactly that erratum rolled back and blamed, 7 passed, in ≤ 1 + 2·log2(8) runs', async () => {
    const spike = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: 'test', exclude: used });
    const systems = t.lab.fleet.systemsOf('ubuntu', 'test');
    const bad = spike.find((e) => systems.every((s) => t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: s.id }).some((x) => x.id === e.id)));
    expect(bad, 'a cpu_spike erratum relevant to both test systems').toBeDefined();
    const clean = errataForAll(t, 'ubuntu', 7, { personality: 'none', kernel: false, rebootSuggested: false }, [...used, bad!.id]).filter((e) => e.source !== bad!.source).slice(0, 7);
    expect(clean).toHaveLength(7);
    const errata = [...clean.slice(0, 5), bad!, ...clean.slice(5)]; // the culprit in the middle, 6th of 8
    used.push(...errata.map((e) => e.id));
    const ids = await queueInOrder(t, errata, 100);
    const { bundleId, result } = await startBundle(t);
    const r = await result;
    const culprit = ids[5]!;
    const verdicts = r.verdicts!;
    expect(verdicts[culprit]?.verdict, JSON.stringify(verdicts)).toBe('rolled_back');
    expect(Object.entries(verdicts).filter(([k, v]) => Number(k) !== culprit && v.verdict === 'passed')).toHaveLength(7);
    const nodes = await nodesOf(t, bundleId);
    expect(nodes.length).toBeLessThanOrEqual(7);
    // proven alone: a run of exactly the culprit that failed by the patch
    const proof = nodes.find((n) => n.id === verdicts[culprit]?.provenBy)!;
    expect(proof.member_ids).toEqual([culprit]);
    expect(proof.status).toBe('failed');
    // the evidence names every run it was part of
    expect(verdicts[culprit]?.runs).toEqual(nodes.filter((n) => n.member_ids.includes(culprit)).map((n) => n.id));
    // queue: the culprit rolled back with why, the others passed; the tree is parent/child in Temporal too
    const rows = await status(ids);
    expect(rows[culprit]).toMatchObject({ status: 'rolled_back', status_reason: expect.stringMatching(/failed alone in run/) });
    for (const id of ids.filter((x) => x !== culprit)) expect(['passed', 'pending_approval']).toContain(rows[id]?.status);
    const children = await t.tw.client.workflow.count(`BundleId = ${bundleId} AND BundleKind = "half"`);
    expect(children.count).toBeGreaterThanOrEqual(4);
    // the Success Score's history: only the alone run counts as the erratum's own failure
    const own = await t.tw.db.selectFrom('patch_tests').select(['id', 'queue_id', 'failure_cause']).where('bundle_id', 'in', nodes.map((n) => n.id)).where('status', '<>', 'passed').execute();
    expect(own.filter((x) => x.failure_cause === 'patch')).toEqual([{ id: proof.test_id, queue_id: culprit, failure_cause: 'patch' }]);
    expect(own.filter((x) => x.failure_cause !== 'patch').every((x) => x.failure_cause === 'bundle')).toBe(true);
    // the culprit's own record names every run it was in (GET /queue/<id>)
    const detail = await t.api.app.inject({ method: 'GET', url: `/api/v1/queue/${culprit}`, headers: bearer('viewer') });
    expect(detail.statusCode, detail.body).toBe(200);
    expect(detail.json().bundle_runs.map((x: { run_id: number }) => x.run_id)).toEqual(verdicts[culprit]?.runs);
    expect(detail.json().tests.map((x: { id: number }) => x.id).sort()).toEqual(nodes.filter((n) => n.member_ids.includes(culprit)).map((n) => n.test_id).sort());
    // every run restored its host: both test systems are free and not quarantined
    const sys = await t.tw.db.selectFrom('test_systems').select(['name', 'leased_by', 'quarantined']).where('os', '=', 'ubuntu').execute();
    expect(sys.every((s) => s.leased_by === null && !s.quarantined), JSON.stringify(sys)).toBe(true);
    await expectOneApplyPerRun(t, 'ubuntu', bundleId, errata, ids);
  });

  it('a patch day: three approved errata in one rollout — one UYUNI action per system for the set — and one rollback restores all three', async () => {
    expect(approved, 'the first case approved the clean bundle').toBeDefined();
    const prod = t.lab.fleet.systemsOf('ubuntu', 'prod');
    const affected = (e: Erratum) => prod.filter((s) => t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: s.id }).some((x) => x.id === e.id)).map((s) => s.id);
    // three of the approved errata that production needs
    const picks = approved!.errata.map((e, i) => ({ e, id: approved!.ids[i]!, on: affected(e) })).filter((p) => p.on.length > 0).slice(0, 3);
    expect(picks.length, 'three approved errata that production systems need').toBe(3);
    for (const [key, value] of Object.entries({ 'deploy.soak_minutes': 0, 'deploy.canary_size': 1, 'deploy.wave_size': 10 })) await setConfig(t, key, value);
    const bad = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: picks[0]!.id, queue_ids: [picks[1]!.id] } });
    expect(bad.statusCode).toBe(400);
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_ids: picks.map((p) => p.id) } });
    expect(res.statusCode, res.body).toBe(202);
    const carrier = picks[0]!.id;
    expect(res.json()).toMatchObject({ queue_id: carrier, workflow_id: `deploy-${carrier}` });
    // the rollout starts once the carrier's workflow has recorded the set and told the members
    const handleOf = async (id: string) => {
      for (let i = 0; i < 100; i++) {
        const h = t.tw.client.workflow.getHandle(id);
        if (await h.describe().then(() => true, () => false)) return h;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`${id} never started`);
    };
    const result = (await (await handleOf(`deploy-${carrier}`)).result()) as DeploymentResult;
    expect(result.status, JSON.stringify(result)).toBe('completed');
    // every item of the set completed, each with its own recorded request against the one rollout
    for (const p of picks) await t.untilStatus(`patch-test-${p.id}`, 'completed');
    const statuses = await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status']).where('id', 'in', picks.map((p) => p.id)).execute();
    expect(statuses.every((s) => s.status === 'completed'), JSON.stringify(statuses)).toBe(true);
    const requests = await t.tw.db.selectFrom('deployments').select(['queue_id', 'workflow_id']).where('queue_id', 'in', picks.map((p) => p.id)).execute();
    expect(requests.map((r) => r.workflow_id)).toEqual(picks.map(() => `deploy-${carrier}`));
    // each production system that needs some of the set got ONE action holding exactly those errata
    const rows = await t.tw.db.selectFrom('patch_deployments').select(['system_id', 'status', 'uyuni_action_id']).where('workflow_id', '=', `deploy-${carrier}`).execute();
    const union = new Set(picks.flatMap((p) => p.on));
    expect(rows.map((r) => r.system_id).sort()).toEqual([...union].sort());
    for (const r of rows) {
      expect(r.status).toBe('applied');
      const want = picks.filter((p) => p.on.includes(r.system_id)).map((p) => p.e.id).sort();
      expect([...(t.lab.fleet.action(r.uyuni_action_id!) as unknown as { errataIds: number[] }).errataIds].sort()).toEqual(want);
    }
    // rolling back one member rolls back the set: every system restored (verified), every item prod_rolled_back
    const rb = await t.api.app.inject({ method: 'POST', url: `/api/v1/deployments/${picks[2]!.id}/rollback`, headers: bearer('operator'), payload: { reason: 'patch day regression' } });
    expect(rb.statusCode, rb.body).toBe(202);
    expect(rb.json()).toMatchObject({ queue_id: carrier, workflow_id: `deploy-rollback-${carrier}` });
    const undone = (await (await handleOf(`deploy-rollback-${carrier}`)).result()) as { rolledBack: number; failed: number };
    expect(undone).toMatchObject({ rolledBack: union.size, failed: 0 });
    const after = await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status']).where('id', 'in', picks.map((p) => p.id)).execute();
    expect(after.every((s) => s.status === 'prod_rolled_back'), JSON.stringify(after)).toBe(true);
    for (const p of picks) for (const sid of p.on) expect(t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: sid }).some((x) => x.id === p.e.id), `${p.e.advisoryName} relevant again on ${sid}`).toBe(true);
  });

  it('an erratum a later patch of its package already covers on the test system is inconclusive, never blamed', async () => {
    // two clean errata of one source relevant to both test systems: the newer installed behind the product's back
    const systems = t.lab.fleet.systemsOf('ubuntu', 'test').map((s) => s.id);
    const relevant = systems.map((sid) => new Set(t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: sid, unscheduled: true }).map((x) => x.id)));
    const pool = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'none', kernel: false, rebootSuggested: false, relevantTo: systems[0]!, exclude: used })
      .filter((x) => relevant.every((r) => r.has(x.id)));
    const bySource = new Map<string, Erratum[]>();
    for (const x of pool) bySource.set(x.source, [...(bySource.get(x.source) ?? []), x]);
    const pair = [...bySource.values()].find((xs) => xs.length >= 2)!;
    expect(pair, 'two errata of one source').toBeDefined();
    const [older, newer] = [pair[0]!, pair[pair.length - 1]!];
    used.push(older.id, newer.id);
    const [id] = await queueInOrder(t, [older], 500);
    t.lab.fleet.scheduleApplyErrata(systems, [newer.id]);
    for (let i = 0; i < 100 && t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: systems[0]! }).some((x) => x.id === older.id); i++) {
      await new Promise((r) => setTimeout(r, 100));
      t.lab.fleet.tick();
    }
    const r = await t.runTest(id!);
    expect(r, JSON.stringify(r)).toMatchObject({ status: 'inconclusive', failure: { phase: 'patch', reason: expect.stringMatching(/not applicable/) }, cause: 'test_system' });
    expect((await t.testRow(r.testId)).failure_cause).toBe('test_system');
    expect(await t.queueStatus(id!)).toBe('inconclusive');
  });
});
