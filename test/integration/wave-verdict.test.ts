import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../activities/index.js';
import { createVerdictActivities, type JudgeWaveInput } from '../../activities/verdict/judge-wave.js';
import { setConfigValue } from '../../db/queries/orchestrator-config.js';
import { verdictById } from '../../db/queries/verdicts.js';
import type { LabSystem } from '../../lab/fleet/index.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig, testLogger } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, productionDeployment } from '../../workflows/index.js';
import { deploymentStatusQuery, verdictDecideUpdate, workflowIds, type DeploymentView, type TestResult } from '../../workflows/messages.js';

// The wave verdict against the real parts: the lab's UYUNI (system.getNetwork) and node exporters scraped by
// the run's real Prometheus, the real PostgreSQL. A canary patched with a cpu_spike erratum is judged against
// its still-unpatched peers of the same group over the same window: Fail (halt); a clean erratum: Pass; with
// the marginal score at 50 the same spike is Marginal (pause); no samples at all is NODATA, never a pass.

let lab: FullLab;
let api: TestApi;
let deps: ActivityDeps;
let judgeWave: ReturnType<typeof createVerdictActivities>['judgeWave'];
let queueId: number;
let group: LabSystem[];

async function promValue(query: string): Promise<number[]> {
  const res = await fetch(`${lab.env.PROMETHEUS_URL}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  return body.data.result.map((r) => Number(r.value[1]));
}

/** Until Prometheus's CPU % of each system is within 3 points of the lab's truth (rate() needs a full window). */
async function untilScraped(systems: LabSystem[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await Promise.all(systems.map(async (s) => {
      const i = lab.exporters.instanceOf(s);
      const [cpu] = await promValue(`100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="${i}"}[3s])))`);
      return cpu !== undefined && Math.abs(cpu - lab.fleet.metrics(s.id).cpuPercent) < 3;
    }));
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error('Prometheus did not scrape the group within 60 s');
    await sleep(500);
  }
}

/** Applies an erratum on one system through the lab and waits until the action completed. */
async function patch(system: LabSystem, personality: 'cpu_spike' | 'none'): Promise<void> {
  const e = lab.fleet.findErratum({ os: 'ubuntu', personality, relevantTo: system.id, kernel: false, rebootSuggested: false, unscheduled: true });
  if (!e) throw new Error(`no ${personality} erratum relevant to ${system.name}`);
  const [actionId] = lab.fleet.scheduleApplyErrata([system.id], [e.id]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    lab.fleet.tick();
    const status = lab.fleet.requireAction(actionId!).systems.get(system.id)?.status;
    if (status === 'Completed') break;
    if (status === 'Failed') throw new Error(`action ${actionId} failed`);
    if (Date.now() > deadline) throw new Error(`action ${actionId} did not complete`);
    await sleep(100);
  }
}

/** The window after a patch: past the rate() window (3 s), 10 s of 1 s points; the baseline: the 8 s before it. */
async function soak(before: Date): Promise<Pick<JudgeWaveInput, 'from' | 'to' | 'baselineFrom' | 'baselineTo' | 'stepSeconds'>> {
  const from = new Date(Date.now() + 4_000);
  const to = new Date(from.getTime() + 10_000);
  await sleep(to.getTime() - Date.now() + 2_000); // and one scrape more, so the window's last point is in
  return { from: from.toISOString(), to: to.toISOString(), baselineFrom: new Date(before.getTime() - 8_000).toISOString(), baselineTo: before.toISOString(), stepSeconds: 1 };
}

describe('judgeWave against the lab and the real Prometheus', () => {
  beforeAll(async () => {
    lab = await startFullLab({ prodSystemsPerOs: 6 });
    const name = await isolatedDatabase('wave_verdict');
    const config = testConfig({ ...lab.env, DB_NAME: name, TEST_METRICS_WINDOW_SECONDS: '3' });
    api = await startTestApi({ ...lab.env, DB_NAME: name });
    deps = createActivityDeps({ config, db: api.db, log: testLogger(), temporal: api.temporal.client });
    ({ judgeWave } = createVerdictActivities(deps));
    await api.db.insertInto('errata_cache').values({ advisory_name: 'USN-9915-1', advisory_type: 'Security Advisory', severity: 'High' }).execute();
    ({ id: queueId } = await api.db.insertInto('patch_test_queue').values({ advisory_name: 'USN-9915-1', target_os: 'ubuntu' }).returning('id').executeTakeFirstOrThrow());
    group = [...lab.fleet.systemsOf('ubuntu', 'prod')];
    expect(group.length).toBe(6);
    await untilScraped(group);
  }, 120_000);

  afterAll(async () => {
    if (deps) await closeActivityDeps(deps);
    await api?.close();
    await lab?.close();
  });

  it('a cpu_spike canary against its unpatched peers: cpu high, memory pass, score 50 → fail (halt); stored with every sample', async () => {
    const [canary, ...peers] = group as [LabSystem, ...LabSystem[]];
    const before = new Date();
    const truthBefore = lab.fleet.metrics(canary.id).cpuPercent;
    await patch(canary, 'cpu_spike');
    const truthAfter = lab.fleet.metrics(canary.id).cpuPercent;
    const window = await soak(before);
    const input: JudgeWaveInput = { deploymentId: queueId, wave: 0, group: canary.group, patchedSystemIds: [canary.id], peerSystemIds: peers.map((p) => p.id), ...window };
    const result = await judgeWave(input);
    expect(result, result.reason).toMatchObject({ verdict: 'fail', decision: 'halt', score: 50 });
    expect(result.reason).toMatch(/cpu: high — HL shift \+\d+(\.\d+)? pp, 98 % CI .*changes from own baselines; beyond the allowed \+5 pp/);
    expect(result.reason).toMatch(/memory: pass/);

    const stored = await verdictById(api.db, result.verdictId);
    expect(stored).toMatchObject({ scope: 'wave', queue_id: queueId, wave: 0, group_name: canary.group, experiment_systems: [canary.id], verdict: 'fail' });
    const cpu = stored!.metrics.find((m) => m.metric === 'cpu')!;
    expect(cpu).toMatchObject({ classification: 'high', method: 'asymptotic' });
    expect(cpu.experiment_samples.length).toBeGreaterThanOrEqual(8);
    expect(cpu.control_samples.length).toBeGreaterThanOrEqual(8 * peers.length);
    // the shift is the spike as Prometheus measured it: never above the lab's +40, and far beyond the allowance
    // (on a machine at load ≈ 17, late scrapes have read it as low as +23)
    const spike = truthAfter - truthBefore;
    expect(cpu.estimate!, `truth ${truthBefore} → ${truthAfter}, ${result.reason}`).toBeGreaterThan(15);
    expect(cpu.estimate!, `truth ${truthBefore} → ${truthAfter}, ${result.reason}`).toBeLessThan(spike + 5);
    expect(cpu.p!).toBeLessThan(0.02);

    // a retry (same wave, same window) returns the verdict already recorded, and stores nothing new
    const again = await judgeWave(input);
    expect(again).toEqual(result);
    expect(Number((await api.db.selectFrom('verdicts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(1);

    // the same spike with the marginal score at 50: marginal → pause for a person
    await setConfigValue(api.db, 'verdict.marginal_score', 50, 'test');
    try {
      const marginal = await judgeWave({ ...input, wave: 1 });
      expect(marginal, marginal.reason).toMatchObject({ verdict: 'marginal', decision: 'pause', score: 50 });
    } finally {
      await setConfigValue(api.db, 'verdict.marginal_score', 75, 'test');
    }
  }, 90_000);

  it('a clean erratum on the next canary passes (continue)', async () => {
    const canary = group[1]!;
    const peers = group.slice(2);
    const before = new Date();
    await patch(canary, 'none');
    const window = await soak(before);
    const result = await judgeWave({ deploymentId: queueId, wave: 2, group: canary.group, patchedSystemIds: [canary.id], peerSystemIds: peers.map((p) => p.id), ...window });
    expect(result, result.reason).toMatchObject({ verdict: 'pass', decision: 'continue', score: 100 });
  }, 60_000);

  it('no samples at all (a system UYUNI does not know) is nodata, never a pass; its decision follows verdict.nodata_policy', async () => {
    const now = Date.now();
    const window = { from: new Date(now - 12_000).toISOString(), to: new Date(now - 2_000).toISOString(), stepSeconds: 1 };
    const base = { deploymentId: queueId, group: group[0]!.group, patchedSystemIds: [987_654], peerSystemIds: group.slice(2).map((p) => p.id), ...window };
    const pause = await judgeWave({ ...base, wave: 3 });
    expect(pause, pause.reason).toMatchObject({ verdict: 'nodata', decision: 'pause', score: null });
    expect(pause.reason).toMatch(/UYUNI gave no address for systems 987654/);
    // the policy is a setting like any other: PUT by an admin, a word outside its choices refused naming the key
    const put = (value: unknown) => api.app.inject({ method: 'PUT', url: '/api/v1/config/verdict.nodata_policy', headers: bearer('admin'), payload: { value } });
    const bad = await put('pass');
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { message: string }).message).toContain('verdict.nodata_policy must be one of marginal, fail; got "pass"');
    expect((await put('fail')).statusCode).toBe(200);
    try {
      expect(await judgeWave({ ...base, wave: 4 })).toMatchObject({ verdict: 'nodata', decision: 'halt' });
    } finally {
      await setConfigValue(api.db, 'verdict.nodata_policy', 'marginal', 'test');
    }
  }, 30_000);

  it('bad input is refused naming the field, nothing stored', async () => {
    const count = async () => Number((await api.db.selectFrom('verdicts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const ok = { deploymentId: queueId, wave: 9, group: 'g', patchedSystemIds: [1], peerSystemIds: [2], from: '2026-12-07T10:00:00Z', to: '2026-12-07T10:10:00Z' };
    await expect(judgeWave({ ...ok, patchedSystemIds: [] })).rejects.toMatchObject({ type: 'InvalidVerdictInput', nonRetryable: true, message: 'patchedSystemIds must not be empty' });
    await expect(judgeWave({ ...ok, peerSystemIds: [1, 2] })).rejects.toThrow('peerSystemIds must not contain patched systems (1)');
    await expect(judgeWave({ ...ok, to: ok.from })).rejects.toThrow('to must be after from');
    await expect(judgeWave({ ...ok, from: 'yesterday' })).rejects.toThrow('from must be an ISO 8601 time, got yesterday');
    await expect(judgeWave({ ...ok, stepSeconds: 0.01 })).rejects.toThrow(/at most 11000 points/);
    expect(await count()).toBe(before);
  });

  it('GET /api/v1/deployments/<id>/verdicts lists them oldest first; samples only when asked', async () => {
    const res = await api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/verdicts`, headers: bearer('viewer') });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { queue_id: number; verdicts: { wave: number; verdict: string; decision: string; metrics: { metric: string; classification: string; control_samples?: unknown }[] }[] };
    expect(body.verdicts.map((v) => [v.wave, v.verdict, v.decision])).toEqual([[0, 'fail', 'halt'], [1, 'marginal', 'pause'], [2, 'pass', 'continue'], [3, 'nodata', 'pause'], [4, 'nodata', 'halt']]);
    expect(body.verdicts[0]!.metrics.map((m) => [m.metric, m.classification])).toEqual([['cpu', 'high'], ['memory', 'pass']]);
    expect(body.verdicts[0]!.metrics[0]!.control_samples).toBeUndefined();
    const full = await api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/verdicts?samples=true`, headers: bearer('viewer') });
    const samples = (full.json() as { verdicts: { metrics: { experiment_samples: number[] }[] }[] }).verdicts[0]!.metrics[0]!.experiment_samples;
    expect(samples.length).toBeGreaterThanOrEqual(8);
    // every sample judged, as stored: the counts are the verdict's, and they are numbers (NaN would be null)
    const first = (full.json() as { verdicts: { metrics: { experiment_count: number; control_count: number; control_samples: number[] }[] }[] }).verdicts[0]!.metrics[0]!;
    expect(samples).toHaveLength(first.experiment_count);
    expect(first.control_samples).toHaveLength(first.control_count);
    expect(samples.every(Number.isFinite)).toBe(true);
    const bad = await api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/verdicts?samples=maybe`, headers: bearer('viewer') });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/samples/);
    const missing = await api.app.inject({ method: 'GET', url: '/api/v1/deployments/2000000000/verdicts', headers: bearer('viewer') });
    expect(missing.statusCode).toBe(404);
  });
});

