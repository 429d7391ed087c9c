import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_API_TOKENS } from '../config/api-tokens.js';
import { startExporters, writeTargets, type Exporters } from './exporter/index.js';
import { DEFAULT_SEED, SCALES, type ScaleName } from './fleet/index.js';
import { findPrometheusBinary, startPrometheus, startPrometheusApi } from './prometheus/index.js';
import { DEFAULT_SALT_CREDENTIALS, startSaltLab, type SaltLab } from './salt/index.js';
import { queueTopAdvisories, waitForFirstSync } from './seed-queue.js';
import { startDevServer, type DevServer } from './temporal-dev-server.js';
import { fleetCves, startIntelLab, type IntelLab } from './intel/server.js';
import { DEFAULT_CREDENTIALS, startUyuniLab, type UyuniLab } from './uyuni/server.js';
import { startNotifyLab, type NotifyLab } from './notify/server.js';
import { configureLabEndpoints } from './notify/configure.js';

// `npm run lab`: the whole system on embedded defaults, on this machine only (loopback).
// Temporal dev server (Web UI :8233, state kept in .lab/temporal.db) → the lab's UYUNI (:8090), salt-api (:8091)
// and a node-exporter per simulated system (<ip>:9100), one seeded fleet → Prometheus (:9090; the Debian
// package when installed, else the lab's query API) → migrations → worker (creates the uyuni-sync Schedule and
// syncs at once; auto-dispatch on) → API (:5001) → the most severe advisories are queued and tested.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// LAB_STATE_DIR: where the lab keeps Temporal's SQLite file, Prometheus' data and the scrape targets (CI's
// fuzz environment uses a fresh one of its own).
const LAB_DIR = path.resolve(ROOT, process.env.LAB_STATE_DIR ?? '.lab');

/** Embedded defaults; anything already set in the environment (or .env) wins. */
const LAB_ENV: Record<string, string> = {
  SPM_ENV: 'lab',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  DB_NAME: 'spm',
  API_PORT: '5001',
  WORKER_METRICS_PORT: '9464',
  UYUNI_URL: 'http://127.0.0.1:8090/rpc/api',
  UYUNI_USER: DEFAULT_CREDENTIALS.user,
  UYUNI_PASSWORD: DEFAULT_CREDENTIALS.password,
  SALT_URL: 'http://127.0.0.1:8091',
  SALT_USER: DEFAULT_SALT_CREDENTIALS.user,
  SALT_PASSWORD: DEFAULT_SALT_CREDENTIALS.password,
  SALT_EAUTH: DEFAULT_SALT_CREDENTIALS.eauth,
  PROMETHEUS_URL: 'http://127.0.0.1:9090',
  NODE_EXPORTER_PORT: '9100',
  // The lab's waits are short, so a test takes about a minute instead of several.
  TEST_SETTLE_SECONDS: '15',
  TEST_METRICS_RANGE_SECONDS: '10',
  TEST_METRICS_WINDOW_SECONDS: '10',
  TEST_POLL_SECONDS: '1',
  TEST_REBOOT_TIMEOUT_SECONDS: '60',
  TEST_BASELINE_TIMEOUT_SECONDS: '180',
  TEST_AUTO_DISPATCH: 'true',
  // issue 14: the lab's NVD / EPSS / KEV (lab/intel), keyed like a site with an NVD API key
  NVD_URL: 'http://127.0.0.1:8092/rest/json/cves/2.0',
  NVD_API_KEY: 'lab-nvd-api-key',
  EPSS_URL: 'http://127.0.0.1:8092/data/v1/epss',
  KEV_URL: 'http://127.0.0.1:8092/feeds/known_exploited_vulnerabilities.json',
};

