import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startExportersOnFreePort } from '../../lab/exporter/index.js';
import { Fleet } from '../../lab/fleet/index.js';
import { startPrometheusApi } from '../../lab/prometheus/index.js';
import { startSaltLab } from '../../lab/salt/index.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { startUyuniLab } from '../../lab/uyuni/server.js';
import type { productionDeployment, queuePatches, uyuniSync } from '../../workflows/index.js';
import { workflowIds, type DeploymentInput, type DeploymentResult, type TestTiming } from '../../workflows/messages.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { existsSync } from 'node:fs';
import { peakRssMb, ROOT, startJs, startTs, type Child } from '../support/processes.js';

// bench/rollout: one production rollout over N lab production systems (5 groups, one OS) in waves of W,
// batches of B (one UYUNI action each), the lab's actions completing after ACTION_MS, no soak, no reboot.
//   npx tsx bench/rollout/run.ts [N=10000] [W=1000] [B=100]
//   npx tsx bench/rollout/run.ts --small   (N=200, W=50: checks it still runs; .ci/bench-small)
//   npx tsx bench/rollout/run.ts --built   (the worker as shipped: `npm run build` first, then node dist/worker.js
//                                           with dist/workflow-bundle.js, as ops/systemd/spm-worker.service runs it)
// Prints: wall time against the lab's floor (waves × action time), the worker's peak RSS, the largest
// workflow history (events and bytes, over the rollout and each wave child), UYUNI calls against
// 5 × (batches + polls), and the outcome.

const [nArg, wArg, bArg] = positional();
const N = SMALL ? 200 : Number(nArg ?? 10_000);
const WAVE = SMALL ? 50 : Number(wArg ?? 1000);
const BATCH = SMALL ? 25 : Number(bArg ?? 100);
const PICKUP_MS = 100;
const COMPLETE_MS = 900;
const ACTION_MS = PICKUP_MS + COMPLETE_MS;
const TIMING: TestTiming = {
  settleSeconds: 0, metricsRangeSeconds: 2, metricsWindowSeconds: 2, pollSeconds: 0.25,
  actionTimeoutSeconds: 300, rebootTimeoutSeconds: 60, leaseWaitSeconds: 1, baselineTimeoutSeconds: 30,
};
const BUILT = process.argv.includes('--built');
const DB = 'spm_bench_rollout';
const BUNDLE = '/tmp/spm-bench-rollout-bundle.js';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

async function historyOf(client: Client, workflowId: string): Promise<{ events: number; bytes: number; history: History }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  // Bytes of its proto3 JSON (payloads base64): an upper bound of the binary size Temporal limits.
  return { events: history.events?.length ?? 0, bytes: Buffer.byteLength(historyToJSON(history)), history };
}

const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);

/**
 * Where a wave's time went, from its history: per activity type the mean wait for a worker slot (scheduled →
 * started) and the mean run (started → closed), and the wave's span (its first event to its last).
 */
function waveSteps(history: History): { spanMs: number; steps: Map<string, { n: number; waitMs: number; runMs: number }> } {
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; at: number; startedAt?: number }>();
  const steps = new Map<string, { n: number; waitMs: number; runMs: number }>();
  for (const e of events) {
    const id = String(e.eventId);
    const at = msOf(e.eventTime);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
    const started = e.activityTaskStartedEventAttributes;
    if (started) { const s = scheduled.get(String(started.scheduledEventId)); if (s) s.startedAt = at; }
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (closed) {
      const s = scheduled.get(String(closed.scheduledEventId));
      if (!s) continue;
      const step = steps.get(s.type) ?? { n: 0, waitMs: 0, runMs: 0 };
      step.n++;
      step.waitMs += (s.startedAt ?? at) - s.at;
      step.runMs += at - (s.startedAt ?? at);
      steps.set(s.type, step);
    }
  }
  return { spanMs: msOf(events.at(-1)?.eventTime) - msOf(events[0]?.eventTime), steps };
}

