import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { closeActivityDeps, createActivities, createActivityDeps, type ActivityDeps } from './activities/index.js';
import { Client } from '@temporalio/client';
import { ensureSearchAttributes } from './client.js';
import { loadConfigOrExit, type Config } from './config/config.js';
import { createLogger } from './config/logger.js';
import { createDb } from './db/connection.js';
import { ensureTestDispatcher } from './temporal/dispatcher.js';
import { startNotificationWaker } from './activities/notify/waker.js';
import { syncEnvEmailEndpoints } from './db/queries/notifications.js';
import { ensureSyncSchedule, triggerScheduledSync } from './temporal/sync-schedule.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

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
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
}

function installRuntime(config: Readonly<Config>, log: Logger): void {
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
      ...(config.worker.metricsPort > 0
        ? { metrics: { prometheus: { bindAddress: `${config.worker.metricsHost}:${config.worker.metricsPort}` } } }
        : {}),
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
  installRuntime(config, log);

  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const added = await ensureSearchAttributes(connection, config.temporal.namespace);
  if (added.length) log.info({ added }, 'registered search attributes');

  const db = createDb(config.db, 'spm-worker');
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const deps = createActivityDeps({ config, db, log, temporal: client });
  const worker = await createOrchestratorWorker({
    config,
    connection,
    deps,
    ...(config.worker.workflowBundle ? { workflowBundle: { codePath: config.worker.workflowBundle } } : {}),
  });
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
      metrics: config.worker.metricsPort > 0 ? `${config.worker.metricsHost}:${config.worker.metricsPort}/metrics` : 'off',
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
    log.info('worker stopped');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
