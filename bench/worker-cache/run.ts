import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startExportersOnFreePort } from '../../lab/exporter/index.js';
import { Fleet } from '../../lab/fleet/index.js';
import { startPrometheusApi } from '../../lab/prometheus/index.js';
import { startSaltLab } from '../../lab/salt/index.js';
import { freePort, startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { startUyuniLab } from '../../lab/uyuni/server.js';
import type { patchTest, queuePatches, uyuniSync } from '../../workflows/index.js';
import { testStatusQuery, workflowIds, type TestTiming } from '../../workflows/messages.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { startTs, type Child } from '../support/processes.js';

// bench/worker-cache: the memory one cached workflow costs a worker, for sizing WORKER_MAX_CACHED_WORKFLOWS.
// The workflows are what production keeps open longest: patchTest runs that passed and wait for a decision.
//   npx tsx bench/worker-cache/run.ts [N=100]
//   npx tsx bench/worker-cache/run.ts --small   (N=4: checks it still runs; .ci/run)
// 1. a worker runs N patchTests on N lab test systems until each waits for approval; it stops;
// 2. a fresh worker (cache N + 10) starts; its RSS is read once idle;
// 3. one query per workflow makes that worker replay each into its sticky cache (temporal_sticky_cache_size = N);
// 4. a tenth first (the workflow thread's warm-up), RSS, then the rest, RSS: the difference over their number is
//    the memory per cached workflow.

const N = SMALL ? 4 : Number(positional()[0] ?? 100);
const TIMING: TestTiming = {
  settleSeconds: 1, metricsRangeSeconds: 2, metricsWindowSeconds: 2, pollSeconds: 0.2,
  actionTimeoutSeconds: 60, rebootTimeoutSeconds: 30, leaseWaitSeconds: 1, baselineTimeoutSeconds: 30,
};
const DB = 'spm_bench_worker_cache';
const BUNDLE = '/tmp/spm-bench-worker-cache-bundle.js';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** RSS once it stops moving (GC settled): the median of 5 readings a second apart. */
async function steadyRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rssMb(pid));
    await sleep(1_000);
  }
  return xs.sort((a, b) => a - b)[2]!;
}