async function main(): Promise<void> {
  const fleet = new Fleet({
    testSystemsPerOs: 1, prodSystemsPerOs: 0, prodSystemsByOs: { rhel: N, ubuntu: 0 }, prodGroupsPerOs: 5, fleetWideErrata: 1,
    errataPerOs: SMALL ? 100 : 400, relevantPerSystem: SMALL ? 20 : 30, actionPickupMs: PICKUP_MS, actionCompleteMs: COMPLETE_MS, rebootMs: 500,
  });
  const uyuni = await startUyuniLab({ fleet });
  const salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 100, snapperMs: 50 } });
  // Exporters for the test systems only: the rollout reads no metrics (no verdict here), 10,000 listeners would only cost.
  const exporters = await startExportersOnFreePort({ fleet, systems: [...fleet.systemsOf('rhel', 'test'), ...fleet.systemsOf('ubuntu', 'test')] });
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
    const taskQueue = `bench-rollout-${Date.now()}`;
    const env = {
      ...LAB_CREDENTIALS_ENV, DB_NAME: DB, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_URL: uyuni.url,
      SALT_URL: salt.url, PROMETHEUS_URL: prometheus.url, NODE_EXPORTER_PORT: String(exporters.port),
      UYUNI_SYNC_ON_START: 'false', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'info', DOTENV_PATH: '/nonexistent', WORKER_WORKFLOW_BUNDLE: BUNDLE,
    };
    const migrate = startTs('db/migrate.ts', env);
    await new Promise((r) => migrate.process.once('exit', r));
    if (BUILT) {
      if (!existsSync(`${ROOT}/dist/worker.js`)) throw new Error('--built: run `npm run build` first (dist/worker.js)');
      worker = startJs('dist/worker.js', { ...env, WORKER_WORKFLOW_BUNDLE: `${ROOT}/dist/workflow-bundle.js` });
    } else {
      const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
      await new Promise((r) => build.process.once('exit', r));
      worker = startTs('worker.ts', env);
    }
    await worker.waitFor((l) => l.includes('worker started'), 120_000);

    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `bench-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
    const e = fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false }, 400).find((x) => fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length === N);
    if (!e) throw new Error('no fleet-wide erratum in the lab fleet');
    const [queueId] = await client.workflow.execute<typeof queuePatches>('queuePatches', {
      taskQueue, workflowId: `bench-queue-${taskQueue}`, args: [{ requestId: taskQueue, requestedBy: 'bench', items: [{ advisoryName: e.advisoryName, targetOs: 'rhel' }], priorityOverride: null, notes: null }],
    });
    if (queueId === undefined) throw new Error('the erratum was not queued');
    // The test and the approval are not what this bench measures: the item is moved along the status machine.
    const db = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: DB });
    await db.connect();
    for (const s of ['testing', 'passed', 'pending_approval', 'approved']) await db.query('UPDATE patch_test_queue SET status = $1 WHERE id = $2', [s, queueId]);
    const errata = await db.query<{ uyuni_errata_id: number }>('SELECT uyuni_errata_id FROM errata_cache WHERE advisory_name = $1', [e.advisoryName]);

    const input: DeploymentInput = {
      queueId, advisoryName: e.advisoryName, errataId: errata.rows[0]!.uyuni_errata_id, targetOs: 'rhel', requiresReboot: false, requestedBy: 'bench',
      policy: { canarySize: 0, soakSeconds: 0, waveSize: WAVE, failureBudgetCount: N, failureBudgetPercent: 100, batchSize: BATCH },
      timing: TIMING,
    };
    uyuni.stats.reset();
    // The worker's resident set and CPU sampled every 100 ms: which phase its peak falls in, and how busy it was.
    const pid = worker.process.pid!;
    const samples: { at: number; rssMb: number }[] = [];
    const cpuAt = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
    const cpu0 = cpuAt();
    // The labs (UYUNI, salt-api, exporters) run in this process: their CPU is the lab's own time, not the product's.
    const labCpu0 = process.cpuUsage();
    const sampler = setInterval(() => {
      try { samples.push({ at: Date.now(), rssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 }); } catch { /* exited */ }
    }, 100);
    const started = performance.now();
    const result: DeploymentResult = await client.workflow.execute<typeof productionDeployment>('productionDeployment', {
      taskQueue, workflowId: workflowIds.deployment(queueId), args: [input],
    });
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    const cpuMs = cpuAt() - cpu0;
    const labCpu = process.cpuUsage(labCpu0);
    const labCpuMs = (labCpu.user + labCpu.system) / 1000;
    const rss = peakRssMb(worker.process.pid!);
    const calls = uyuni.stats.snapshot();
    const waves = (await db.query<{ n: number }>('SELECT count(DISTINCT wave)::int AS n FROM patch_deployments WHERE queue_id = $1', [queueId])).rows[0]!.n;
    const batches = (await db.query<{ n: number }>('SELECT count(DISTINCT (wave, batch))::int AS n FROM patch_deployments WHERE queue_id = $1', [queueId])).rows[0]!.n;
    // Where the time went: planning (UYUNI's lists, the plan, the insert) until the first wave started, then the waves.
    const span = (await db.query<{ first: Date; last: Date }>('SELECT min(started_at) AS first, max(completed_at) AS last FROM patch_deployments WHERE queue_id = $1', [queueId])).rows[0]!;
    const wavesMs = span.last.getTime() - span.first.getTime();
    const peakIn = (from: number, to: number) => Math.round(Math.max(0, ...samples.filter((x) => x.at >= from && x.at <= to).map((x) => x.rssMb)));
    await db.end();
    const polls = uyuni.stats.count('schedule.listInProgressSystems');
    const histories = [{ id: workflowIds.deployment(queueId), ...(await historyOf(client, workflowIds.deployment(queueId))) }];
    for (let w = 0; w < waves; w++) histories.push({ id: workflowIds.deploymentWave(queueId, w), ...(await historyOf(client, workflowIds.deploymentWave(queueId, w))) });
    // Per wave: its span, the gap before it (the rollout's own work between waves), and its steps.
    const spans = histories.slice(1).map((h) => ({ first: msOf(h.history.events?.[0]?.eventTime), ...waveSteps(h.history) }));
    const gaps = spans.slice(1).map((s, i) => s.first - (spans[i]!.first + spans[i]!.spanMs));
    const all = new Map<string, { n: number; waitMs: number; runMs: number }>();
    for (const s of spans) for (const [k, v] of s.steps) { const a = all.get(k) ?? { n: 0, waitMs: 0, runMs: 0 }; a.n += v.n; a.waitMs += v.waitMs; a.runMs += v.runMs; all.set(k, a); }
    const stepLine = [...all.entries()].map(([k, v]) => `${k} ${(v.waitMs / v.n).toFixed(0)}+${(v.runMs / v.n).toFixed(0)} ms`).join(', ');
    const meanSpan = spans.reduce((n, s) => n + s.spanMs, 0) / Math.max(1, spans.length);
    const meanGap = gaps.reduce((n, g) => n + g, 0) / Math.max(1, gaps.length);
    const largest = histories.reduce((a, b) => (b.events > a.events ? b : a));
    const biggest = histories.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    await connection.close();

    const floorMs = waves * ACTION_MS;
    const perMethod = Object.entries(calls.calls as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ');
    process.stdout.write(
      [
        `bench/rollout${BUILT ? ' (built worker: node dist/worker.js)' : ' (worker under tsx)'}: ${result.targets} production systems (5 groups), waves of ${WAVE}, batches of ${BATCH}, lab actions done after ${ACTION_MS} ms: ${result.status}, ${result.applied} applied, ${result.failed} failed`,
        `  wall time                      ${(wallMs / 1000).toFixed(1)} s`,
        `  lab floor (waves × action)     ${(floorMs / 1000).toFixed(1)} s (${waves} waves × ${ACTION_MS} ms)`,
        `  of which planning / waves      ${((wallMs - wavesMs) / 1000).toFixed(1)} s / ${(wavesMs / 1000).toFixed(1)} s (first restore point to last system done; waves alone ${(wavesMs / floorMs).toFixed(2)} × the floor)`,
        `  per wave                       span ${(meanSpan / 1000).toFixed(2)} s mean, gap between waves ${(meanGap / 1000).toFixed(2)} s mean`,
        `  per step (wait for a slot + run, mean) ${stepLine}`,
        `  rollout's own steps            ${[...waveSteps(histories[0]!.history).steps.entries()].map(([k, v]) => `${k} ${(v.waitMs / v.n).toFixed(0)}+${(v.runMs / v.n).toFixed(0)} ms`).join(', ')}`,
        `  ratio                          ${(wallMs / floorMs).toFixed(2)} (target ≤ 1.2)`,
        `  worker peak RSS                ${rss} MB (target ≤ 400 MB; sampled: ${peakIn(0, span.first.getTime())} MB before the first wave, ${peakIn(span.first.getTime(), Infinity)} MB in the waves)`,
        `  worker CPU                     ${(cpuMs / 1000).toFixed(1)} s over the rollout (${((100 * cpuMs) / wallMs).toFixed(0)} % of one core); the labs (this process) ${(labCpuMs / 1000).toFixed(1)} s (${((100 * labCpuMs) / wallMs).toFixed(0)} %)`,
        `  largest workflow history       ${largest.events} events (${largest.id}; target ≤ 10,000), largest ${(biggest.bytes / 1e6).toFixed(2)} MB (${biggest.id}; target ≤ 10 MB)`,
        `  UYUNI calls                    ${calls.totalCalls} for ${batches} batches + ${polls} polls: ${(calls.totalCalls / (batches + polls)).toFixed(2)} per batch or poll (target ≤ 5)`,
        `  UYUNI calls by method          ${perMethod}`,
        '',
      ].join('\n'),
    );
    if (result.targets !== N) throw new Error(`planned ${result.targets} systems, expected ${N}`);
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
  process.stderr.write(`bench/rollout: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
