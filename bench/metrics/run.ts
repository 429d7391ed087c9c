import pg from 'pg';
import { request, Agent } from 'undici';
import { freePort, startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { SMALL } from '../support/lab-env.js';
import { startTs } from '../support/processes.js';
import { seedDashboard } from '../ui/seed.js';

// bench/metrics: what a Prometheus scrape of the API's /metrics costs when the business series are read from
// PostgreSQL at scrape time, over a busy year's data (the dashboard bench's seed: 100,000 queue items, 10,000
// tests with their phases, decisions, rollouts), against the API's own liveness route.
//   npx tsx bench/metrics/run.ts            (BENCH_ROWS, BENCH_TESTS, BENCH_SCRAPES to change the sizes)
//   npx tsx bench/metrics/run.ts --small    (2,000 rows: checks it still runs; .ci/run)

const ROWS = SMALL ? 2_000 : Number(process.env.BENCH_ROWS ?? 100_000);
const TESTS = SMALL ? 200 : Number(process.env.BENCH_TESTS ?? 10_000);
const SCRAPES = SMALL ? 20 : Number(process.env.BENCH_SCRAPES ?? 100);
const DB = SMALL ? 'spm_bench_metrics_small' : 'spm_bench_metrics';
const pgConfig = { host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 5432), user: process.env.DB_USER ?? 'postgres', password: process.env.DB_PASSWORD ?? '' };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  const admin = new pg.Client({ ...pgConfig, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DB}"`);
  const migrate = startTs('db/migrate.ts', { DB_NAME: DB, LOG_LEVEL: 'warn', DOTENV_PATH: '/nonexistent', DATABASE_URL: '' });
  if ((await new Promise((r) => migrate.process.once('exit', r))) !== 0) throw new Error(`migrations failed: ${migrate.lines.slice(-5).join('\n')}`);
  const db = new pg.Client({ ...pgConfig, database: DB });
  await db.connect();
  await seedDashboard(db, { rows: ROWS, tests: TESTS });
  await db.query('ANALYZE');
  const counts = (await db.query<{ queue: number; tests: number; phases: number; deployments: number }>(`select (select count(*) from patch_test_queue)::int as queue,
    (select count(*) from patch_tests)::int as tests, (select count(*) from patch_test_phases)::int as phases, (select count(*) from patch_deployments)::int as deployments`)).rows[0]!;
  await db.end();

  let temporal: DevServer | undefined;
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (temporal = await startDevServer()).address;
  const port = await freePort();
  const api = startTs('api/main.ts', { DB_NAME: DB, SPM_ENV: 'lab', API_PORT: String(port), LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: temporalAddress, DOTENV_PATH: '/nonexistent', DATABASE_URL: '', API_TOKENS: '' });
  const base = `http://127.0.0.1:${port}`;
  const dispatcher = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  try {
    for (let i = 0; !(await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false)); i++) {
      if (i > 150) throw new Error(`the API did not start: ${api.lines.slice(-5).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const time = async (path: string): Promise<{ ms: number; body: string }> => {
      const t0 = performance.now();
      const r = await request(`${base}${path}`, { dispatcher });
      const body = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${path}: HTTP ${r.statusCode}`);
      return { ms: performance.now() - t0, body };
    };
    await time('/metrics'); // warm
    const scrapes: number[] = [];
    let body = '';
    // 1.1 s apart: every scrape reads PostgreSQL again (a reading is shared for 1 s).
    for (let i = 0; i < SCRAPES; i++) {
      const r = await time('/metrics');
      scrapes.push(r.ms);
      body = r.body;
      await new Promise((res) => setTimeout(res, SMALL ? 1_050 : 1_100));
    }
    const health: number[] = [];
    for (let i = 0; i < SCRAPES; i++) health.push((await time('/api/v1/health')).ms);
    scrapes.sort((a, b) => a - b);
    health.sort((a, b) => a - b);
    const up = /^spm_business_metrics_up\{source="postgres"\} 1$/m.test(body);
    const series = body.split('\n').filter((l) => l.startsWith('spm_') && !l.startsWith('spm_api_')).length;
    const readSeconds = Number(/^spm_business_metrics_scrape_seconds (\S+)$/m.exec(body)?.[1] ?? NaN);
    if (!up) throw new Error('spm_business_metrics_up{source="postgres"} is not 1');
    process.stdout.write(
      [
        `bench/metrics: ${counts.queue} queue items, ${counts.tests} tests, ${counts.phases} phases, ${counts.deployments} rollout rows; ${SCRAPES} scrapes 1.1 s apart`,
        `  GET /metrics          p50 ${percentile(scrapes, 50).toFixed(1)} ms  p99 ${percentile(scrapes, 99).toFixed(1)} ms  (${series} business series)`,
        `  PostgreSQL reading    ${(readSeconds * 1000).toFixed(1)} ms (spm_business_metrics_scrape_seconds of the last scrape)`,
        `  GET /api/v1/health    p50 ${percentile(health, 50).toFixed(1)} ms  p99 ${percentile(health, 99).toFixed(1)} ms`,
        SMALL ? '  [small mode: figures not representative]' : '',
        '',
      ].join('\n'),
    );
  } finally {
    await api.stop();
    await dispatcher.close();
    await temporal?.stop();
    if (!process.env.KEEP_BENCH_DB) await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/metrics: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
