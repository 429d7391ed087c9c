import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testTimingInUse } from '../../activities/patch-test/settings.js';
import { approvalPolicy } from '../../db/queries/orchestrator-config.js';
import type { Erratum } from '../../lab/fleet/index.js';
import { claimAndStartBundle, loadBundleSettings } from '../../temporal/bundles.js';
import type { BundleTestResult } from '../../workflows/bundle.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig, uniqueTaskQueue } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { FAST_TIMING } from '../support/test-engine.js';
import { waitUntil, WorkerProcess } from '../support/worker-process.js';

// Issue 11: the worker SIGKILLed in the middle of a bisection (while the halves run, and again while the
// failing half's halves run) resumes it without repeating a finished run: every run applied its errata once.
describe('a bisection survives SIGKILL of its worker', () => {
  let lab: FullLab;
  let api: TestApi;
  let connection: Connection;
  let client: Client;
  let worker: WorkerProcess;
  const taskQueue = uniqueTaskQueue('bisect-crash');

  beforeAll(async () => {
    lab = await startFullLab({ testSystemsPerOs: 2 });
    const DB_NAME = await isolatedDatabase('bisect_crash');
    const config = testConfig({ DB_NAME, ...lab.env });
    const env: Record<string, string> = {
      ...lab.env, ...FAST_TIMING, DB_NAME, DB_HOST: config.db.host, DB_PORT: String(config.db.port), DB_USER: config.db.user,
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_PASSWORD: 'lab-admin-password', UYUNI_SYNC_ON_START: 'false',
      WORKER_MANAGE_SCHEDULES: 'false', UYUNI_RETRY_INITIAL_SECONDS: '0.2', WORKER_METRICS_PORT: '0', WORKER_SHUTDOWN_GRACE_SECONDS: '0',
      WORKER_WORKFLOW_BUNDLE: inject('workflowBundlePath'), LOG_LEVEL: 'warn', DOTENV_PATH: '/nonexistent',
    };
    api = await startTestApi(env);
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS as string });
    client = new Client({ connection });
    worker = new WorkerProcess(env);
    worker.start();
    await client.workflow.execute('uyuniSync', { taskQueue, workflowId: `bisect-crash-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
    for (const [key, value] of Object.entries({ 'test.settle_seconds': 5, 'bundle.max_size': 4, 'bundle.alone_below_score': 0, 'bundle.failure_prior_percent': 0.5, 'bundle.recent_runs': 0 })) {
      const put = await api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
      expect(put.statusCode, put.body).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 12_000)); // Prometheus fills its rate() windows for the new exporters
  }, 180_000);

  afterAll(async () => {
    await worker?.kill();
    await connection?.close();
    await api?.close();
    await lab?.close();
  });

  it('killed while the halves run and again below them: it finishes, every run applied once, the culprit blamed', async () => {
    const systems = lab.fleet.systemsOf('ubuntu', 'test');
    const relevant = systems.map((s) => new Set(lab.fleet.findErrata({ os: 'ubuntu', relevantTo: s.id }).map((e) => e.id)));
    const forAll = (q: Parameters<FullLab['fleet']['findErrata']>[0]) => lab.fleet.findErrata({ os: 'ubuntu', relevantTo: 'test', ...q }).filter((e) => relevant.every((r) => r.has(e.id)));
    const bad = forAll({ personality: 'cpu_spike' })[0]!;
    const sources = new Set([bad.source]);
    const clean: Erratum[] = [];
    for (const e of forAll({ personality: 'none', kernel: false, rebootSuggested: false })) {
      if (clean.length >= 3 || sources.has(e.source)) continue;
      clean.push(e);
      sources.add(e.source);
    }
    const errata = [bad, ...clean];
    const ids: number[] = [];
    for (const [i, e] of errata.entries()) {
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName], priority_override: i + 1 } });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().items[0].id);
    }
    const started = await claimAndStartBundle(api.db, client, api.config, {
      requestedBy: 'crash-test', approval: await approvalPolicy(api.db, api.config.approval), timing: await testTimingInUse(api.db, api.config), settings: await loadBundleSettings(api.db),
    });
    if (!started.started) throw new Error(started.reason);
    expect(started.members).toEqual(ids);
    const rootId = started.bundleId!;
    const nodes = () => api.db.selectFrom('test_bundles').selectAll().where((eb) => eb.or([eb('id', '=', rootId), eb('root_id', '=', rootId)])).orderBy('id').execute();
    const running = async (depth: number) => (await nodes()).some((n) => n.workflow_id.split('.').length === depth + 1 && n.status === 'running');

    await waitUntil('a half running', () => running(1), worker, 180_000);
    await worker.restart();
    await waitUntil('a quarter running', () => running(2), worker, 240_000);
    await worker.restart();

    const result = (await client.workflow.getHandle(started.workflowId).result()) as BundleTestResult;
    expect(result.verdicts?.[ids[0]!]?.verdict, JSON.stringify(result.verdicts)).toBe('rolled_back');
    for (const id of ids.slice(1)) expect(result.verdicts?.[id]?.verdict).toBe('passed');
    const all = await nodes();
    // root, two halves (at once: the other test system is spare), the failing half's two halves: five runs, none
    // repeated (halves started together are numbered in the tree, not in the order their rows were written)
    expect(all.map((n) => n.workflow_id.replace(`bundle-${rootId}`, 'root')).sort()).toEqual(['root', 'root.1', 'root.1.1', 'root.1.2', 'root.2']);
    expect(all.every((n) => n.status !== 'running' && n.test_id !== null)).toBe(true);
    const tests = await api.db.selectFrom('patch_tests').select(['id', 'bundle_id']).where('bundle_id', 'in', all.map((n) => n.id)).execute();
    expect(tests).toHaveLength(5);
    for (const [i, e] of errata.entries()) {
      const runs = all.filter((n) => n.member_ids.includes(ids[i]!)).length;
      const attempts = lab.fleet.applyRecords().filter((r) => r.erratumId === e.id).reduce((s, r) => s + r.applied + r.failed, 0);
      expect(attempts, `${e.advisoryName} over ${runs} runs`).toBe(runs);
    }
    expect(lab.uyuni.stats.count('system.scheduleApplyErrata')).toBe(5);
  }, 480_000);
});
