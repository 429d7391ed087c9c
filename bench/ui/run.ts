import { loadavg } from 'node:os';
import pg from 'pg';
import { Agent, request } from 'undici';
import { startDevServer, freePort, type DevServer } from '../../lab/temporal-dev-server.js';
import { launchChromium } from '../../test/support/browser.js';
import { startTs } from '../support/processes.js';
import { seedDashboard } from './seed.js';

// bench/ui: the dashboard over a large history — 100,000 queue rows and 10,000 tests (with their phases,
// decisions, rollouts) — measured two ways:
//   1. each view's polling request (the one GET a page repeats every few seconds), sequentially, p50/p99;
//   2. each page's first render in Debian's Chromium: navigation start → the page's data on screen.
//   npx tsx bench/ui/run.ts            (targets: first render <= 300 ms, polling p99 <= 20 ms)
//   npx tsx bench/ui/run.ts --small    (2,000 rows, 200 tests, few rounds: checks it still runs)
// TEMPORAL_ADDRESS reuses a Temporal server; otherwise a dev server is started for the run.

const SMALL = process.argv.includes('--small');
const ROWS = SMALL ? 2_000 : Number(process.env.BENCH_ROWS ?? 100_000);
const TESTS = SMALL ? 200 : Number(process.env.BENCH_TESTS ?? 10_000);
const REQUESTS = SMALL ? 20 : Number(process.env.BENCH_REQUESTS ?? 300);
const LOADS = SMALL ? 2 : Number(process.env.BENCH_LOADS ?? 6);
const DB = SMALL ? 'spm_bench_ui_small' : 'spm_bench_ui';
const TOKEN = 'spm-lab-viewer-token';
const pgConfig = { host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 5432), user: process.env.DB_USER ?? 'postgres', password: process.env.DB_PASSWORD ?? '' };
const TARGET_RENDER_MS = 300;
const TARGET_POLL_P99_MS = 20;

