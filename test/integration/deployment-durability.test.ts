import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { deploymentStatusQuery, testStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig, uniqueTaskQueue } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { waitUntil, WorkerProcess } from '../support/worker-process.js';

// Durability of the long waits, on a Temporal dev server of its own that keeps its state in a file:
// an approval wait of days survives a restart of the worker AND of the Temporal server; then the worker is
// killed with SIGKILL in the middle of a production wave, and the rollout resumes without patching any system twice.
describe('approval and rollout survive restarts', () => {
  let lab: FullLab;
  let api: TestApi;
  let server: DevServer;
  let worker: WorkerProcess;
  let env: Record<string, string>;
  let dir: string;
  let port: number;
  const taskQueue = uniqueTaskQueue('durable');

  const withClient = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const connection = await Connection.connect({ address: server.address });
    try {
      return await fn(new Client({ connection }));
    } finally {
      await connection.close();
    }
  };
  const waitFor = (what: string, predicate: () => Promise<boolean>, timeoutMs = 90_000) => waitUntil(what, predicate, worker, timeoutMs);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'spm-durable-'));
    port = await freePort();
    server = await startDevServer({ port, dbFilename: path.join(dir, 'temporal.db') });
    lab = await startFullLab({ prodSystemsPerOs: 6, prodOverlap: 1, actionCompleteMs: 2_000 });
    const DB_NAME = await isolatedDatabase('durable');
    const config = testConfig({ DB_NAME, ...lab.env });
    env = {
      ...lab.env, DB_NAME, DB_HOST: config.db.host, DB_PORT: String(config.db.port), DB_USER: config.db.user,
      TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_PASSWORD: 'lab-admin-password', UYUNI_SYNC_ON_START: 'false',
      WORKER_MANAGE_SCHEDULES: 'false', // the run's other files own the shared namespace's Schedules
      WORKER_METRICS_PORT: '0', WORKER_SHUTDOWN_GRACE_SECONDS: '0', WORKER_WORKFLOW_BUNDLE: inject('workflowBundlePath'), LOG_LEVEL: 'warn',
      DOTENV_PATH: '/nonexistent', TEST_SETTLE_SECONDS: '1', TEST_METRICS_RANGE_SECONDS: '6', TEST_METRICS_WINDOW_SECONDS: '3',
      TEST_POLL_SECONDS: '0.3', TEST_LEASE_WAIT_SECONDS: '1',
    };
    api = await startTestApi({ ...env });
    worker = new WorkerProcess(env);
    worker.start();
    await withClient((client) =>
      client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `durable-sync-${taskQueue}`, args: [{ trigger: 'manual' }] }),
    );
    await api.app.inject({ method: 'PUT', url: '/api/v1/config/deploy.soak_minutes', headers: bearer('admin'), payload: { value: 0 } });
    await api.app.inject({ method: 'PUT', url: '/api/v1/config/deploy.wave_size', headers: bearer('admin'), payload: { value: 5 } });
    await new Promise((r) => setTimeout(r, 6_000)); // Prometheus scrapes the new exporters a few times
  }, 180_000);

  afterAll(async () => {
    await worker?.kill();
    await api?.close();
    await lab?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a days-long approval wait survives worker and server restarts; a SIGKILL mid-wave patches no system twice', async () => {
    const e = lab.fleet.findErratum({ os: 'rhel', personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false })!;
    const queued = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
    expect(queued.statusCode, queued.body).toBe(201);
    const queueId: number = queued.json().items[0].id;
    await withClient((client) =>
      client.workflow.start<typeof patchTest>('patchTest', {
        taskQueue, workflowId: workflowIds.patchTest(queueId),
        args: [{ queueId, requestedBy: 'durability', timing: testTiming(api.config), approval: { reminderSeconds: 86_400, expirySeconds: 3 * 86_400 } }],
      }),
    );
    const status = () => withClient((c) => c.workflow.getHandle(workflowIds.patchTest(queueId)).query(testStatusQuery));
    await waitFor('pending approval', async () => (await status()).status === 'pending_approval');

    // Restart everything: the worker, then the Temporal server (same database file, same port).
    await worker.kill();
    await server.stop();
    server = await startDevServer({ port, dbFilename: path.join(dir, 'temporal.db') });
    worker.start();
    await waitFor('the test still waiting after the restart', async () => (await status()).status === 'pending_approval');

    // The API's own Temporal connection reconnects to the restarted server.
    await waitFor('the approval accepted', async () => {
      const res = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${queueId}/approve`, headers: bearer('approver'), payload: { reason: 'after the restart' } });
      return res.statusCode === 200;
    });
    expect((await api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: queueId } })).statusCode).toBe(202);

    // Kill the worker while the first wave's actions are in flight.
    const live = () => withClient((c) => c.workflow.getHandle(workflowIds.deployment(queueId)).query(deploymentStatusQuery));
    await waitFor('a wave in flight', async () => {
      const v = await live();
      const applying = await api.db.selectFrom('patch_deployments').select('id').where('queue_id', '=', queueId).where('uyuni_action_id', 'is not', null).where('status', '=', 'applying').execute();
      return v.waves.some((w) => w.state === 'running' && w.wave > 0) && applying.length > 0;
    });
    // The systems whose action id was stored when the worker died: their retried activity must poll that
    // action, never schedule again (the lab would refuse it with 2600 and adoption would hide the mistake).
    const storedAtKill = (await api.db.selectFrom('patch_deployments').select('system_id').where('queue_id', '=', queueId).where('uyuni_action_id', 'is not', null).execute()).map((r) => String(r.system_id));
    const scheduledAtKill = lab.uyuni.stats.detail('system.scheduleApplyErrata').byArgument;
    await worker.restart();

    const result = await withClient((c) => c.workflow.getHandle<typeof patchTest>(workflowIds.patchTest(queueId)).result());
    expect(result.status).toBe('approved');
    expect(result.deployment).toMatchObject({ status: 'completed', targets: 6, applied: 6, failed: 0 });
    for (const s of lab.fleet.systemsOf('rhel', 'prod')) expect(lab.fleet.applyCount(s.id, e.id), s.name).toBe(1);
    // A retried activity may call scheduleApplyErrata again when the kill came between UYUNI's answer and the
    // row update; UYUNI refuses it (fault 2600) and the action it already has is adopted: applied once, above.
    // One call per batch (the test's own, the canary's, the wave's of 5), each system named in one at least.
    expect(lab.uyuni.stats.count('system.scheduleApplyErrata')).toBeGreaterThanOrEqual(3);
    const scheduled = lab.uyuni.stats.detail('system.scheduleApplyErrata').byArgument;
    for (const s of lab.fleet.systemsOf('rhel', 'prod')) expect(scheduled[String(s.id)], s.name).toBeGreaterThanOrEqual(1);
    expect(storedAtKill.length).toBeGreaterThan(0);
    for (const id of storedAtKill) expect(scheduled[id], `system ${id} scheduled again after its action id was stored`).toBe(scheduledAtKill[id]);
    for (const s of lab.fleet.systemsOf('rhel', 'prod')) expect(scheduled[String(s.id)], s.name).toBeLessThanOrEqual(2);
    expect(lab.fleet.applyRecords().filter((r) => r.erratumId === e.id && r.applied > 1)).toEqual([]);
  }, 300_000);
});
