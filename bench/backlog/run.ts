import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startExportersOnFreePort } from '../../lab/exporter/index.js';
import { Fleet, type Erratum } from '../../lab/fleet/index.js';
import { startPrometheusApi } from '../../lab/prometheus/index.js';
import { startSaltLab } from '../../lab/salt/index.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { startUyuniLab } from '../../lab/uyuni/server.js';
import type { queuePatches, uyuniSync } from '../../workflows/index.js';
import { LAB_CREDENTIALS_ENV, positional, SMALL } from '../support/lab-env.js';
import { startTs, type Child } from '../support/processes.js';

// bench/backlog: the seed-scale lab's backlog drained twice by the real dispatcher (worker, Temporal,
// PostgreSQL, the lab's UYUNI/salt-api/exporters) — one erratum per run (bundle.max_size = 1), then in
// bundles (the default bundle.max_size, 8, sized by risk) under the default composition rules (kernel errata
// alone, errata scoring below 20 tested alone, large package groups spread over successive bundles), then in
// bundles where a kernel erratum may share a bundle (bundle.kernel_alone = 0: one kernel per bundle at most)
// — on 2 test systems per OS with the lab's waits shortened.
//   npx tsx bench/backlog/run.ts [N per OS, default: every relevant erratum] [--fault-rate=P] [--modes=one,bundles,kernels-shared]
//   npx tsx bench/backlog/run.ts --small    (6 errata per OS; .ci/run)
// --fault-rate=P keeps every clean erratum of the backlog and only as many faulty ones as make P (e.g. 0.01);
// by default the backlog holds all the lab's seeded faulty errata (≈ 6 %). Reboot-hang kernels are left out:
// a host that never comes back is quarantined for a person in both modes, which would stop the drain.
// Prints, per mode: test runs, wall time of the drain, faulty errata found (all must be), clean errata blamed
// (none may be), inconclusive items; then the ratios.

const PER_OS = SMALL ? 6 : Number(positional()[0] ?? Number.POSITIVE_INFINITY);
const FAULT_RATE = Number(process.argv.find((a) => a.startsWith('--fault-rate='))?.split('=')[1] ?? NaN);
const BUNDLE = '/tmp/spm-bench-workflow-bundle.js';
const FAULTY = new Set(['fail_apply', 'cpu_spike', 'memory_leak', 'stop_service']);

type Mode = 'one by one' | 'bundles' | 'bundles, kernels shared';
const MODES: Record<string, Mode> = { one: 'one by one', bundles: 'bundles', 'kernels-shared': 'bundles, kernels shared' };
const SELECTED = (process.argv.find((a) => a.startsWith('--modes='))?.split('=')[1] ?? 'one,bundles,kernels-shared').split(',').map((m) => {
  const mode = MODES[m];
  if (!mode) throw new Error(`--modes: ${m} is none of ${Object.keys(MODES).join(', ')}`);
  return mode;
});
interface Outcome {
  mode: Mode; items: number; faulty: number; runs: number; wallS: number; found: number; missed: string[]; blamed: string[]; inconclusive: number; other: Record<string, number>;
  /** Runs of one erratum outside any bundle, bundles started, their mean size, bisection runs by kind. */
  alone: number; bundles: number; meanSize: number; byKind: Record<string, number>;
}

function backlogOf(fleet: Fleet): Erratum[] {
  const out: Erratum[] = [];
  for (const os of ['ubuntu', 'rhel'] as const) {
    const relevant = fleet.findErrata({ os, relevantTo: 'test' }).filter((e) => e.personality !== 'reboot_hang');
    let clean = relevant.filter((e) => !FAULTY.has(e.personality));
    let faulty = relevant.filter((e) => FAULTY.has(e.personality));
    if (Number.isFinite(PER_OS)) {
      const share = faulty.length / relevant.length;
      const nFaulty = Math.max(1, Math.round(PER_OS * (Number.isFinite(FAULT_RATE) ? FAULT_RATE : share)));
      faulty = faulty.slice(0, nFaulty);
      clean = clean.slice(0, Math.max(0, PER_OS - faulty.length));
    } else if (Number.isFinite(FAULT_RATE)) {
      faulty = faulty.slice(0, Math.max(1, Math.round((FAULT_RATE * clean.length) / (1 - FAULT_RATE))));
    }
    out.push(...clean, ...faulty);
  }
  return out;
}

