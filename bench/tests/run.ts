import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startExportersOnFreePort } from '../../lab/exporter/index.js';
import { Fleet } from '../../lab/fleet/index.js';
import { startPrometheusApi } from '../../lab/prometheus/index.js';
import { startSaltLab } from '../../lab/salt/index.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { startUyuniLab } from '../../lab/uyuni/server.js';
import type { patchTest, queuePatches, uyuniSync } from '../../workflows/index.js';
import { workflowIds, type TestResult, type TestTiming } from '../../workflows/messages.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { peakRssMb, startTs, type Child } from '../support/processes.js';

// bench/tests: N concurrent patchTest workflows on N lab test systems, the lab's waits shortened.
//   npx tsx bench/tests/run.ts [N=50]
//   npx tsx bench/tests/run.ts --small   (N=4: checks it still runs; .ci/run)
// Prints the wall time, the Temporal overhead per workflow (its duration minus the simulated waits it sat
// through: settle time and the UYUNI action's pickup and completion) and the worker's peak RSS.

const N = SMALL ? 4 : Number(positional()[0] ?? 50);
const PICKUP_MS = 100;
const COMPLETE_MS = 300;
const TIMING: TestTiming = {
  settleSeconds: 2, metricsRangeSeconds: 2, metricsWindowSeconds: 2, pollSeconds: 0.2,
  actionTimeoutSeconds: 60, rebootTimeoutSeconds: 30, leaseWaitSeconds: 1, baselineTimeoutSeconds: 30,
};
const SIMULATED_MS = TIMING.settleSeconds * 1000 + PICKUP_MS + COMPLETE_MS;
const DB = 'spm_bench_tests';
const BUNDLE = '/tmp/spm-bench-workflow-bundle.js';

async function main(): Promise<void> {
  const perOs = Math.ceil(N / 2);
  const fleet = new Fleet({ testSystemsPerOs: perOs, prodSystemsPerOs: 0, actionPickupMs: PICKUP_MS, actionCompleteMs: COMPLETE_MS, rebootMs: 500 });
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
    const taskQueue = `bench-tests-${Date.now()}`;
    const env = {
      ...LAB_CREDENTIALS_ENV, DB_NAME: DB, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_URL: uyuni.url,
      SALT_URL: salt.url, PROMETHEUS_URL: prometheus.url, NODE_EXPORTER_PORT: String(exporters.port),
      UYUNI_SYNC_ON_START: 'false', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'info', DOTENV_PATH: '/nonexistent', WORKER_WORKFLOW_BUNDLE: BUNDLE,
    };
    const migrate = startTs('db/migrate.ts', env);
    await new Promise((r) => migrate.process.once('exit', r));
    const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
    await new Promise((r) => build.process.once('exit', r));
    worker = startTs('worker.ts', env);
    await worker.waitFor((l) => l.includes('worker started'), 120_000);

    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `bench-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });

    // One clean erratum per test system, relevant to it (and maybe others: the lease sorts that out).
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

    const started = performance.now();
    const results = await Promise.all(
      queueIds.map(async (queueId) => {
        const t0 = performance.now();
        const r: TestResult = await client.workflow.execute<typeof patchTest>('patchTest', {
          taskQueue, workflowId: workflowIds.patchTest(queueId), args: [{ queueId, requestedBy: 'bench', timing: TIMING }],
        });
        return { r, ms: performance.now() - t0 };
      }),
    );
    const wallMs = performance.now() - started;
    const rss = peakRssMb(worker.process.pid!);
    await connection.close();

    const passed = results.filter((x) => x.r.status === 'passed').length;
    const durations = results.map((x) => x.ms).sort((a, b) => a - b);
    const overhead = durations.map((d) => d - SIMULATED_MS);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
    process.stdout.write(
      [
        `bench/tests: ${results.length} concurrent patchTest workflows on ${fleet.systemsOf('ubuntu', 'test').length + fleet.systemsOf('rhel', 'test').length} lab test systems (${passed} passed)`,
        `  simulated waits per workflow   ${(SIMULATED_MS / 1000).toFixed(1)} s (settle ${TIMING.settleSeconds} s + UYUNI action ${PICKUP_MS + COMPLETE_MS} ms)`,
        `  wall time                      ${(wallMs / 1000).toFixed(1)} s`,
        `  workflow duration              mean ${(mean(durations) / 1000).toFixed(2)} s, p95 ${(pct(durations, 95) / 1000).toFixed(2)} s`,
        `  Temporal overhead/workflow     mean ${(mean(overhead) / 1000).toFixed(2)} s, p95 ${(pct(overhead, 95) / 1000).toFixed(2)} s (duration minus simulated waits)`,
        `  worker peak RSS                ${rss} MB`,
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
  process.stderr.write(`bench/tests: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
