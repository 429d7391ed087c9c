import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { sql } from 'kysely';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { notifyEndpointWorkflowId } from '../../workflows/messages.js';
import { loadConfig } from '../../config/config.js';
import { createDb } from '../../db/connection.js';
import { recordEvent } from '../../db/queries/notifications.js';
import { LAB_WEBHOOK_SECRET } from '../../lab/notify/server.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { peakRssMb, startTs, type Child } from '../support/processes.js';

// bench/notify: N events to 3 webhook endpoints (a local receiver answering in 20 ms, a process of its own:
// receiver.ts), delivered by the real
// worker (outbox listener → one delivery workflow per endpoint → notifyDeliver runs claiming and sending in
// bulk) on a Temporal dev server of its own. Events are written as the state changes write them (recordEvent, 100 per transaction).
//   npx tsx bench/notify/run.ts [N=10000] [CONCURRENCY=32]
//   npx tsx bench/notify/run.ts --small   (N=300: checks it still runs; .ci/run)
// Prints the wall time from the first event written to the last delivery, events/s and deliveries/s, the
// event → delivery latency (p50, p99, max, from PostgreSQL's timestamps), the most requests each endpoint
// had in flight at once (bounded by its max_concurrency) and the worker's peak RSS.

const N = SMALL ? 300 : Number(positional()[0] ?? 10_000);
const CONCURRENCY = Number(positional()[1] ?? 32);
const ENDPOINTS = 3;
const RECEIVER_MS = 20;
// per process: two runs at once (CI and a person, two worktrees) never share, let alone drop, each other's
const DB = `spm_bench_notify_${process.pid}`;
const BUNDLE = `/tmp/spm-bench-notify-workflow-bundle-${process.pid}.js`;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // the replay workers' state changes are not figures
  const receiver = startTs('bench/notify/receiver.ts', {}, [String(ENDPOINTS), String(RECEIVER_MS)]);
  let server: DevServer | undefined;
  let worker: Child | undefined;
  try {
    const hookUrls = (await receiver.waitFor((l) => l.startsWith('receiver ready '))).slice('receiver ready '.length).split(' ');
    const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
    const admin = new pg.Client({ host: process.env.DB_HOST ?? '127.0.0.1', user: process.env.DB_USER ?? 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${DB}"`);
    await admin.end();
    const taskQueue = `bench-notify-${Date.now()}`;
    const env = {
      ...LAB_CREDENTIALS_ENV, DB_NAME: DB, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_SYNC_ON_START: 'false',
      WORKER_MANAGE_SCHEDULES: 'false', WORKER_METRICS_PORT: '0',
      DB_POOL_MAX: '40', LOG_LEVEL: 'info', DOTENV_PATH: '/nonexistent', WORKER_WORKFLOW_BUNDLE: BUNDLE,
    };
    const migrate = startTs('db/migrate.ts', env);
    await new Promise((r) => migrate.process.once('exit', r));
    const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
    await new Promise((r) => build.process.once('exit', r));

    const db = createDb(loadConfig({ ...env }).db, 'spm-bench-notify');
    const ids: number[] = [];
    for (let i = 1; i <= ENDPOINTS; i++) {
      const row = await db
        .insertInto('notification_endpoints')
        .values({ name: `bench-${i}`, kind: 'webhook', url: hookUrls[i - 1]!, secret: LAB_WEBHOOK_SECRET, event_types: ['*'], max_concurrency: CONCURRENCY, created_by: 'bench' })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.push(row.id);
    }
    worker = startTs('worker.ts', env);
    await worker.waitFor((l) => l.includes('worker started'), 120_000);
    await new Promise((r) => setTimeout(r, 1_000)); // the delivery workflows are up (woken at start)

    const t0 = Date.now();
    for (let i = 0; i < N; i += 100) {
      await db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(N, i + 100); j++) {
          await recordEvent(trx, 'deployment.wave_completed', {
            queue_id: null, advisory: `RHSA-2026:${10_000 + j}`, os: 'rhel', workflow_id: `deploy-${j}`, targets: 100, applied: j % 100, failed: 0,
            wave: j % 10, wave_kind: 'wave', wave_applied: 10, wave_failed: 0,
          }, { workflowId: `deploy-${j}` });
        }
      });
    }
    const writtenS = (Date.now() - t0) / 1000;
    const total = N * ENDPOINTS;
    let delivered = 0;
    const deadline = Date.now() + Math.max(120_000, N * 30);
    while (Date.now() < deadline) {
      delivered = Number((await db.selectFrom('notification_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'delivered').executeTakeFirstOrThrow()).n);
      if (delivered >= total) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const last = await db.selectFrom('notification_deliveries').select((eb) => eb.fn.max('delivered_at').as('at')).executeTakeFirstOrThrow();
    const wallS = ((last.at ? new Date(last.at as Date).getTime() : Date.now()) - t0) / 1000;
    const { rows } = await sql<{ ms: number }>`
      select extract(epoch from d.delivered_at - n.created_at) * 1000 as ms
      from notification_deliveries d join orchestrator_notifications n on n.id = d.notification_id where d.status = 'delivered'`.execute(db);
    const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const attempts = Number((await db.selectFrom('notification_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    // Every delivery workflow's history (its latest run) replayed against the bundle: a nondeterminism error fails.
    const connection = await Connection.connect({ address: temporalAddress });
    let replayed = 0;
    let activities = 0;
    try {
      const client = new Client({ connection });
      for (const id of ids) {
        const history = await client.workflow.getHandle(notifyEndpointWorkflowId(id)).fetchHistory();
        activities += (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
        await Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE } }, history, notifyEndpointWorkflowId(id));
        replayed++;
      }
    } finally {
      await connection.close();
    }
    await receiver.stop();
    const loadLine = receiver.lines.find((l) => l.startsWith('receiver load '));
    const load = (loadLine ? JSON.parse(loadLine.slice('receiver load '.length)) : {}) as Record<string, { maxInFlight: number }>;
    const rss = worker.process.pid ? peakRssMb(worker.process.pid) : 0;
    await db.destroy();

    console.log(`events ${N} × ${ENDPOINTS} endpoints (receiver ${RECEIVER_MS} ms, max_concurrency ${CONCURRENCY} each): ${delivered} of ${total} deliveries delivered, ${attempts} attempts`);
    console.log(`events written in ${writtenS.toFixed(1)} s (recordEvent, 100 per transaction)`);
    console.log(`wall time ${wallS.toFixed(1)} s (first event written → last delivery; target ≤ 60 s for 10,000)`);
    console.log(`throughput ${(N / wallS).toFixed(0)} events/s, ${(delivered / wallS).toFixed(0)} deliveries/s`);
    console.log(`last delivery ${Math.max(0, wallS - writtenS).toFixed(1)} s after the last event was written (the wall time is the writer's, when this is small)`);
    console.log(`event → delivery p50 ${(pct(lat, 50) / 1000).toFixed(2)} s, p99 ${(pct(lat, 99) / 1000).toFixed(2)} s, max ${(pct(lat, 100) / 1000).toFixed(2)} s`);
    console.log(`in flight per endpoint at most ${Object.values(load).map((l) => l.maxInFlight).join(' / ')} (bound ${CONCURRENCY})`);
    console.log(`worker peak RSS ${rss} MB`);
    console.log(`delivery activities ${activities} in the delivery workflows' latest runs (${(attempts / Math.max(activities, 1)).toFixed(0)} attempts per activity)`);
    console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min; the cores are shared)`);
    console.log(`replayed ${replayed} delivery workflow histories without a nondeterminism error`);
    if (delivered < total) {
      console.error(`bench-notify: only ${delivered} of ${total} delivered before the deadline`);
      process.exitCode = 1;
    }
  } finally {
    await worker?.stop();
    await server?.stop();
    await receiver.stop();
    await dropBenchDatabase().catch(() => undefined);
    rmSync(BUNDLE, { force: true });
  }
}

async function dropBenchDatabase(): Promise<void> {
  const admin = new pg.Client({ host: process.env.DB_HOST ?? '127.0.0.1', user: process.env.DB_USER ?? 'postgres', database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