async function drain(mode: Mode, temporalAddress: string): Promise<Outcome> {
  const fleet = new Fleet({ testSystemsPerOs: 2, prodSystemsPerOs: 0, actionPickupMs: 100, actionCompleteMs: 300, rebootMs: 500 });
  const uyuni = await startUyuniLab({ fleet });
  const salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 100, snapperMs: 50 } });
  const exporters = await startExportersOnFreePort({ fleet });
  const prometheus = await startPrometheusApi({ fleet, instanceOf: (s) => exporters.instanceOf(s) });
  const db = `spm_bench_backlog_${mode === 'one by one' ? 'single' : mode === 'bundles' ? 'bundles' : 'kernels'}_${process.pid}`;
  const keep = process.env.BENCH_KEEP_DB === '1'; // kept for a look at the bundles' size_policy afterwards
  let worker: Child | undefined;
  try {
    const admin = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${db}"`);
    await admin.end();
    const taskQueue = `bench-backlog-${Date.now()}`;
    const env = {
      ...LAB_CREDENTIALS_ENV, DB_NAME: db, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, UYUNI_URL: uyuni.url,
      SALT_URL: salt.url, PROMETHEUS_URL: prometheus.url, NODE_EXPORTER_PORT: String(exporters.port), UYUNI_SYNC_ON_START: 'false',
      WORKER_METRICS_PORT: '0', WORKER_MANAGE_SCHEDULES: 'true', LOG_LEVEL: 'info', DOTENV_PATH: '/nonexistent', WORKER_WORKFLOW_BUNDLE: BUNDLE,
      TEST_AUTO_DISPATCH: 'false', TEST_METRICS_RANGE_SECONDS: '2', TEST_METRICS_WINDOW_SECONDS: '2', TEST_POLL_SECONDS: '0.2',
      TEST_ACTION_TIMEOUT_SECONDS: '60', TEST_REBOOT_TIMEOUT_SECONDS: '30', TEST_LEASE_WAIT_SECONDS: '1', TEST_BASELINE_TIMEOUT_SECONDS: '30',
    };
    const migrate = startTs('db/migrate.ts', env);
    await new Promise((r) => migrate.process.once('exit', r));
    const pool = new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: db, max: 2 });
    const settings: Record<string, unknown> = {
      'test.settle_seconds': 2,
      // the lab's memory leak climbs 10 pp at once, then 1 pp/s: visible within the shortened settle
      'test.memory_delta_threshold': 8,
      // the services the lab's fleet runs (its stop_service errata stop one of them): what an SRE lists as critical
      'test.critical_services': { ubuntu: ['ssh', 'cron', 'nginx'], rhel: ['sshd', 'crond', 'httpd'], debian: ['ssh', 'cron'] },
      // bundles: the product's default bundle.max_size (8); one by one: 1
      ...(mode === 'one by one' ? { 'bundle.max_size': 1 } : {}),
      ...(mode === 'bundles, kernels shared' ? { 'bundle.kernel_alone': 0 } : {}),
    };
    for (const [key, value] of Object.entries(settings)) await pool.query('UPDATE orchestrator_config SET value = $2::jsonb WHERE key = $1', [key, JSON.stringify(value)]);
    worker = startTs('worker.ts', { ...env, TEST_AUTO_DISPATCH: 'true' });
    await worker.waitFor((l) => l.includes('worker started'), 120_000);
    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    await client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue, workflowId: `bench-backlog-sync-${taskQueue}`, args: [{ trigger: 'manual' }] });
    await new Promise((r) => setTimeout(r, 5_000)); // the exporters' rate() windows fill

    const backlog = backlogOf(fleet);
    const byName = new Map(backlog.map((e) => [e.advisoryName, e]));
    const started = performance.now();
    await client.workflow.execute<typeof queuePatches>('queuePatches', {
      taskQueue, workflowId: `bench-backlog-queue-${taskQueue}`,
      args: [{ requestId: taskQueue, requestedBy: 'bench', items: backlog.map((e) => ({ advisoryName: e.advisoryName, targetOs: e.os })), priorityOverride: null, notes: null }],
    });
    // Drained: nothing queued or testing for 3 s in a row (the dispatcher starts the next run within a second).
    let quietSince = 0;
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(`select count(*)::integer as n from patch_test_queue where status in ('queued', 'testing')`);
      if ((rows[0]?.n ?? 1) === 0) {
        quietSince ||= performance.now();
        if (performance.now() - quietSince > 3_000) break;
      } else quietSince = 0;
      await new Promise((r) => setTimeout(r, 500));
    }
    const wallS = (performance.now() - started - 3_000) / 1000;
    const runs = (await pool.query<{ n: number }>(`select count(*)::integer as n from patch_tests where status <> 'cancelled'`)).rows[0]?.n ?? 0;
    const items = (await pool.query<{ advisory_name: string; status: string; status_reason: string | null }>('select advisory_name, status, status_reason from patch_test_queue')).rows;
    const alone = (await pool.query<{ n: number }>(`select count(*)::integer as n from patch_tests where status <> 'cancelled' and bundle_id is null`)).rows[0]?.n ?? 0;
    const roots = (await pool.query<{ n: number; mean: number | null }>(`select count(*)::integer as n, avg(cardinality(member_ids))::float as mean from test_bundles where kind = 'bundle'`)).rows[0];
    const kinds = (await pool.query<{ kind: string; n: number }>(`select kind, count(*)::integer as n from test_bundles group by kind order by kind`)).rows;
    // The dispatcher (one per namespace), the patchTests waiting for approval (their ids are queue ids, which the
    // next mode's database numbers again) and the sync Schedule belong to this mode: gone before the next.
    for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
      await client.workflow.getHandle(w.workflowId, w.runId).terminate('bench mode over').catch(() => undefined);
    }
    await client.workflow.getHandle('test-dispatcher').terminate('bench mode over').catch(() => undefined);
    await client.schedule.getHandle('uyuni-sync').delete().catch(() => undefined);
    await connection.close();
    await pool.end();
    if (!keep) {
      const drop = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
      await drop.end();
    }
    const blamedStatus = new Set(['rolled_back', 'failed']);
    const out: Outcome = {
      mode, items: items.length, faulty: 0, runs, wallS, found: 0, missed: [], blamed: [], inconclusive: 0, other: {},
      alone, bundles: roots?.n ?? 0, meanSize: roots?.mean ?? 0, byKind: Object.fromEntries(kinds.map((k) => [k.kind, k.n])),
    };
    for (const it of items) {
      const e = byName.get(it.advisory_name);
      const faulty = !!e && FAULTY.has(e.personality);
      if (faulty) out.faulty++;
      if (it.status === 'inconclusive') out.inconclusive++;
      if (it.status === 'inconclusive' && faulty) out.missed.push(`${it.advisory_name} (${e?.personality}: inconclusive${it.status_reason ? `, ${it.status_reason.slice(0, 160)}` : ''})`);
      else if (it.status === 'inconclusive') continue;
      else if (faulty && blamedStatus.has(it.status)) out.found++;
      else if (faulty) out.missed.push(`${it.advisory_name} (${e?.personality}: ${it.status}${it.status_reason ? `, ${it.status_reason.slice(0, 160)}` : ''})`);
      else if (blamedStatus.has(it.status)) out.blamed.push(it.advisory_name);
      else if (!['passed', 'pending_approval'].includes(it.status)) out.other[it.status] = (out.other[it.status] ?? 0) + 1;
    }
    return out;
  } finally {
    await worker?.stop();
    await prometheus.close();
    await exporters.close();
    await salt.close();
    await uyuni.close();
  }
}