async function main(): Promise<void> {
  const perOs = Math.ceil(N / 2);
  const fleet = new Fleet({ testSystemsPerOs: perOs, prodSystemsPerOs: 0, actionPickupMs: 100, actionCompleteMs: 200, rebootMs: 500 });
  const uyuni = await startUyuniLab({ fleet });
  const salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 100, snapperMs: 50 } });
  const exporters = await startExportersOnFreePort({ fleet });
  const prometheus = await startPrometheusApi({ fleet, instanceOf: (s) => exporters.instanceOf(s) });
  let server: DevServer | undefined;
  let worker: Child | undefined;
  try {
    const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
    const admin = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${DB}"`);
    await admin.end();
    const taskQueue = `bench-cache-${Date.now()}`;
    const env = {
      ...LAB_CREDENTIALS_ENV, DB_NAME: DB, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_URL: uyuni.url,
      SALT_URL: salt.url, PROMETHEUS_URL: prometheus.url, NODE_EXPORTER_PORT: String(exporters.port),
      UYUNI_SYNC_ON_START: 'false', WORKER_MANAGE_SCHEDULES: 'false', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'warn',
      DOTENV_PATH: '/nonexistent', WORKER_WORKFLOW_BUNDLE: BUNDLE, WORKER_SHUTDOWN_GRACE_SECONDS: '2',
    };
    const migrate = startTs('db/migrate.ts', env);
    await new Promise((r) => migrate.process.once('exit', r));
    const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
    await new Promise((r) => build.process.once('exit', r));
    worker = startTs('worker.ts', { ...env, LOG_LEVEL: 'info' });
    await worker.waitFor((l) => l.includes('worker started'), 120_000);

    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `bench-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
    const picked = new Set<number>();
    const items: { advisoryName: string; targetOs: string }[] = [];
    for (const os of ['ubuntu', 'rhel'] as const) {
      for (const sys of fleet.systemsOf(os, 'test')) {
        if (items.length >= N) break;
        const e = fleet.findErrata({ os, personality: 'none', relevantTo: sys.id, rebootSuggested: false, kernel: false }, 200).find((x) => !picked.has(x.id));
        if (!e) continue;
        picked.add(e.id);
        items.push({ advisoryName: e.advisoryName, targetOs: os });
      }
    }
    const queueIds = await client.workflow.execute<typeof queuePatches>('queuePatches', {
      taskQueue, workflowId: `bench-queue-${taskQueue}`, args: [{ requestId: taskQueue, requestedBy: 'bench', items, priorityOverride: null, notes: null }],
    });
    const handles = await Promise.all(
      queueIds.map((queueId) =>
        client.workflow.start<typeof patchTest>('patchTest', {
          taskQueue, workflowId: workflowIds.patchTest(queueId),
          args: [{ queueId, requestedBy: 'bench', timing: TIMING, approval: { reminderSeconds: 86_400, expirySeconds: 30 * 86_400 } }],
        }),
      ),
    );
    const deadline = Date.now() + 600_000;
    for (const h of handles) {
      while ((await h.query(testStatusQuery)).status !== 'pending_approval') {
        if (Date.now() > deadline) throw new Error(`${h.workflowId} never reached pending_approval`);
        await sleep(250);
      }
    }
    const history = await handles[0]!.fetchHistory();
    await worker.stop();

    // A fresh worker: nothing cached; then every parked workflow replayed into its cache by one query.
    const port = await freePort();
    worker = startTs('worker.ts', { ...env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(port), WORKER_MAX_CACHED_WORKFLOWS: String(N + 10) });
    await worker.waitFor((l) => l.includes('worker started'), 120_000);
    await sleep(3_000);
    const pid = worker.process.pid!;
    const idle = await steadyRss(pid);
    const replay = async (hs: typeof handles) => {
      for (let i = 0; i < hs.length; i += 20) await Promise.all(hs.slice(i, i + 20).map((h) => h.query(testStatusQuery)));
    };
    // The first workflows also pay for the workflow thread's context and JIT warm-up: cache a tenth first,
    // then measure what each further cached workflow adds.
    const warm = Math.max(2, Math.floor(handles.length / 10));
    await replay(handles.slice(0, warm));
    await sleep(2_000);
    const before = await steadyRss(pid);
    const t0 = performance.now();
    await replay(handles.slice(warm));
    const replayMs = performance.now() - t0;
    await sleep(2_000);
    const after = await steadyRss(pid);
    const cached = await metric(port, 'temporal_sticky_cache_size');
    await connection.close();
    if (cached !== handles.length) throw new Error(`expected ${handles.length} cached workflows, the worker reports ${cached}`);

    const measured = handles.length - warm;
    const perWorkflowKb = ((after - before) * 1024) / measured;
    process.stdout.write(
      [
        `bench/worker-cache: ${handles.length} patchTest workflows waiting for approval (${history.events?.length ?? 0} history events each), replayed into a fresh worker's cache`,
        `  cached workflows               ${cached}`,
        `  worker RSS                     idle ${idle.toFixed(0)} MB, ${warm} cached ${before.toFixed(0)} MB, ${handles.length} cached ${after.toFixed(0)} MB`,
        `  memory per cached workflow     ${perWorkflowKb.toFixed(0)} KB (the last ${measured})`,
        `  replay into the cache          ${(replayMs / measured).toFixed(1)} ms per workflow`,
        '',
      ].join('\n'),
    );
  } finally {
    await worker?.stop();
    await server?.stop();
    await prometheus.close();
    await exporters.close();
    await salt.close();
    await uyuni.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/worker-cache: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
