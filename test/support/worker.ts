import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../activities/index.js';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { createOrchestratorWorker } from '../../worker.js';
import { startNotificationWaker, type NotificationWaker } from '../../activities/notify/waker.js';
import { nativeConnection, testDb, testLogger, uniqueTaskQueue, workflowBundle } from './context.js';

export interface TestWorker {
  config: Readonly<Config>;
  taskQueue: string;
  db: Db;
  deps: ActivityDeps;
  worker: Worker;
  client: Client;
  /** The outbox listener worker.ts runs beside the worker (wakes notification delivery). */
  waker: NotificationWaker;
  /** Stops the worker (graceful), closes the UYUNI session, the pool and the connections. */
  close(): Promise<void>;
}

/** A real worker on the run's Temporal server, on a task queue of its own, with unmocked activities. */
export async function startTestWorker(config: Readonly<Config>, prefix = 'spm'): Promise<TestWorker> {
  const taskQueue = uniqueTaskQueue(prefix);
  const scoped: Readonly<Config> = { ...config, temporal: { ...config.temporal, taskQueue } };
  const db = testDb(scoped);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const deps = createActivityDeps({ config: scoped, db, log: testLogger(), temporal: client });
  const native: NativeConnection = await nativeConnection();
  const worker = await createOrchestratorWorker({ config: scoped, connection: native, deps, workflowBundle: workflowBundle() });
  const running = worker.run();
  const waker = await startNotificationWaker({ config: scoped, db, temporal: client, log: testLogger() });
  return {
    config: scoped,
    taskQueue,
    db,
    deps,
    worker,
    client,
    waker,
    async close() {
      await waker.close();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await closeActivityDeps(deps).catch(() => undefined);
      await connection.close();
      await native.close();
      await db.destroy();
    },
  };
}