async function main(): Promise<void> {
  let server: DevServer | undefined;
  try {
    const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
    const build = startTs('temporal/build-workflow-bundle.ts', {}, [BUNDLE]);
    await new Promise((r) => build.process.once('exit', r));
    const results: Outcome[] = [];
    for (const mode of SELECTED) results.push(await drain(mode, temporalAddress));
    const lines = [`bench/backlog: 2 test systems per OS, the lab's waits shortened${Number.isFinite(FAULT_RATE) ? `, fault rate ${(FAULT_RATE * 100).toFixed(1)} %` : ''}`];
    for (const r of results) {
      lines.push(
        `  ${r.mode.padEnd(23)} items ${r.items} (faulty ${r.faulty}, ${((100 * r.faulty) / Math.max(1, r.items)).toFixed(1)} %)  test runs ${r.runs}  wall time ${r.wallS.toFixed(1)} s  ` +
          `faulty found ${r.found}/${r.faulty}  clean blamed ${r.blamed.length}  inconclusive ${r.inconclusive}`,
      );
      if (r.mode !== 'one by one') lines.push(`    runs of one erratum alone ${r.alone}, bundles ${r.bundles} (mean size ${r.meanSize.toFixed(1)}), runs by kind ${JSON.stringify(r.byKind)}`);
      if (r.missed.length) lines.push(`    missed: ${r.missed.join(', ')}`);
      if (r.blamed.length) lines.push(`    blamed: ${r.blamed.join(', ')}`);
      if (Object.keys(r.other).length) lines.push(`    other statuses: ${JSON.stringify(r.other)}`);
    }
    const one = results.find((r) => r.mode === 'one by one');
    for (const b of results.filter((r) => r !== one)) {
      if (!one) break;
      lines.push(`  ${b.mode}: runs ratio one-by-one/bundles ${(one.runs / Math.max(1, b.runs)).toFixed(2)}x  wall ratio ${(one.wallS / Math.max(0.001, b.wallS)).toFixed(2)}x`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/backlog: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
