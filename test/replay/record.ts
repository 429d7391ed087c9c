import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIntelNow } from '../../temporal/intel.js';
import { testTiming } from '../../temporal/tests.js';
import { claimAndStartBundle, loadBundleSettings } from '../../temporal/bundles.js';
import type { BundleTestResult } from '../../workflows/bundle.js';
import type { deploymentRollback, patchTest, uyuniSync } from '../../workflows/index.js';
import { deploymentStatusQuery, testStatusQuery, workflowIds, type ApprovalPolicy } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';
import { HISTORIES_DIR, MANIFEST, SCENARIOS, type Manifest, type ManifestEntry, type Scenario } from './histories.js';

// `npm run replay:record` (not part of `npm test`): runs each representative scenario on a real worker against
// the real Temporal dev server, PostgreSQL, Prometheus and the lab, through the API where a person would act,
// then stores the history of every workflow run the scenario started (test/replay/histories/). Re-record after
// a deliberate, versioned change to workflow code (see the README, "Replay tests").
const TIMING = {
  TEST_SETTLE_SECONDS: '1', TEST_METRICS_RANGE_SECONDS: '2', TEST_METRICS_WINDOW_SECONDS: '3', TEST_POLL_SECONDS: '0.3', TEST_LEASE_WAIT_SECONDS: '1',
};
const PATIENT: ApprovalPolicy = { reminderSeconds: 3600, expirySeconds: 7 * 86400 };