function log(msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), name: 'lab', ...extra, msg })}\n`);
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1');
  });
}

function run(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env, stdio: 'inherit' });
  child.once('exit', (code, signal) => log(`${name} exited`, { code, signal }));
  return child;
}

async function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function main(): Promise<void> {
  mkdirSync(LAB_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...LAB_ENV, ...process.env };
  const children: ChildProcess[] = [];
  let temporal: DevServer | undefined;
  // Assigned as the lab comes up; shutdown closes whatever exists by then.
  const started: { uyuni?: UyuniLab; salt?: SaltLab; exporters?: Exporters; prometheus?: { stop(): Promise<void> }; intel?: IntelLab; notify?: NotifyLab } = {};

  const shutdown = async (code: number) => {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await Promise.all(children.map(waitExit));
    await started.notify?.close();
    await started.prometheus?.stop();
    await started.exporters?.close();
    await started.salt?.close();
    await started.uyuni?.close();
    await started.intel?.close();
    await temporal?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  const temporalPort = Number((env.TEMPORAL_ADDRESS ?? '').split(':')[1] ?? 7233);
  // The dev server's Web UI listens on the Temporal port + 1000: the dashboard links workflows there.
  env.TEMPORAL_UI_URL ??= `http://127.0.0.1:${temporalPort + 1000}`;
  if (await listening(temporalPort)) {
    log('using the Temporal server already listening', { address: env.TEMPORAL_ADDRESS });
  } else {
    temporal = await startDevServer({ port: temporalPort, uiPort: temporalPort + 1000, dbFilename: path.join(LAB_DIR, 'temporal.db') });
    log('Temporal dev server started', { address: temporal.address, webUi: `http://127.0.0.1:${temporalPort + 1000}` });
  }

  const scale = (env.LAB_SCALE ?? 'seed') as ScaleName;
  if (!(scale in SCALES)) throw new Error(`LAB_SCALE must be one of ${Object.keys(SCALES).join(', ')}`);
  const maintenance = env.LAB_MAINTENANCE ?? 'none';
  if (maintenance !== 'none' && maintenance !== 'mixed') throw new Error(`LAB_MAINTENANCE must be none or mixed, got "${maintenance}"`);
  const uyuniUrl = new URL(env.UYUNI_URL ?? LAB_ENV.UYUNI_URL!);
  const uyuni = await startUyuniLab({
    port: Number(uyuniUrl.port),
    fleet: { ...SCALES[scale], seed: Number(env.LAB_SEED ?? DEFAULT_SEED), maintenance },
    credentials: { user: env.UYUNI_USER, password: env.UYUNI_PASSWORD },
    latencyMs: Number(env.LAB_LATENCY_MS ?? 0),
  });
  started.uyuni = uyuni;
  log('lab UYUNI started', { url: uyuni.url, control: `${uyuni.baseUrl}/lab/truth`, scale, systems: uyuni.fleet.systems.length });
  started.intel = await startIntelLab(fleetCves(uyuni.fleet), { port: Number(new URL(env.NVD_URL ?? LAB_ENV.NVD_URL!).port), seed: Number(env.LAB_SEED ?? DEFAULT_SEED) });
  log('lab NVD / EPSS / KEV started', { nvd: started.intel.nvdUrl, epss: started.intel.epssUrl, kev: started.intel.kevUrl, cves: started.intel.data.nvd.size, kevListed: started.intel.data.kev.size });
  started.salt = await startSaltLab({ fleet: uyuni.fleet, port: Number(new URL(env.SALT_URL ?? LAB_ENV.SALT_URL!).port) });
  const exporters = await startExporters({ fleet: uyuni.fleet, port: Number(env.NODE_EXPORTER_PORT), labId: 'lab' });
  started.exporters = exporters;
  log('lab salt-api and node-exporters started', { salt: started.salt.url, exporters: exporters.targets.length, example: `http://${exporters.targets[0]}/metrics` });
  const promPort = Number(new URL(env.PROMETHEUS_URL ?? LAB_ENV.PROMETHEUS_URL!).port);
  let hasPrometheus = true;
  try {
    findPrometheusBinary();
  } catch {
    hasPrometheus = false;
  }
  if (hasPrometheus) {
    mkdirSync(path.join(LAB_DIR, 'targets'), { recursive: true });
    await writeTargets(path.join(LAB_DIR, 'targets', 'lab.json'), exporters.targetGroups());
    const prometheus = await startPrometheus({ port: promPort, dataDir: path.join(LAB_DIR, 'prometheus'), targetsGlob: path.join(LAB_DIR, 'targets', '*.json'), scrapeIntervalSeconds: 1 });
    started.prometheus = prometheus;
    log('Prometheus started (scraping the lab exporters)', { url: prometheus.url });
  } else {
    const api = await startPrometheusApi({ fleet: uyuni.fleet, instanceOf: (s) => exporters.instanceOf(s), port: promPort });
    started.prometheus = { stop: () => api.close() };
    log('no Prometheus binary: the lab answers the Prometheus query API itself', { url: api.url });
  }

  // Notifications: a real SMTP server and a webhook receiver (LAB_SMTP_PORT / LAB_NOTIFY_PORT, a free port
  // when taken), pre-configured as the endpoints lab-mail and lab-webhook after the migrations.
  const notify = await startNotifyLab({ httpPort: Number(env.LAB_NOTIFY_PORT ?? 8092), smtpPort: Number(env.LAB_SMTP_PORT ?? 2525) });
  started.notify = notify;
  env.SMTP_URL ??= notify.smtpUrl;
  env.SMTP_REQUIRE_TLS ??= 'false';
  env.NOTIFY_DASHBOARD_URL ??= `http://127.0.0.1:${env.API_PORT}`;
  log('lab SMTP server and webhook receiver started', { smtp: notify.smtpUrl, mail: `${notify.httpUrl}/lab/mail`, webhooks: `${notify.httpUrl}/lab/webhooks` });

  const migrate = run('migrate', 'db/migrate.ts', ['latest'], env);
  if ((await waitExit(migrate)) !== 0) return shutdown(1);
  await configureLabEndpoints(env, notify.hookUrl('lab'));

  children.push(run('worker', 'worker.ts', [], env));
  children.push(run('api', 'api/main.ts', [], env));
  log('lab is up', {
    api: `http://127.0.0.1:${env.API_PORT}/docs`,
    dashboard: `http://127.0.0.1:${env.API_PORT}/ui/`,
    temporalUi: `http://127.0.0.1:${temporalPort + 1000}`,
    tokens: Object.fromEntries(LAB_API_TOKENS.map((t) => [t.role, t.token])),
  });

  const apiBase = `http://127.0.0.1:${env.API_PORT}`;
  waitForFirstSync(apiBase)
    .then(() => queueTopAdvisories(apiBase))
    .then((ids) => log('queued the most severe advisories of each OS', { queueIds: ids, see: `${apiBase}/api/v1/queue` }))
    .catch((err: unknown) => log('could not queue advisories', { error: String(err) }));

  // If the worker or the API dies, the lab is not usable: stop everything and say so.
  const first = await Promise.race(children.map(async (c) => ({ c, code: await waitExit(c) })));
  log('a lab process stopped; shutting the lab down', { pid: first.c.pid, code: first.code });
  await shutdown(first.code === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