// The rollout acting on its verdicts, end to end: 9 ubuntu production systems in 3 groups (the canary one per
// group, then waves of 3 spread across the groups), an erratum that passes on the test system and then, by the
// lab's errata fault (`flaky` every 1: a CPU spike on every installation), raises every patched production
// system's CPU by 40 points. The real worker, Temporal, Prometheus scraping the lab's exporters, PostgreSQL.
describe('the rollout acts on its wave verdicts (3 production groups)', { timeout: 300_000 }, () => {
  let t: TestEngine;
  let used = 0;
  const setConfig = async (key: string, value: number) => {
    const res = await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
    expect(res.statusCode, res.body).toBe(200);
  };
  const prod = () => t.lab.fleet.systemsOf('ubuntu', 'prod');
  /** A clean erratum tested and approved on the test system, then made to spike CPU on every later install. */
  const approvedSpiking = async () => {
    const e = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 40)
      .filter((x) => prod().every((s) => t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: s.id }).some((y) => y.id === x.id)))[used++];
    expect(e, 'a clean erratum relevant to every production system').toBeDefined();
    const queueId = await t.queue(e!);
    const handle = await t.tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: t.tw.taskQueue, workflowId: workflowIds.patchTest(queueId),
      args: [{ queueId, requestedBy: 'test', timing: testTiming(t.tw.config), approval: { reminderSeconds: 3600, expirySeconds: 86400 } }],
    });
    await t.untilStatus(workflowIds.patchTest(queueId), 'pending_approval');
    const approved = await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${queueId}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } });
    expect(approved.statusCode, approved.body).toBe(200);
    const fault = await fetch(`${t.lab.uyuni.baseUrl}/lab/errata-faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'flaky', erratumId: e!.id, every: 1 }) });
    expect(fault.status, await fault.clone().text()).toBe(201);
    const deployed = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: queueId } });
    expect(deployed.statusCode, deployed.body).toBe(202);
    return { e: e!, queueId, handle, rollout: t.tw.client.workflow.getHandle<typeof productionDeployment>(`deploy-${queueId}`) };
  };
  const rows = (queueId: number) =>
    t.tw.db.selectFrom('patch_deployments').select(['system_id', 'group_name', 'wave', 'status']).where('queue_id', '=', queueId).orderBy('wave').orderBy('system_id').execute();
  const rolloutHandle = async (queueId: number) => {
    for (let i = 0; i < 200; i++) {
      const h = t.tw.client.workflow.getHandle<typeof productionDeployment>(`deploy-${queueId}`);
      if (await h.describe().then(() => true, () => false)) return h;
      await sleep(200);
    }
    throw new Error(`deploy-${queueId} never started`);
  };
  /** Polls the rollout's status query until `ok` holds. */
  const untilView = async (queueId: number, ok: (v: DeploymentView) => boolean, ms = 120_000): Promise<DeploymentView> => {
    const h = await rolloutHandle(queueId);
    for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(300)) {
      const v = await h.query(deploymentStatusQuery).catch(() => null);
      if (v && ok(v)) return v;
    }
    throw new Error(`deploy-${queueId}: never reached the expected state`);
  };

  beforeAll(async () => {
    t = await startTestEngine('wave_rollout', { fleet: { prodSystemsPerOs: 9, prodGroupsPerOs: 3, prodOverlap: 1 } });
    for (const [key, value] of Object.entries({ 'deploy.verdict': 1, 'deploy.soak_minutes': 0.25, 'deploy.canary_size': 1, 'deploy.wave_size': 3, 'deploy.failure_budget_count': 2, 'deploy.failure_budget_percent': 50 })) {
      await setConfig(key, value);
    }
  }, 240_000);
  afterAll(async () => {
    await fetch(`${t?.lab.uyuni.baseUrl}/lab/errata-faults`, { method: 'DELETE' }).catch(() => undefined);
    await t?.close();
  });

  it('a Fail verdict after the canary halts the rollout: budget intact, every group judged and stored, nothing else touched', async () => {
    const groups = new Set(prod().map((s) => s.group));
    expect(groups.size).toBe(3);
    const { e, queueId, handle } = await approvedSpiking();
    const result: TestResult = await handle.result();
    expect(result.deployment, JSON.stringify(result.deployment)).toMatchObject({ status: 'halted', failed: 0 });
    const view = await (await rolloutHandle(queueId)).query(deploymentStatusQuery);
    expect(view.haltReason).toMatch(/^wave 0 verdict: \S+ fail \(fail: score 50/);
    expect(view.budget).toMatchObject({ used: 0, exceeded: false });
    expect(view.waves.map((w) => w.state)).toEqual(['done', 'skipped', 'skipped']);
    // the canary: one system per group, each patched once; every other system untouched and skipped
    const all = await rows(queueId);
    const canary = all.filter((r) => r.wave === 0);
    expect(new Set(canary.map((r) => r.group_name))).toEqual(groups);
    expect(canary.every((r) => r.status === 'applied')).toBe(true);
    for (const r of all.filter((x) => x.wave > 0)) {
      expect(r.status, `system ${r.system_id}`).toBe('skipped');
      expect(t.lab.fleet.applyCount(r.system_id, e.id), `system ${r.system_id}`).toBe(0);
    }
    // each group's verdict: cpu high beyond the allowed rise, memory pass; stored with its samples and reason
    expect(view.waves[0]!.verdicts!.map((v) => [v.verdict, v.decision])).toEqual([...groups].map(() => ['fail', 'halt']));
    const res = await t.api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/verdicts?samples=true`, headers: bearer('viewer') });
    expect(res.statusCode, res.body).toBe(200);
    const stored = (res.json() as { verdicts: { wave: number; verdict: string; reason: string; metrics: { metric: string; classification: string; experiment_samples: number[]; control_samples: number[]; estimate: number | null; p: number | null }[] }[] }).verdicts;
    expect(stored).toHaveLength(3);
    for (const v of stored) {
      expect(v).toMatchObject({ wave: 0, verdict: 'fail' });
      expect(v.reason).toMatch(/changes from own baselines/);
      const cpu = v.metrics.find((m) => m.metric === 'cpu')!;
      expect(cpu.classification, v.reason).toBe('high');
      expect(cpu.estimate!, v.reason).toBeGreaterThan(15);
      expect(cpu.experiment_samples.length).toBeGreaterThanOrEqual(5);
      expect(cpu.control_samples.length).toBeGreaterThanOrEqual(10);
      expect(v.metrics.find((m) => m.metric === 'memory')!.classification, v.reason).toBe('pass');
    }
    expect(await t.queueStatus(queueId)).not.toBe('completed');
    // the halted rollout's rollback restores the canaries (and their CPU: the lab's effect goes with the erratum)
    const rb = await t.api.app.inject({ method: 'POST', url: `/api/v1/deployments/${queueId}/rollback`, headers: bearer('operator'), payload: { reason: 'verdict fail' } });
    expect(rb.statusCode, rb.body).toBe(202);
    await t.tw.client.workflow.getHandle(workflowIds.deploymentRollback(queueId)).result();
    for (const r of canary) expect(t.lab.fleet.metrics(r.system_id).cpuPercent, `system ${r.system_id}`).toBeLessThan(40);
  });

  it('a Marginal verdict pauses the rollout for a person: nothing more is patched until approved; reminders meanwhile; a rejection halts', async () => {
    await setConfig('verdict.marginal_score', 50); // cpu high + memory pass = 50: marginal
    await setConfig('verdict.marginal_reminder_hours', 0.001); // 3.6 s
    try {
      const { e, queueId, handle } = await approvedSpiking();
      const paused = await untilView(queueId, (v) => v.verdictPause?.waiting === true);
      const waiting = paused.verdictPause!;
      expect(paused.waves[0]!.verdicts!.at(-1)).toMatchObject({ verdict: 'marginal', decision: 'pause', verdictId: waiting.verdictId });
      // paused: a reminder goes out, and no system of a later wave is touched meanwhile
      const reminded = await untilView(queueId, (v) => (v.verdictPause?.reminders ?? 0) >= 1, 30_000);
      expect(reminded.verdictPause).toMatchObject({ verdictId: waiting.verdictId, waiting: true });
      const later = (await rows(queueId)).filter((r) => r.wave > 0);
      expect(later.every((r) => r.status === 'pending' && t.lab.fleet.applyCount(r.system_id, e.id) === 0)).toBe(true);
      // each reminder is a deployment.verdict_paused event, counted on the verdict
      expect((await t.tw.db.selectFrom('verdicts').select('reminders').where('id', '=', waiting.verdictId).executeTakeFirstOrThrow()).reminders).toBeGreaterThanOrEqual(1);
      // a decision needs a person; then continue, recorded before it takes effect
      const rollout = await rolloutHandle(queueId);
      await expect(rollout.executeUpdate(verdictDecideUpdate, { args: [{ verdictId: waiting.verdictId, decision: 'continue', by: ' ' }] })).rejects.toThrow();
      const decided = await rollout.executeUpdate(verdictDecideUpdate, { args: [{ verdictId: waiting.verdictId, decision: 'continue', by: 'alice', reason: 'expected: the new build warms a cache' }] });
      expect(decided).toEqual({ verdictId: waiting.verdictId, decision: 'continue', by: 'alice' });
      const row = await t.tw.db.selectFrom('verdicts').select(['decided', 'decided_by', 'decided_reason']).where('id', '=', waiting.verdictId).executeTakeFirstOrThrow();
      expect(row).toEqual({ decided: 'continue', decided_by: 'alice', decided_reason: 'expected: the new build warms a cache' });
      // every further marginal verdict waits again; continue through the canary's groups, then reject at wave 1
      let last = waiting.verdictId;
      for (;;) {
        const v = await untilView(queueId, (x) => x.verdictPause?.waiting === true && x.verdictPause.verdictId !== last);
        const id = v.verdictPause!.verdictId;
        const wave = v.waves.find((w) => w.verdicts?.some((x) => x.verdictId === id))!.wave;
        if (wave === 0) {
          await rollout.executeUpdate(verdictDecideUpdate, { args: [{ verdictId: id, decision: 'continue', by: 'alice' }] });
          last = id;
          continue;
        }
        expect(wave).toBe(1);
        // the API's route for the person's decision: an operator may not take it; an approver rejects
        const url = `/api/v1/deployments/${queueId}/verdicts/${id}/decision`;
        expect((await t.api.app.inject({ method: 'POST', url, headers: bearer('operator'), payload: { decision: 'halt' } })).statusCode).toBe(403);
        const wrong = await t.api.app.inject({ method: 'POST', url: `/api/v1/deployments/${queueId}/verdicts/${waiting.verdictId}/decision`, headers: bearer('approver'), payload: { decision: 'halt' } });
        expect(wrong.statusCode, wrong.body).toBe(409);
        const res = await t.api.app.inject({ method: 'POST', url, headers: bearer('approver'), payload: { decision: 'halt', reason: 'not worth the risk' } });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ queue_id: queueId, verdict_id: id, decision: 'halt' });
        break;
      }
      const result: TestResult = await handle.result();
      expect(result.deployment).toMatchObject({ status: 'halted', failed: 0 });
      const view = await rollout.query(deploymentStatusQuery);
      expect(view.haltReason).toMatch(/^wave 1 verdict: \S+ marginal, halted by \S+ \(not worth the risk\)$/);
      expect(view.waves.map((w) => w.state)).toEqual(['done', 'done', 'skipped']);
      for (const r of (await rows(queueId)).filter((x) => x.wave === 2)) {
        expect(r.status).toBe('skipped');
        expect(t.lab.fleet.applyCount(r.system_id, e.id)).toBe(0);
      }
    } finally {
      await setConfig('verdict.marginal_score', 75);
      await setConfig('verdict.marginal_reminder_hours', 4);
    }
  });
});
