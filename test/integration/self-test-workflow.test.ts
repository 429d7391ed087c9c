import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSearchAttributes } from '../../client.js';
import type { Db } from '../../db/connection.js';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../activities/index.js';
import { createOrchestratorWorker } from '../../worker.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import type { selfTest } from '../../workflows/index.js';
import { nativeConnection, testConfig, testDb, testLogger, uniqueTaskQueue, workflowBundle } from '../support/context.js';

describe('selfTest workflow on a real worker and Temporal server', () => {
  const config = testConfig();
  const taskQueue = uniqueTaskQueue('self-test');
  let db: Db;
  let deps: ActivityDeps;
  let native: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    db = testDb(config);
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection, namespace: config.temporal.namespace });
    deps = createActivityDeps({ config, db, log: testLogger(), temporal: client });
    native = await nativeConnection();
    worker = await createOrchestratorWorker({
      config,
      connection: native,
      taskQueue,
      workflowBundle: workflowBundle(),
      deps,
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await native?.close();
    if (deps) await closeActivityDeps(deps);
    await db?.destroy();
  });

  it('runs the workflow through the worker, whose activity reads the database clock', async () => {
    const before = Date.now();
    const result = await client.workflow.execute<typeof selfTest>('selfTest', {
      taskQueue,
      workflowId: `self-test-${taskQueue}`,
      workflowExecutionTimeout: '30 seconds',
    });
    expect(result.workflowId).toBe(`self-test-${taskQueue}`);
    const dbTime = Date.parse(result.databaseTime);
    expect(dbTime).toBeGreaterThanOrEqual(before - 5_000);
    expect(dbTime).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(result.workerIdentity).toMatch(/\/\d+$/);

    const history = await client.workflow.getHandle(`self-test-${taskQueue}`).fetchHistory();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual(['recordSelfTest']);
  });

  it('has the project search attributes registered (and registering again is a no-op)', async () => {
    expect(await ensureSearchAttributes(connection, config.temporal.namespace)).toEqual([]);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: config.temporal.namespace,
    });
    for (const key of SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(key.name);
  });
});
