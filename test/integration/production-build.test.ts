import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startDevServer, freePort, type DevServer } from '../../lab/temporal-dev-server.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { NodeProcess, RELEASE_NODE, runNode, waitFor } from '../support/node-process.js';
import { adminConfig, createDatabase, untypedDb } from '../support/postgres.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

// The release as an SRE installs it: `npm run build`, then package.json, package-lock.json, dist/ and ui/ in a
// directory of their own with `npm ci --omit=dev` (no tsx, no TypeScript), and `node dist/...` for the
// migration, the worker, the ops CLI and the API — against a Temporal reached over mTLS in namespace
// spm-prod (not default), the lab's UYUNI, salt-api and exporters, and a fresh database.

const ROOT = path.resolve(import.meta.dirname, '../..');
const NAMESPACE = 'spm-prod';
const API_TOKEN = 'prod-build-viewer-token-0001';

describe('the production build: node dist/* after npm ci --omit=dev', () => {
  let release: string;
  let pki: TestPki;
  let server: DevServer;
  let proxy: TlsProxy;
  let lab: FullLab;
  let env: Record<string, string>;
  let worker: NodeProcess | undefined;
  let api: NodeProcess | undefined;
  let workerPort: number;
  let apiPort: number;
  const database = `${inject('templateDatabase').replace(/_template$/, '')}_prodbuild`;

  beforeAll(async () => {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    release = mkdtempSync(path.join(tmpdir(), 'spm-release-'));
    for (const item of ['package.json', 'package-lock.json', 'dist', 'ui']) cpSync(path.join(ROOT, item), path.join(release, item), { recursive: true });
    // npm of the Node the release runs on (RELEASE_NODE's folder first on PATH): its engine checks are that Node's.
    const npmEnv = { ...process.env, PATH: `${path.dirname(RELEASE_NODE)}:${process.env.PATH ?? ''}` };
    // RELEASE_NPM_CLI: that Node's npm-cli.js, run by it (a wheel's bin/npm is not runnable by itself).
    const npmArgs = ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'];
    const npmCli = process.env.RELEASE_NPM_CLI;
    const installed = npmCli
      ? spawnSync(RELEASE_NODE, [npmCli, ...npmArgs], { cwd: release, env: npmEnv, encoding: 'utf8' })
      : spawnSync('npm', npmArgs, { cwd: release, env: npmEnv, encoding: 'utf8' });
    expect(installed.status, installed.stderr).toBe(0);
    expect(`${installed.stdout}${installed.stderr}`).not.toContain('EBADENGINE');

    pki = makeTestPki();
    [server, lab] = await Promise.all([startDevServer({ namespace: NAMESPACE }), startFullLab()]);
    proxy = await startTlsProxy(pki, server.address, { requireClientCert: true });
    await createDatabase(database);
    [workerPort, apiPort] = [await freePort(), await freePort()];
    const admin = adminConfig();
    env = {
      ...lab.env,
      DB_HOST: String(admin.host),
      DB_PORT: String(admin.port),
      DB_USER: String(admin.user),
      DB_PASSWORD: String(admin.password ?? ''),
      DB_NAME: database,
      UYUNI_PASSWORD: 'lab-admin-password',
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TLS_CA: pki.ca,
      TEMPORAL_TLS_CERT: pki.clientCert,
      TEMPORAL_TLS_KEY: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: pki.serverName,
      WORKER_METRICS_PORT: String(workerPort),
      WORKER_SHUTDOWN_GRACE_SECONDS: '5',
      API_PORT: String(apiPort),
      API_TOKENS: `grafana:viewer:${API_TOKEN}`,
      LOG_LEVEL: 'info',
    };
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await proxy?.close();
    await server?.stop();
    await lab?.close();
  });

  it('installs without TypeScript tooling, on the Node it runs with', async () => {
    const version = (await runNode(['--version'], { cwd: release, env: {} })).output.trim();
    expect(version).toBe(execFileSync(RELEASE_NODE, ['--version'], { encoding: 'utf8' }).trim());
    process.stdout.write(`[production-build] the release runs on Node ${version} (${RELEASE_NODE})\n`);
    for (const tool of ['tsx', 'typescript', 'vitest', 'esbuild']) expect(existsSync(path.join(release, 'node_modules', tool)), tool).toBe(false);
    for (const entry of ['worker.js', 'client.js', 'api/main.js', 'db/migrate.js', 'workflow-bundle.js']) expect(existsSync(path.join(release, 'dist', entry)), entry).toBe(true);
  });

  it('node dist/db/migrate.js migrates a fresh database with the compiled migrations', async () => {
    const { code, output } = await runNode(['dist/db/migrate.js'], { cwd: release, env });
    expect(code, output).toBe(0);
    const db = untypedDb(database);
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      const sources = readdirSync(path.join(ROOT, 'db/migrations')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
      expect(rows.map((r) => r.name)).toEqual(sources);
    } finally {
      await db.destroy();
    }
  });

  it('node dist/worker.js connects over mTLS, loads the prebuilt bundle, syncs, and answers /healthz, /readyz, /metrics', async () => {
    // What the systemd unit's ExecStartPost runs: nothing answers yet → exit 1 with the reason.
    const early = await runNode(['dist/temporal/wait-ready.js', '1'], { cwd: release, env });
    expect(early.code).toBe(1);
    expect(early.output).toMatch(/not ready within 1 s/);
    worker = new NodeProcess(['dist/worker.js'], { cwd: release, env });
    const base = `http://127.0.0.1:${workerPort}`;
    const waited = await runNode(['dist/temporal/wait-ready.js', '120'], { cwd: release, env, timeoutMs: 130_000 });
    expect(waited.code, `${waited.output}\n${worker.tail()}`).toBe(0);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`${base}/readyz`)).json();
    expect(ready).toEqual({ status: 'ready', worker: 'RUNNING', checks: { temporal: 'ok', postgres: 'ok' } });
    expect(worker.log).toContain(path.join(release, 'dist', 'workflow-bundle.js'));
    expect(worker.log).toMatch(/"tls":"mtls"/);
    expect(worker.log).not.toContain('lab-admin-password');

    // The first sync (UYUNI_SYNC_ON_START) runs through the worker: its UYUNI calls show on /metrics.
    const sync = await runNode(['dist/client.js', 'sync'], { cwd: release, env, timeoutMs: 180_000 });
    expect(sync.code, sync.output).toBe(0);
    const summary = JSON.parse(sync.output) as { result: { systems: number; errata: number; errors: unknown[] } };
    expect(summary.result.systems).toBeGreaterThan(0);
    expect(summary.result.errata).toBeGreaterThan(0);
    expect(summary.result.errors).toEqual([]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^temporal_[a-z_]+/m); // the SDK's own series
    expect(metrics).toMatch(/^spm_external_calls_total\{system="uyuni",method="auth.login",outcome="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^spm_external_calls_total\{system="uyuni",method="system.getRelevantErrata",outcome="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^spm_external_call_duration_seconds_bucket\{le="\+Inf",system="uyuni",method="systemgroup.listAllGroups"\} [1-9]/m);
    expect(metrics).toMatch(/^spm_worker_process_resident_memory_bytes [0-9]/m);
  }, 300_000);

  it('node dist/client.js selftest runs a workflow through that worker; without the client certificate it is refused', async () => {
    const ok = await runNode(['dist/client.js', 'selftest'], { cwd: release, env });
    expect(ok.code, ok.output).toBe(0);
    expect(JSON.parse(ok.output)).toHaveProperty('databaseTime');
    const refused = await runNode(['dist/client.js', 'selftest'], { cwd: release, env: { ...env, TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' }, timeoutMs: 60_000 });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/^ops: /m);
  }, 120_000);

  it('node dist/api/main.js serves health, the dashboard and the business metrics over the same mTLS Temporal', async () => {
    api = new NodeProcess(['dist/api/main.js'], { cwd: release, env });
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor('API up', async () => (await fetch(`${base}/api/v1/health`)).status === 200, () => api!.tail());
    const detail = await fetch(`${base}/api/v1/health/detail`);
    const body = (await detail.json()) as { dependencies?: Record<string, { status: string }> } & Record<string, unknown>;
    expect(detail.status, JSON.stringify(body)).toBe(200);
    expect(JSON.stringify(body)).toMatch(/"temporal".{0,80}"(ok|up)"/);
    expect((await fetch(`${base}/ui/`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^spm_business_metrics_up\{source="postgres"\} 1$/m);
    expect(metrics).toMatch(/^spm_business_metrics_up\{source="temporal"\} 1$/m);
    expect(metrics).toMatch(/^spm_sync_last_success_timestamp_seconds [0-9.e+]+$/m);
    expect(metrics).toMatch(/^spm_temporal_task_queue_backlog\{type="workflow"\} [0-9]+$/m);
  }, 120_000);

  it('SIGTERM stops the worker and the API cleanly (exit 0)', async () => {
    const [w, a] = await Promise.all([worker!.stop('SIGTERM'), api!.stop('SIGTERM')]);
    expect(w, worker!.tail()).toEqual({ code: 0, signal: null });
    expect(a, api!.tail()).toEqual({ code: 0, signal: null });
    expect(worker!.log).toContain('worker stopped');
  }, 60_000);
});
