import autocannon from 'autocannon';
import pg from 'pg';
import { openLoop, type OpenLoopResult } from '../support/open-loop.js';
import { freePort } from '../../lab/temporal-dev-server.js';
import { SMALL } from '../support/lab-env.js';
import { startTs } from '../support/processes.js';

// bench/api: GET /api/v1/queue?limit=50 over 100,000 queue rows, beside a bare Fastify route in the same run
// (the ratio is the figure): latency at a steady 500 requests/s (open loop, bench/support/open-loop.ts), then
// throughput and latency at full speed under autocannon (20 connections).
//   npx tsx bench/api/run.ts
//   npx tsx bench/api/run.ts --small   (2,000 rows, 100 requests/s for 2 s: checks it still runs; .ci/run)
// Target: p99 <= 15 ms at 500 requests/s.

const ROWS = SMALL ? 2_000 : Number(process.env.BENCH_ROWS ?? 100_000);
const RATE = SMALL ? 100 : Number(process.env.BENCH_RATE ?? 500);
const SECONDS = SMALL ? 2 : Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = SMALL ? 1 : 5;
const DB = SMALL ? 'spm_bench_api_small' : 'spm_bench_api';
const pgConfig = { host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 5432), user: process.env.DB_USER ?? 'postgres' };

async function seed(): Promise<void> {
  const admin = new pg.Client({ ...pgConfig, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DB}"`);
  await admin.end();
  const migrate = startTs('db/migrate.ts', { DB_NAME: DB, LOG_LEVEL: 'warn', DOTENV_PATH: '/nonexistent' });
  await new Promise((r) => migrate.process.once('exit', r));

  const db = new pg.Client({ ...pgConfig, database: DB });
  await db.connect();
  const started = Date.now();
  // One advisory per row so every row is an active queue item (one per advisory and OS).
  await db.query(`
    INSERT INTO errata_cache (advisory_name, advisory_type, severity, synopsis, cves, target_os, test_system_ids)
    SELECT 'BENCH-' || lpad(i::text, 6, '0'),
           CASE WHEN i % 5 = 0 THEN 'Bug Fix Advisory' ELSE 'Security Advisory' END,
           (ARRAY['Critical','High','Medium','Low'])[1 + ((i::bigint * 7919) % 4)::int],
           'bench synopsis ' || i, ARRAY['CVE-2026-' || lpad(i::text, 5, '0')],
           ARRAY[CASE WHEN i % 2 = 0 THEN 'ubuntu' ELSE 'rhel' END], ARRAY[1000010000 + i % 2]
    FROM generate_series(1, $1) AS i`, [ROWS]);
  await db.query(`
    INSERT INTO patch_test_queue (advisory_name, target_os, success_score, priority_override, notes, queued_by)
    SELECT 'BENCH-' || lpad(i::text, 6, '0'), CASE WHEN i % 2 = 0 THEN 'ubuntu' ELSE 'rhel' END,
           ((i::bigint * 104729) % 101)::int, CASE WHEN i % 1000 = 0 THEN 1 + i % 10 END, NULL, 'bench'
    FROM generate_series(1, $1) AS i`, [ROWS]);
  await db.query('ANALYZE');
  await db.end();
  process.stdout.write(`seeded ${ROWS} errata and ${ROWS} queue rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

interface Result {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  non2xx: number;
}

async function saturate(url: string, headers: Record<string, string>): Promise<Result> {
  const r = await autocannon({ url, connections: 20, duration: SECONDS, headers });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors, non2xx: r.non2xx };
}

const row = (name: string, r: Result) =>
  `  ${name.padEnd(34)} p50 ${String(r.p50).padStart(5)} ms   p99 ${String(r.p99).padStart(5)} ms   ${String(Math.round(r.rps)).padStart(6)} req/s   errors ${r.errors + r.non2xx}`;
const steady = (name: string, r: OpenLoopResult) =>
  `  ${name.padEnd(34)} p50 ${String(r.p50).padStart(5)} ms   p90 ${String(r.p90).padStart(5)} ms   p99 ${String(r.p99).padStart(5)} ms   max ${String(r.max).padStart(6)} ms   ${r.achievedRate} req/s   failed ${r.failed}`;

async function main(): Promise<void> {
  await seed();
  // Free ports, so the bench runs beside a lab (or another bench) on this machine.
  const [apiPort, barePort] = [await freePort(), await freePort()];
  const api = startTs('api/main.ts', { DB_NAME: DB, SPM_ENV: 'lab', API_PORT: String(apiPort), LOG_LEVEL: 'warn', DB_POOL_MAX: '10', DOTENV_PATH: '/nonexistent', DATABASE_URL: '', API_TOKENS: '' });
  const bare = startTs('bench/api/bare-server.ts', { BARE_PORT: String(barePort) });
  try {
    await bare.waitFor((l) => l.includes('bare listening'));
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${apiPort}/api/v1/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const queueUrl = `http://127.0.0.1:${apiPort}/api/v1/queue?limit=50`;
    const auth = { authorization: 'Bearer spm-lab-viewer-token' };
    const first = await (await fetch(queueUrl, { headers: auth })).json() as { total: number; items: unknown[] };
    if (first.total !== ROWS || first.items.length !== 50) throw new Error(`unexpected answer: total ${first.total}, ${first.items.length} items`);
    await openLoop(queueUrl, { rate: RATE, seconds: WARMUP_SECONDS, headers: auth }); // warm-up (JIT, connection pools)

    const queueAtRate = await openLoop(queueUrl, { rate: RATE, seconds: SECONDS, headers: auth });
    const bareAtRate = await openLoop(`http://127.0.0.1:${barePort}/bare`, { rate: RATE, seconds: SECONDS });
    const queueMax = await saturate(queueUrl, auth);
    const bareMax = await saturate(`http://127.0.0.1:${barePort}/bare`, {});
    process.stdout.write(
      [
        `bench/api: GET /api/v1/queue?limit=50 over ${ROWS} queue rows (total ${first.total}), ${SECONDS} s per run, 20 connections`,
        `at a steady ${RATE} requests/s (open loop):`,
        steady('GET /api/v1/queue?limit=50', queueAtRate),
        steady('bare Fastify route', bareAtRate),
        `  ratio p99 queue/bare: ${(queueAtRate.p99 / bareAtRate.p99).toFixed(1)}   target p99 <= 15 ms: ${queueAtRate.p99 <= 15 ? 'met' : 'MISSED'}`,
        'at full speed (autocannon, 20 connections, closed loop):',
        row('GET /api/v1/queue?limit=50', queueMax),
        row('bare Fastify route', bareMax),
        `  throughput ratio queue/bare: ${(queueMax.rps / bareMax.rps).toFixed(2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await api.stop();
    await bare.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/api: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