describe('record the replay histories', () => {
  let lab: FullLab;
  let tw: TestWorker;
  let api: TestApi;
  const recorded: ManifestEntry[] = [];
  const seen = new Set<string>();

  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, role: 'operator' | 'approver' | 'admin', payload?: object) =>
    api.app.inject({ method, url, headers: bearer(role), ...(payload ? { payload } : {}) });
  const queue = async (advisoryName: string): Promise<number> => {
    const res = await inject('POST', '/api/v1/queue', 'operator', { advisories: [advisoryName] });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().items[0].id;
  };
  const startTest = (queueId: number, approval?: ApprovalPolicy): Promise<WorkflowHandle<typeof patchTest>> =>
    tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: tw.taskQueue, workflowId: workflowIds.patchTest(queueId),
      args: [{ queueId, requestedBy: 'replay-recording', timing: testTiming(tw.config), ...(approval ? { approval } : {}) }],
    });
  const untilPending = async (handle: WorkflowHandle<typeof patchTest>) => {
    for (let i = 0; i < 900; i++) {
      const v = await handle.query(testStatusQuery);
      if (v.status === 'pending_approval') return;
      if (['failed', 'rolled_back'].includes(v.status)) throw new Error(`the test did not pass: ${JSON.stringify(v.failure)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the test never waited for a decision');
  };
  const clean = (os: 'rhel' | 'ubuntu', skip: number) =>
    lab.fleet.findErrata({ os, personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 40)[skip]!;

  /**
   * Every run the scenario started (on this worker's task queue, not stored yet), once all have closed and the
   * visibility store (eventually consistent) lists the same runs twice in a row.
   */
  async function store(scenario: Scenario, client: Client): Promise<void> {
    const query = `TaskQueue="${tw.taskQueue}"`;
    let runs: WorkflowExecutionInfo[] = [];
    let previous = '';
    for (let i = 0; ; i++) {
      runs = [];
      for await (const w of client.workflow.list({ query })) if (!seen.has(w.runId)) runs.push(w);
      const key = runs.map((w) => `${w.runId}:${w.status.name}`).sort().join(',');
      if (runs.length > 0 && runs.every((w) => w.status.name !== 'RUNNING') && key === previous) break;
      previous = key;
      if (i > 600) throw new Error(`${scenario}: runs not all closed: ${key || 'none listed'}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    const perType = new Map<string, number>();
    for (const w of runs) {
      seen.add(w.runId);
      const n = (perType.get(w.type) ?? 0) + 1;
      perType.set(w.type, n);
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const file = `${scenario}.${w.type}${n > 1 ? `-${n}` : ''}.json`;
      writeFileSync(path.join(HISTORIES_DIR, file), `${historyToJSON(history)}\n`);
      recorded.push({ file, scenario, workflowType: w.type, workflowId: w.workflowId, status: w.status.name, events: history.events?.length ?? 0 });
    }
  }

  beforeAll(async () => {
    lab = await startFullLab({ prodSystemsPerOs: 10, prodOverlap: 1 });
    const DB_NAME = await isolatedDatabase('replay');
    tw = await startTestWorker(testConfig({ DB_NAME, ...lab.env, ...TIMING }), 'replay');
    api = await startTestApi({ DB_NAME, ...lab.env, ...TIMING, TEMPORAL_TASK_QUEUE: tw.taskQueue });
    mkdirSync(HISTORIES_DIR, { recursive: true });
    // Histories of an old path kept behind patched() (scenario legacy-*) are not recorded again: the current
    // code cannot produce them. They stay, with their manifest entries, until the patch is deprecated.
    const kept = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest).histories.filter((h) => h.scenario.startsWith('legacy-')) : [];
    recorded.push(...kept);
    for (const f of readdirSync(HISTORIES_DIR)) if (f.endsWith('.json') && f !== 'manifest.json' && !kept.some((h) => h.file === f)) rmSync(path.join(HISTORIES_DIR, f));
  });
  afterAll(async () => {
    await api?.close();
    await tw?.close();
    await lab?.close();
  });

  it('sync', async () => {
    const summary = await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: tw.taskQueue, workflowId: `replay-sync-${tw.taskQueue}`, args: [{ trigger: 'manual' }] });
    expect(summary.errata).toBeGreaterThan(0);
    await store('sync', tw.client);
    for (const [key, value] of [['deploy.soak_minutes', 0.02], ['deploy.wave_size', 3], ['deploy.failure_budget_count', 2], ['deploy.failure_budget_percent', 50]] as const) {
      const res = await inject('PUT', `/api/v1/config/${key}`, 'admin', { value });
      expect(res.statusCode, res.body).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 6_000)); // Prometheus scrapes the new exporters a few times
  });

  it('intel', async () => {
    const summary = await runIntelNow(tw.client, tw.config, { trigger: 'test', force: true });
    expect(summary).toMatchObject({ errors: [], nvd: { mode: 'window' }, kev: { refreshed: true } });
    await store('intel', tw.client);
  });

  it('deploy-halt-rollback', async () => {
    const queueId = await queue(clean('ubuntu', 0).advisoryName);
    const handle = await startTest(queueId, PATIENT);
    await untilPending(handle);
    expect((await inject('POST', `/api/v1/approvals/${queueId}/approve`, 'approver', { reason: 'clean test' })).statusCode).toBe(200);
    // systems 2-4 (the first wave after the canary) have a broken cron: 3 failures > a budget of 2
    for (const s of lab.fleet.systemsOf('ubuntu', 'prod').slice(1, 4)) lab.fleet.setServiceState(s.id, 'cron', false);
    const deployed = await inject('POST', '/api/v1/deployments', 'operator', { queue_id: queueId });
    expect(deployed.statusCode, deployed.body).toBe(202);
    expect((await handle.result()).deployment).toMatchObject({ status: 'halted', applied: 1, failed: 3 });
    const rb = await inject('POST', `/api/v1/deployments/${queueId}/rollback`, 'operator', { reason: 'failure budget' });
    expect(rb.statusCode, rb.body).toBe(202);
    expect(await tw.client.workflow.getHandle<typeof deploymentRollback>(rb.json().workflow_id).result()).toMatchObject({ rolledBack: 4, failed: 0 });
    // The README's runbook query: `temporal workflow list --query 'QueueId=<id>'` finds every run of the item.
    const ofItem = new Set<string>();
    for (let i = 0; i < 50 && ofItem.size < 3; i++) {
      for await (const w of tw.client.workflow.list({ query: `QueueId=${queueId}` })) ofItem.add(w.type);
      if (ofItem.size < 3) await new Promise((r) => setTimeout(r, 200));
    }
    expect([...ofItem].sort()).toEqual(['deploymentRollback', 'patchTest', 'productionDeployment']);
    await store('deploy-halt-rollback', tw.client);
  });

  it('deploy-operator-halt', async () => {
    for (const s of lab.fleet.systemsOf('ubuntu', 'prod')) lab.fleet.setServiceState(s.id, 'cron', true);
    expect((await inject('PUT', '/api/v1/config/deploy.soak_minutes', 'admin', { value: 5 })).statusCode).toBe(200);
    const queueId = await queue(clean('ubuntu', 1).advisoryName);
    const handle = await startTest(queueId, PATIENT);
    await untilPending(handle);
    expect((await inject('POST', `/api/v1/approvals/${queueId}/approve`, 'approver', { reason: 'clean test' })).statusCode).toBe(200);
    expect((await inject('POST', '/api/v1/deployments', 'operator', { queue_id: queueId })).statusCode).toBe(202);
    const rollout = tw.client.workflow.getHandle(workflowIds.deployment(queueId));
    for (let i = 0; i < 600 && (await rollout.query(deploymentStatusQuery).catch(() => null))?.waves[0]?.state !== 'done'; i++) await new Promise((r) => setTimeout(r, 100));
    const halted = await inject('POST', `/api/v1/deployments/${queueId}/halt`, 'operator', { reason: 'change freeze' });
    expect(halted.statusCode, halted.body).toBeLessThan(300);
    expect((await handle.result()).deployment).toMatchObject({ status: 'halted', applied: 1, failed: 0 });
    const rb = await inject('POST', `/api/v1/deployments/${queueId}/rollback`, 'operator', { reason: 'after the halt' });
    expect(rb.statusCode, rb.body).toBe(202);
    expect(await tw.client.workflow.getHandle<typeof deploymentRollback>(rb.json().workflow_id).result()).toMatchObject({ rolledBack: 1, failed: 0 });
    await store('deploy-operator-halt', tw.client);
  });

  it('rolled-back-test', async () => {
    const e = lab.fleet.findErrata({ os: 'rhel', personality: 'stop_service', relevantTo: 'test' }, 20).find((x) => x.stopsService === 'crond')!;
    const result = await (await startTest(await queue(e.advisoryName), PATIENT)).result();
    expect(result).toMatchObject({ status: 'rolled_back', failure: { phase: 'services' }, rollbackVerified: true });
    await store('rolled-back-test', tw.client);
  });

  it('expired-approval', async () => {
    const handle = await startTest(await queue(clean('rhel', 1).advisoryName), { reminderSeconds: 1, expirySeconds: 4 });
    expect(await handle.result()).toMatchObject({ status: 'expired', undone: { ok: true } });
    await store('expired-approval', tw.client);
  });

  it('bundle-bisect', async () => {
    for (const [key, value] of Object.entries({ 'bundle.max_size': 4, 'bundle.alone_below_score': 0, 'bundle.failure_prior_percent': 0.5, 'bundle.recent_runs': 0, 'test.settle_seconds': 5 })) {
      expect((await inject('PUT', `/api/v1/config/${key}`, 'admin', { value })).statusCode).toBe(200);
    }
    const sys = lab.fleet.systemsOf('ubuntu', 'test')[0]!;
    const bad = lab.fleet.findErratum({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: sys.id })!;
    const sources = new Set([bad.source]);
    const errata = [bad];
    for (const e of lab.fleet.findErrata({ os: 'ubuntu', personality: 'none', relevantTo: sys.id, rebootSuggested: false, kernel: false }, 60)) {
      if (errata.length >= 4 || sources.has(e.source)) continue;
      errata.push(e);
      sources.add(e.source);
    }
    for (const [i, e] of errata.entries()) expect((await inject('POST', '/api/v1/queue', 'operator', { advisories: [e.advisoryName], priority_override: i + 1 })).statusCode).toBe(201);
    const started = await claimAndStartBundle(api.db, tw.client, tw.config, { requestedBy: 'replay-recording', timing: testTiming(tw.config, { settleSeconds: 5 }), settings: await loadBundleSettings(api.db) });
    if (!started.started) throw new Error(started.reason);
    const result = (await tw.client.workflow.getHandle(started.workflowId).result()) as BundleTestResult;
    expect(Object.values(result.verdicts ?? {}).map((v) => v.verdict).sort(), JSON.stringify(result.verdicts)).toEqual(['passed', 'passed', 'passed', 'rolled_back']);
    await store('bundle-bisect', tw.client);
  });

  it('writes the manifest', () => {
    expect(new Set(recorded.map((r) => r.scenario))).toEqual(new Set(Object.keys(SCENARIOS)));
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const manifest: Manifest = { recordedAt: new Date().toISOString(), commit, histories: recorded };
    writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  });
});
