import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import type { uyuniSync } from '../../workflows/index.js';
import type { SyncSummary } from '../../workflows/messages.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { jsonLine, peakRssMb, startTs, type Child } from '../support/processes.js';

// bench/sync: the whole Temporal sync (worker process + real Temporal + PostgreSQL) against the lab's UYUNI
// (its own process) with 25 ms added to every call.
//   npx tsx bench/sync/run.ts [seed|large|all]
//   npx tsx bench/sync/run.ts --small   (a small fleet, 5 ms per call: checks it still runs; .ci/run)
// Prints, per scale: wall time, the critical-path lower bound from the call counts, latency and concurrency,
// their ratio, the worker's peak RSS and the decoder's MB/s. Targets: ratio <= 1.5 (seed); <= 60 s and
// <= 400 MB (large).

const LATENCY_MS = SMALL ? 5 : 25;
const WORKERS = Number(process.env.UYUNI_SYNC_WORKERS ?? 10);

interface Scale {
  name: string;
  lab: Record<string, string>;
}

const SCALES: Scale[] = [
  { name: 'small', lab: { LAB_TEST_SYSTEMS_PER_OS: '2', LAB_PROD_SYSTEMS_PER_OS: '0', LAB_ERRATA_PER_OS: '60', LAB_RELEVANT_PER_SYSTEM: '30' } },
  { name: 'seed', lab: { LAB_SCALE: 'seed' } },
  // 2,000 systems in the test groups (the sync reads test groups only), 3,000 errata, ~300 relevant each.
  { name: 'large', lab: { LAB_TEST_SYSTEMS_PER_OS: '1000', LAB_PROD_SYSTEMS_PER_OS: '0', LAB_ERRATA_PER_OS: '1500', LAB_RELEVANT_PER_SYSTEM: '300' } },
];

async function freshDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 5432), user: process.env.DB_USER ?? 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

async function runScale(scale: Scale, temporalAddress: string): Promise<void> {
  const port = 18090 + Math.floor(Math.random() * 1000);
  const dbName = `spm_bench_sync_${scale.name}`;
  await freshDatabase(dbName);
  const env = {
    DB_NAME: dbName, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: `bench-sync-${scale.name}-${Date.now()}`,
    ...LAB_CREDENTIALS_ENV, UYUNI_URL: `http://127.0.0.1:${port}/rpc/api`, UYUNI_SYNC_WORKERS: String(WORKERS),
    UYUNI_SYNC_ON_START: 'false', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'info', DOTENV_PATH: '/nonexistent',
  };
  const migrate = startTs('db/migrate.ts', env);
  Object.assign(env, { WORKER_WORKFLOW_BUNDLE: BUNDLE });
  await new Promise((r) => migrate.process.once('exit', r));

  let lab: Child | undefined;
  let worker: Child | undefined;
  try {
    lab = startTs('lab/uyuni/main.ts', { ...scale.lab, LAB_UYUNI_PORT: String(port), LAB_LATENCY_MS: String(LATENCY_MS) });
    const labLine = jsonLine(await lab.waitFor((l) => l.includes('uyuni lab listening')));
    worker = startTs('worker.ts', env);
    await worker.waitFor((l) => l.includes('worker started'), 120_000);

    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    const started = performance.now();
    const summary: SyncSummary = await client.workflow.execute<typeof uyuniSync>('uyuniSync', {
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      workflowId: `bench-sync-${scale.name}-${Date.now()}`,
      args: [{ trigger: 'manual' }],
    });
    const wallMs = performance.now() - started;
    await connection.close();

    const committed = jsonLine(await worker.waitFor((l) => l.includes('sync committed')));
    const decode = committed.uyuniClient as { bytesDecoded: number; decodeMs: number; decodeMBps: number; totalCalls: number };
    const rss = peakRssMb(worker.process.pid!);

    // The sync's phases are sequential; inside a phase at most WORKERS calls are in flight.
    const stats = (await (await fetch(`http://127.0.0.1:${port}/lab/stats`)).json()) as { calls: Record<string, number> };
    const c = (m: string) => stats.calls[m] ?? 0;
    const rounds =
      c('auth.login') + c('systemgroup.listAllGroups') + Math.ceil(c('systemgroup.listSystems') / WORKERS) +
      Math.ceil(c('system.getRelevantErrata') / WORKERS) + Math.ceil((c('errata.getDetails') + c('errata.listCves')) / WORKERS);
    const boundMs = rounds * LATENCY_MS;
    process.stdout.write(
      [
        `bench/sync ${scale.name}: ${labLine.systems} systems in the lab, ${summary.systems} test systems synced, ${summary.errata} relevant errata, latency ${LATENCY_MS} ms/call, ${WORKERS} calls in flight`,
        `  UYUNI calls: ${JSON.stringify(stats.calls)}`,
        `  wall time                ${(wallMs / 1000).toFixed(2)} s`,
        `  critical-path bound      ${(boundMs / 1000).toFixed(2)} s  (${rounds} sequential rounds x ${LATENCY_MS} ms)`,
        `  ratio wall/bound         ${(wallMs / boundMs).toFixed(2)}`,
        `  worker peak RSS          ${rss} MB`,
        `  decoder                  ${(decode.bytesDecoded / 1e6).toFixed(1)} MB in ${(decode.decodeMs / 1000).toFixed(2)} s = ${decode.decodeMBps.toFixed(1)} MB/s`,
        '',
      ].join('\n'),
    );
  } finally {
    await worker?.stop();
    await lab?.stop();
  }
}

const BUNDLE = '/tmp/spm-bench-workflow-bundle.js';

async function main(): Promise<void> {
  // 'all' is the seed's scale and the large one; the small one only runs when asked for.
  const which = SMALL ? 'small' : (positional()[0] ?? 'all');
  // The worker loads a prebuilt bundle, as in production: its RSS is the orchestrator's, not webpack's.
  const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
  await new Promise((r) => build.process.once('exit', r));
  let server: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
  try {
    const chosen = SCALES.filter((s) => (which === 'all' && s.name !== 'small') || s.name === which);
    if (!chosen.length) throw new Error(`unknown scale "${which}": one of ${SCALES.map((s) => s.name).join(', ')}, all`);
    for (const scale of chosen) await runScale(scale, address);
  } finally {
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/sync: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
