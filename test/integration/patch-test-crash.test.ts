import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Erratum } from '../../lab/fleet/index.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { testStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig, uniqueTaskQueue } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { waitUntil, WorkerProcess } from '../support/worker-process.js';

// Durability: the worker is a real process, killed with SIGKILL while the test is in `patch` and again in
// `validate`, then started again. The test finishes correctly and the lab applied the erratum exactly once.
describe('patchTest survives SIGKILL of its worker', () => {
  let lab: FullLab;
  let api: TestApi;
  let connection: Connection;
  let client: Client;
  let worker: WorkerProcess;
  let env: Record<string, string>;
  const taskQueue = uniqueTaskQueue('crash');

  const waitFor = (what: string, predicate: () => Promise<boolean>, timeoutMs = 90_000) => waitUntil(what, predicate, worker, timeoutMs);

  beforeAll(async () => {
    // A slow patch action (4 s) and a 6 s settle give room to kill the worker inside each phase.
    lab = await startFullLab({ actionCompleteMs: 4_000 });
    const DB_NAME = await isolatedDatabase('crash');
    const config = testConfig({ DB_NAME, ...lab.env });
    env = {
      ...lab.env,
      DB_NAME,
      DB_HOST: config.db.host,
      DB_PORT: String(config.db.port),
      DB_USER: config.db.user,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      UYUNI_PASSWORD: 'lab-admin-password',
      UYUNI_SYNC_ON_START: 'false',
      WORKER_MANAGE_SCHEDULES: 'false', // the run's other files own the shared namespace's Schedules
      UYUNI_RETRY_INITIAL_SECONDS: '0.2',
      WORKER_METRICS_PORT: '0',
      WORKER_SHUTDOWN_GRACE_SECONDS: '0',
      WORKER_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LOG_LEVEL: 'warn',
      DOTENV_PATH: '/nonexistent',
      TEST_SETTLE_SECONDS: '6',
      TEST_METRICS_RANGE_SECONDS: '3',
      TEST_METRICS_WINDOW_SECONDS: '3',
      TEST_POLL_SECONDS: '0.3',
      TEST_REBOOT_TIMEOUT_SECONDS: '20',
      TEST_LEASE_WAIT_SECONDS: '1',
    };
    api = await startTestApi({ ...env, TEMPORAL_TASK_QUEUE: taskQueue });
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    client = new Client({ connection });
    worker = new WorkerProcess(env);
    worker.start();
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `crash-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
  }, 120_000);

  afterAll(async () => {
    await worker?.kill();
    await connection?.close();
    await api?.close();
    await lab?.close();
  });

  it('killed in patch and in validate, it finishes and applied the erratum once', async () => {
    const system = lab.fleet.systemsOf('rhel', 'test')[0]!;
    const e: Erratum = lab.fleet.findErratum({ os: 'rhel', personality: 'none', rebootSuggested: false, relevantTo: 'test' })!;
    const queued = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
    expect(queued.statusCode, queued.body).toBe(201);
    const queueId: number = queued.json().items[0].id;

    const timing = testTiming(api.config);
    const handle = await client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue, workflowId: workflowIds.patchTest(queueId), args: [{ queueId, requestedBy: 'crash-test', timing }],
    });
    const phase = async () => (await handle.query(testStatusQuery).catch(() => null))?.phase;

    // 1. in `patch`, once UYUNI has the action
    await waitFor('patch phase with a scheduled action', async () =>
      (await phase()) === 'patch' &&
      (await api.db.selectFrom('patch_tests').select('uyuni_action_id').where('queue_id', '=', queueId).executeTakeFirst())?.uyuni_action_id != null,
    );
    await worker.restart();

    // 2. in `validate` (its settle wait)
    await waitFor('validate phase', async () => (await phase()) === 'validate', 120_000);
    await worker.restart();

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'passed', failure: null });
    expect(lab.fleet.applyCount(system.id, e.id)).toBe(1);
    expect(lab.uyuni.stats.count('system.scheduleApplyErrata')).toBe(1);
    const phases = await api.db.selectFrom('patch_test_phases').select(['phase', 'status']).where('test_id', '=', result.testId).execute();
    expect(Object.fromEntries(phases.map((p) => [p.phase, p.status]))).toMatchObject({ patch: 'passed', validate: 'passed', services: 'passed' });
  }, 240_000);
});
