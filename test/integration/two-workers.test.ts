import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { freePort } from '../../lab/temporal-dev-server.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { testStatusQuery, workflowIds, type TestResult } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, uniqueTaskQueue } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { waitFor } from '../support/node-process.js';
import { FAST_TIMING } from '../support/test-engine.js';
import { WorkerProcess } from '../support/worker-process.js';

// Two worker processes (`node --import tsx worker.ts`, as systemd would run two hosts) on ONE task queue run
// the lab together: a sync, six tests contending for two test systems per OS, an approval and a production
// rollout over the production systems the erratum is relevant to. Whoever runs which activity, the invariants hold: one lease per test system at a time, one UYUNI
// action per system and erratum, one UYUNI (and salt-api) login per process.

const TESTS_PER_OS = 3;

/** `name{labels} value` → value, from one process's /metrics. */
async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const sumOf = (m: Map<string, number>, prefix: string) => [...m].filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);

describe('two worker processes on one task queue', () => {
  let lab: FullLab;
  let api: TestApi;
  let connection: Connection;
  let client: Client;
  let taskQueue: string;
  const workers: { proc: WorkerProcess; port: number }[] = [];

  beforeAll(async () => {
    lab = await startFullLab({ testSystemsPerOs: 2, prodSystemsPerOs: 10, prodOverlap: 1 });
    const DB_NAME = await isolatedDatabase('twoworkers');
    taskQueue = uniqueTaskQueue('two-workers');
    const env = {
      DB_NAME, ...lab.env, ...FAST_TIMING, TEST_SETTLE_SECONDS: '2',
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue,
      UYUNI_PASSWORD: 'lab-admin-password',
      // The Schedule and the dispatcher have fixed ids in the shared namespace: this file starts its workflows itself.
      WORKER_MANAGE_SCHEDULES: 'false', UYUNI_SYNC_ON_START: 'false',
      WORKER_WORKFLOW_BUNDLE: inject('workflowBundlePath'), WORKER_SHUTDOWN_GRACE_SECONDS: '5',
      DOTENV_PATH: '/dev/null', LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const proc = new WorkerProcess({ ...env, WORKER_METRICS_PORT: String(port) });
      proc.start();
      workers.push({ proc, port });
    }
    for (const w of workers) await waitFor2(`worker on ${w.port} ready`, async () => (await fetch(`http://127.0.0.1:${w.port}/readyz`)).status === 200, w.proc);
    api = await startTestApi({ ...env, LOG_LEVEL: 'silent' });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
    // A short soak and waves of 4, so the rollout (canary, soak, waves) takes seconds.
    for (const [key, value] of [['deploy.soak_minutes', 0.02], ['deploy.wave_size', 4]] as const) {
      const res = await api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
      expect(res.statusCode, res.body).toBe(200);
    }
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `two-workers-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
    await new Promise((r) => setTimeout(r, 12_000)); // Prometheus scrapes the new exporters: full rate() windows
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await connection?.close();
    for (const w of workers) await w.proc.kill();
    await lab?.close();
  });

  it('sync, six tests over four test systems, an approval and a rollout: every invariant intact', async () => {
    const picked = (['rhel', 'ubuntu'] as const).flatMap((os) =>
      lab.fleet.findErrata({ os, personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 40).slice(0, TESTS_PER_OS),
    );
    expect(picked).toHaveLength(2 * TESTS_PER_OS);
    const items: { queueId: number; erratumId: number; os: string; handle: WorkflowHandle<typeof patchTest> }[] = [];
    for (const e of picked) {
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
      expect(res.statusCode, res.body).toBe(201);
      for (const item of res.json().items as { id: number; target_os: string }[]) {
        const withApproval = items.length === 0; // the first one waits for a decision, then rolls out
        const handle = await client.workflow.start<typeof patchTest>('patchTest', {
          taskQueue, workflowId: workflowIds.patchTest(item.id),
          args: [{ queueId: item.id, requestedBy: 'test', timing: testTiming(api.config), ...(withApproval ? { approval: { reminderSeconds: 3600, expirySeconds: 86400 } } : {}) }],
        });
        items.push({ queueId: item.id, erratumId: e.id, os: item.target_os, handle });
      }
    }
    const [approvalItem, ...plain] = items;
    // A rollout that hangs would only show as a timeout: say where each item is, every 30 s.
    const progress = setInterval(() => {
      void Promise.all(items.map((i) => i.handle.query(testStatusQuery).then((v) => `${i.queueId}:${v.status}/${(v as { phase?: string }).phase ?? ''}`).catch((e: Error) => `${i.queueId}:${e.message.slice(0, 80)}`))).then((v) =>
        process.stderr.write(`[two-workers] ${v.join(' ')}\n`),
      );
    }, 30_000);
    onTestFinished(() => clearInterval(progress));
    for (let i = 0; i < 1200 && (await approvalItem!.handle.query(testStatusQuery)).status !== 'pending_approval'; i++) await new Promise((r) => setTimeout(r, 100));
    const approved = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${approvalItem!.queueId}/approve`, headers: bearer('approver'), payload: { reason: 'two workers' } });
    expect(approved.statusCode, approved.body).toBe(200);
    const deploy = await api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: approvalItem!.queueId } });
    expect(deploy.statusCode, deploy.body).toBe(202);

    const results: TestResult[] = await Promise.all(plain.map((p) => p.handle.result()));
    expect(results.map((r) => r.status)).toEqual(plain.map(() => 'passed'));
    const rollout = await approvalItem!.handle.result();
    expect(rollout.status).toBe('approved');
    const targets = rollout.deployment!.targets;
    expect(targets).toBeGreaterThanOrEqual(5); // the production systems the erratum is relevant to
    expect(rollout.deployment).toMatchObject({ status: 'completed', applied: targets, failed: 0 });

    // Both processes did the work (activities and UYUNI calls on each).
    const scraped = await Promise.all(workers.map((w) => scrape(w.port)));
    for (const [i, m] of scraped.entries()) {
      expect(sumOf(m, 'temporal_activity_execution_latency_count'), `worker ${i} ran activities`).toBeGreaterThan(0);
      expect(sumOf(m, 'spm_external_calls_total{system="uyuni"'), `worker ${i} called UYUNI`).toBeGreaterThan(0);
    }

    // One login per process: each process logged in once to UYUNI and at most once to salt-api, and the
    // lab saw exactly those logins.
    const uyuniLogins = scraped.map((m) => m.get('spm_external_calls_total{system="uyuni",method="auth.login",outcome="ok"}') ?? 0);
    expect(uyuniLogins).toEqual([1, 1]);
    const uyuniStats = (await (await fetch(`${lab.uyuni.url.replace(/\/rpc\/api$/, '')}/lab/stats`)).json()) as { calls: Record<string, number>; logins: number };
    expect(uyuniStats.calls['auth.login']).toBe(2);
    const saltLogins = scraped.map((m) => m.get('spm_external_calls_total{system="salt",method="/login",outcome="ok"}') ?? 0);
    for (const n of saltLogins) expect(n).toBeLessThanOrEqual(1);
    const saltStats = (await (await fetch(`${lab.salt.url}/lab/stats`)).json()) as { logins: number };
    expect(saltStats.logins).toBe(saltLogins.reduce((a, b) => a + b, 0));
    expect(saltStats.logins).toBeGreaterThanOrEqual(1);

    // One UYUNI action per system and erratum: each test's erratum applied once on its test system, the rolled
    // out erratum once on each production system it targeted, never on the others.
    const tests = await api.db.selectFrom('patch_tests').select(['id', 'queue_id', 'test_system_id']).where('queue_id', 'in', items.map((i) => i.queueId)).execute();
    expect(tests).toHaveLength(items.length);
    for (const t of tests) {
      const item = items.find((i) => i.queueId === t.queue_id)!;
      expect(lab.fleet.applyCount(t.test_system_id!, item.erratumId), `erratum ${item.erratumId} on test system ${t.test_system_id}`).toBe(1);
    }
    const deployed = new Set((await api.db.selectFrom('patch_deployments').select('system_id').where('queue_id', '=', approvalItem!.queueId).execute()).map((r) => r.system_id));
    expect(deployed.size).toBe(targets);
    for (const s of lab.fleet.systemsOf(approvalItem!.os as 'rhel' | 'ubuntu', 'prod')) {
      expect(lab.fleet.applyCount(s.id, approvalItem!.erratumId), s.name).toBe(deployed.has(s.id) ? 1 : 0);
    }

    // One lease per test system: on each system, from the lease to the test's last phase, no two tests overlap.
    const phases = await api.db.selectFrom('patch_test_phases').select(['test_id', 'phase', 'started_at', 'completed_at']).where('test_id', 'in', tests.map((t) => t.id)).execute();
    const spans = tests.map((t) => {
      const own = phases.filter((p) => p.test_id === t.id);
      const lease = own.find((p) => p.phase === 'lease')!;
      const end = Math.max(...own.map((p) => (p.completed_at ?? new Date()).getTime()));
      return { system: t.test_system_id!, from: lease.completed_at!.getTime(), to: end, test: t.id };
    });
    const systems = new Set(spans.map((s) => s.system));
    expect(systems.size).toBe(4); // all four test systems were used
    for (const system of systems) {
      const own = spans.filter((s) => s.system === system).sort((a, b) => a.from - b.from);
      for (let i = 1; i < own.length; i++) expect(own[i]!.from, `tests ${own[i - 1]!.test} and ${own[i]!.test} on system ${system}`).toBeGreaterThanOrEqual(own[i - 1]!.to);
    }
    const leased = await api.db.selectFrom('test_systems').select(['system_id', 'leased_by']).where('leased_by', 'is not', null).execute();
    expect(leased).toEqual([]);
  }, 300_000);
});

async function waitFor2(what: string, predicate: () => Promise<boolean>, proc: WorkerProcess): Promise<void> {
  await waitFor(what, predicate, () => proc.tail(), 120_000);
}
