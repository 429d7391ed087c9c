import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { closeActivityDeps, createActivities, createActivityDeps, type ActivityDeps } from './activities/index.js';
import { Client } from '@temporalio/client';
import { ensureSearchAttributes } from './client.js';
import { loadConfigOrExit, type Config } from './config/config.js';
import { createLogger } from './config/logger.js';
import { createDb } from './db/connection.js';
import { describeTemporalConnection, temporalConnectionOptions } from './temporal/connection.js';
import { ensureTestDispatcher } from './temporal/dispatcher.js';
import { startWorkerEndpoint } from './temporal/worker-endpoint.js';
import { createCallMetrics } from './activities/shared/call-metrics.js';
import { startNotificationWaker } from './activities/notify/waker.js';
import { syncEnvEmailEndpoints } from './db/queries/notifications.js';
import { ensureSyncSchedule, triggerScheduledSync } from './temporal/sync-schedule.js';

// Under tsx this file is worker.ts next to workflows/index.ts; built, it is dist/worker.js next to dist/workflows/index.js.
const COMPILED = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(COMPILED ? './workflows/index.js' : './workflows/index.ts', import.meta.url));
/** `npm run build` writes the prebuilt bundle here; a built worker loads it unless WORKER_WORKFLOW_BUNDLE says otherwise. */
export const BUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

export interface OrchestratorWorkerOptions {
  config: Readonly<Config>;
  connection: NativeConnection;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests bundle once per file); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  identity?: string;
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  const { config } = opts;
  return Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.deps),
    // In-flight activities (a UYUNI poll, a DB write) get time to finish instead of being cancelled at once.
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
}

/** A free loopback port for the SDK's own Prometheus exporter (the worker's port serves it with the rest). */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function installRuntime(config: Readonly<Config>, log: Logger, sdkMetricsPort: number): void {
  const sdkLog = log.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: {
      log: (level, message, meta) => sdkLog[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')](meta ?? {}, message),
      trace: (message, meta) => sdkLog.trace(meta ?? {}, message),
      debug: (message, meta) => sdkLog.debug(meta ?? {}, message),
      info: (message, meta) => sdkLog.info(meta ?? {}, message),
      warn: (message, meta) => sdkLog.warn(meta ?? {}, message),
      error: (message, meta) => sdkLog.error(meta ?? {}, message),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(sdkMetricsPort > 0 ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } : {}),
    },
  });
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  for (const [variable, value] of [['UYUNI_PASSWORD', config.uyuni.password], ['SALT_PASSWORD', config.salt.password]] as const) {
    if (!value) {
      process.stderr.write(`configuration error: ${variable} is required by the worker (it logs in with it)\n`);
      process.exit(78);
    }
  }
  const log = createLogger(config.logLevel, 'worker');
  const sdkMetricsPort = config.worker.metricsPort > 0 ? await freeLoopbackPort() : 0;
  installRuntime(config, log, sdkMetricsPort);

  // Metrics and health first: liveness answers while the worker connects and loads its bundle.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'spm_worker_' });
  // Filled in below; the endpoint's probes read them (liveness answers before either exists).
  const live: { worker?: Worker; connection?: NativeConnection } = {};
  const db = createDb(config.db, 'spm-worker');
  const endpoint =
    config.worker.metricsPort > 0
      ? await startWorkerEndpoint({
          host: config.worker.metricsHost,
          port: config.worker.metricsPort,
          registry,
          sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
          state: () => live.worker?.getState() ?? 'STARTING',
          checks: [
            {
              name: 'temporal',
              check: async () => {
                if (!live.connection) throw new Error('not connected yet');
                await live.connection.workflowService.getSystemInfo({});
              },
            },
            { name: 'postgres', check: async () => void (await sql`select 1`.execute(db)) },
          ],
        })
      : undefined;

  const connection = (live.connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal)));
  log.info({ temporal: describeTemporalConnection(config.temporal) }, 'connected to Temporal');
  const added = await ensureSearchAttributes(connection, config.temporal.namespace);
  if (added.length) log.info({ added }, 'registered search attributes');

  const client = new Client({ connection, namespace: config.temporal.namespace });
  const deps = createActivityDeps({ config, db, log, temporal: client, observer: createCallMetrics(registry) });
  const bundle = config.worker.workflowBundle ?? (COMPILED && existsSync(BUILT_WORKFLOW_BUNDLE) ? BUILT_WORKFLOW_BUNDLE : undefined);
  const worker = (live.worker = await createOrchestratorWorker({
    config,
    connection,
    deps,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : {}),
  }));
  if (config.worker.manageSchedules) {
    const schedule = await ensureSyncSchedule(client, config);
    log.info({ scheduleId: 'uyuni-sync', everyMinutes: config.uyuni.pollIntervalMinutes, schedule }, 'sync schedule in place');
    log.info({ workflowId: 'test-dispatcher', autoDispatch: config.test.autoDispatch, dispatcher: await ensureTestDispatcher(client, config) }, 'auto-dispatch');
  }
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      address: config.temporal.address,
      metrics: endpoint ? `${endpoint.url}/metrics` : 'off',
      health: endpoint ? [`${endpoint.url}/healthz`, `${endpoint.url}/readyz`] : 'off',
      workflowBundle: bundle ?? 'bundled at start',
    },
    'worker started',
  );
  const running = worker.run();
  // NOTIFY_EMAIL_RECIPIENTS as email endpoints, then the outbox's doorbell: committed events wake their
  // endpoints' delivery workflows (workflows/notify.ts).
  await syncEnvEmailEndpoints(db, config.notify.emailRecipients);
  const waker = await startNotificationWaker({ config, db, temporal: client, log: log.child({ component: 'notify' }) });
  if (config.uyuni.syncOnStart && config.worker.manageSchedules) {
    await triggerScheduledSync(client).catch((err: unknown) => log.warn({ err }, 'could not trigger the first sync'));
  }
  try {
    // Runtime handles SIGINT/SIGTERM: it stops polling, lets activities finish within shutdownGraceTime, then run() resolves.
    await running;
  } finally {
    await waker.close();
    await closeActivityDeps(deps).catch((err: unknown) => log.warn({ err }, 'UYUNI logout failed'));
    await db.destroy();
    await connection.close();
    await endpoint?.close();
    log.info('worker stopped');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
