import type { Selectable } from 'kysely';
import { expect } from 'vitest';
import type { PatchTestsTable } from '../../db/database.js';
import type { Erratum } from '../../lab/fleet/index.js';
import type { FleetOptions } from '../../lab/fleet/options.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { testStatusQuery, workflowIds, type TestResult } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from './api.js';
import { isolatedDatabase, testConfig } from './context.js';
import { startFullLab, type FullLab } from './lab.js';
import { startTestWorker, type TestWorker } from './worker.js';

// The test engine end to end for a test file: the full lab (UYUNI, salt-api, node-exporters scraped by the
// run's real Prometheus), a real worker and the API on a database of the file's own, after one sync.

/** Short phases, so that a test takes seconds; the baseline still needs a window wholly at rest. */
export const FAST_TIMING = {
  TEST_SETTLE_SECONDS: '7',
  // 7 points a window (1 s scrapes): enough for the judge's 98 % interval (5 a side at least), so a spike is High, not NODATA
  TEST_METRICS_RANGE_SECONDS: '6',
  TEST_METRICS_WINDOW_SECONDS: '3',
  TEST_POLL_SECONDS: '0.3',
  TEST_ACTION_TIMEOUT_SECONDS: '30',
  TEST_REBOOT_TIMEOUT_SECONDS: '10',
  TEST_LEASE_WAIT_SECONDS: '1',
  TEST_BASELINE_TIMEOUT_SECONDS: '40',
};

export type Os = 'ubuntu' | 'rhel';

export interface TestEngine {
  lab: FullLab;
  tw: TestWorker;
  api: TestApi;
  erratum(q: Parameters<FullLab['fleet']['findErratum']>[0]): Erratum;
  /** Queues the advisory through the API; the queue item's id. */
  queue(e: Erratum): Promise<number>;
  /** Runs patchTest for the item to its end (no approval step) and returns its result. */
  runTest(queueId: number): Promise<TestResult>;
  /** phase → status of a test's phase rows. */
  phases(testId: number): Promise<Record<string, string>>;
  testRow(testId: number): Promise<Selectable<PatchTestsTable>>;
  queueStatus(id: number): Promise<string>;
  systemOf(os: Os): ReturnType<FullLab['fleet']['systemsOf']>[number];
  /** Polls patchTest's status query until it reports `status`. */
  untilStatus(workflowId: string, status: string): Promise<Awaited<ReturnType<typeof queryStatus>>>;
  close(): Promise<void>;
}

const queryStatus = (tw: TestWorker, workflowId: string) => tw.client.workflow.getHandle(workflowId).query(testStatusQuery);

async function waitForMetrics(lab: FullLab, settledMs: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const url = lab.env.PROMETHEUS_URL;
  let firstSeen = 0;
  while (Date.now() < deadline) {
    const ok = await Promise.all(
      lab.fleet.systemsOf('ubuntu', 'test').concat(lab.fleet.systemsOf('rhel', 'test')).map(async (s) => {
        const q = `up{instance="${lab.exporters.instanceOf(s)}"}`;
        const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: unknown[] } };
        return body.data.result.length > 0;
      }),
    );
    if (ok.every(Boolean)) {
      firstSeen ||= Date.now();
      if (Date.now() - firstSeen >= settledMs) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('Prometheus never scraped the lab exporters');
}

/** Starts lab, worker and API for one test file, syncs once and waits until Prometheus has full windows. */
export async function startTestEngine(
  prefix: string,
  opts: { env?: Record<string, string>; fleet?: FleetOptions; exporters?: 'all' | 'test' } = {},
): Promise<TestEngine> {
  const lab = await startFullLab(opts.fleet, {}, opts.exporters ? { exporters: opts.exporters } : {});
  const DB_NAME = await isolatedDatabase(prefix);
  const env = { DB_NAME, ...lab.env, ...FAST_TIMING, ...opts.env };
  const tw = await startTestWorker(testConfig(env), prefix);
  const api = await startTestApi({ ...env, TEMPORAL_TASK_QUEUE: tw.taskQueue });
  await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: tw.taskQueue, workflowId: `${prefix}-sync-${tw.taskQueue}`, args: [{ trigger: 'manual' }] });
  // Prometheus picks the new exporters up through file_sd; rate() reads low until its window is full.
  await waitForMetrics(lab, 12_000);

  const engine: TestEngine = {
    lab,
    tw,
    api,
    erratum(q) {
      const e = lab.fleet.findErratum({ relevantTo: 'test', ...q });
      if (!e) throw new Error(`the lab has no erratum ${JSON.stringify(q)}`);
      return e;
    },
    async queue(e) {
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().items[0].id;
    },
    runTest: (queueId) =>
      tw.client.workflow.execute<typeof patchTest>('patchTest', {
        taskQueue: tw.taskQueue,
        workflowId: workflowIds.patchTest(queueId),
        args: [{ queueId, requestedBy: 'test', timing: testTiming(tw.config) }],
        workflowExecutionTimeout: '4 minutes',
      }),
    async phases(testId) {
      const rows = await tw.db.selectFrom('patch_test_phases').select(['phase', 'status']).where('test_id', '=', testId).execute();
      return Object.fromEntries(rows.map((p) => [p.phase, p.status]));
    },
    testRow: (testId) => tw.db.selectFrom('patch_tests').selectAll().where('id', '=', testId).executeTakeFirstOrThrow(),
    queueStatus: async (id) => (await tw.db.selectFrom('patch_test_queue').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status,
    systemOf: (os) => lab.fleet.systemsOf(os, 'test')[0]!,
    async untilStatus(workflowId, status) {
      for (let i = 0; i < 600; i++) {
        const view = await queryStatus(tw, workflowId).catch(() => null);
        if (view?.status === status) return view;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`${workflowId} never reached ${status}`);
    },
    async close() {
      await api?.close();
      await tw?.close();
      await lab?.close();
    },
  };
  return engine;
}