async function prepareDatabase(): Promise<void> {
  const admin = new pg.Client({ ...pgConfig, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DB}"`);
  await admin.end();
  const migrate = startTs('db/migrate.ts', { DB_NAME: DB, LOG_LEVEL: 'warn', DOTENV_PATH: '/nonexistent', DATABASE_URL: '' });
  const code = await new Promise((r) => migrate.process.once('exit', r));
  if (code !== 0) throw new Error(`migrations failed: ${migrate.lines.slice(-5).join('\n')}`);
  const db = new pg.Client({ ...pgConfig, database: DB });
  await db.connect();
  const started = Date.now();
  await seedDashboard(db, { rows: ROWS, tests: TESTS });
  const counts = await db.query<{ queue: number; tests: number; phases: number; approvals: number; deployments: number }>(`
    select (select count(*) from patch_test_queue)::int as queue, (select count(*) from patch_tests)::int as tests,
           (select count(*) from patch_test_phases)::int as phases, (select count(*) from patch_approvals)::int as approvals,
           (select count(*) from patch_deployments)::int as deployments`);
  await db.end();
  const c = counts.rows[0]!;
  process.stdout.write(`seeded ${c.queue} queue rows, ${c.tests} tests, ${c.phases} phases, ${c.approvals} decisions, ${c.deployments} rollout rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const ms = (n: number) => `${n.toFixed(1).padStart(6)} ms`;

async function main(): Promise<void> {
  await prepareDatabase();
  let temporal: DevServer | undefined;
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (temporal = await startDevServer()).address;
  const port = await freePort();
  const api = startTs('api/main.ts', { DB_NAME: DB, SPM_ENV: 'lab', API_PORT: String(port), LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: temporalAddress, DOTENV_PATH: '/nonexistent', DATABASE_URL: '', API_TOKENS: '' });
  const base = `http://127.0.0.1:${port}`;
  const dispatcher = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
  const browser = await launchChromium();
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 150) throw new Error(`the API did not start: ${api.lines.slice(-5).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const get = async <T>(path: string): Promise<T> => {
      const r = await request(`${base}${path}`, { dispatcher, headers: { authorization: `Bearer ${TOKEN}` } });
      if (r.statusCode !== 200) throw new Error(`${path}: HTTP ${r.statusCode} ${await r.body.text()}`);
      return (await r.body.json()) as T;
    };
    const someTest = (await get<{ items: { id: number }[] }>('/api/v1/tests?status=rolled_back&limit=1')).items[0]!.id;
    const someRollout = (await get<{ items: { queue_id: number }[] }>('/api/v1/deployments?status=promoting&limit=1')).items[0]!.queue_id;

    // The request each view repeats (ui/pages/*: what usePoll loads).
    const views: { view: string; path: string; hash: string; ready: string }[] = [
      { view: 'overview', path: '/api/v1/overview', hash: 'overview', ready: '[data-testid=overview-sync]' },
      { view: 'approvals', path: '/api/v1/approvals/pending?limit=50&offset=0', hash: 'approvals', ready: '[data-testid=inbox] li' },
      { view: 'queue', path: '/api/v1/queue?limit=50&offset=0', hash: 'queue', ready: '[data-testid=queue-table] tbody tr' },
      { view: 'tests', path: '/api/v1/tests?limit=50&offset=0', hash: 'tests', ready: '[data-testid=tests-table] tbody tr' },
      { view: 'test', path: `/api/v1/tests/${someTest}`, hash: `tests/${someTest}`, ready: '[data-testid=phase-timeline] li' },
      { view: 'deployments', path: '/api/v1/deployments?limit=50&offset=0', hash: 'deployments', ready: '[data-testid=deployments-table] tbody tr' },
      { view: 'deployment', path: `/api/v1/deployments/${someRollout}`, hash: `deployments/${someRollout}`, ready: '[data-testid=deployment-systems] tbody tr' },
      { view: 'errata', path: '/api/v1/errata?relevant=true&limit=50&offset=0', hash: 'errata', ready: '[data-testid=errata-table] tbody tr' },
      { view: 'test systems', path: '/api/v1/test-systems?limit=100&offset=0', hash: 'test-systems', ready: '[data-testid=test-systems-table] tbody tr' },
      { view: 'decision history', path: '/api/v1/approvals/history?limit=50&offset=0', hash: 'approvals', ready: '' },
    ];

    const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
    process.stdout.write(`\nload average at start: ${load()} (2 cores; figures on a shared machine move with it)\n`);
    process.stdout.write(`\npolling requests (${REQUESTS} sequential each, after 20 warm-up; target p99 <= ${TARGET_POLL_P99_MS} ms)\n`);
    const pollP99: number[] = [];
    for (const v of views) {
      for (let i = 0; i < 20; i++) await get(v.path);
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const t = performance.now();
        await get(v.path);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      pollP99.push(percentile(times, 99));
      process.stdout.write(`  ${v.view.padEnd(18)} ${v.path.padEnd(48)} p50 ${ms(percentile(times, 50))}  p99 ${ms(percentile(times, 99))}  max ${ms(times.at(-1)!)}\n`);
    }

    process.stdout.write(`\nfirst render in Chromium (navigation start → the page's data on screen; ${LOADS} loads each, the first with a cold cache; target <= ${TARGET_RENDER_MS} ms)\n`);
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/ui/`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').waitFor();
    const worst: number[] = [];
    for (const v of views.filter((x) => x.ready)) {
      const loads: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        await page.goto('about:blank');
        await page.goto(`${base}/ui/#/${v.hash}`);
        await page.waitForSelector(v.ready, { state: 'attached', timeout: 30_000 });
        loads.push((await page.evaluate('performance.now()')) as number);
      }
      const warm = loads.slice(1).sort((a, b) => a - b);
      worst.push(Math.max(...loads));
      process.stdout.write(`  ${v.view.padEnd(18)} cold ${ms(loads[0]!)}   warm median ${ms(percentile(warm.length ? warm : loads, 50))}   max ${ms(Math.max(...loads))}\n`);
    }
    await context.close();
    process.stdout.write(`\nload average at the end: ${load()}\n`);
    const renderOk = Math.max(...worst) <= TARGET_RENDER_MS;
    const pollOk = Math.max(...pollP99) <= TARGET_POLL_P99_MS;
    process.stdout.write(`\nslowest first render ${Math.max(...worst).toFixed(1)} ms (target <= ${TARGET_RENDER_MS}: ${renderOk ? 'met' : 'MISSED'}); ` +
      `slowest polling p99 ${Math.max(...pollP99).toFixed(1)} ms (target <= ${TARGET_POLL_P99_MS}: ${pollOk ? 'met' : 'MISSED'})${SMALL ? ' [small mode: figures not representative]' : ''}\n`);
  } finally {
    await browser.close();
    await dispatcher.close();
    await api.stop();
    await temporal?.stop();
    const admin = new pg.Client({ ...pgConfig, database: 'postgres' });
    await admin.connect();
    if (!process.env.KEEP_BENCH_DB) await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/ui: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
