import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import pg from 'pg';
import { importIntelFile } from '../../activities/intel/import.js';
import { createIntelActivities } from '../../activities/intel/intel-activities.js';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { createDb, type Db } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrator.js';
import { startIntelLab } from '../../lab/intel/server.js';
import { SMALL } from '../support/lab-env.js';

// bench/intel (issue 14): the enrichment against the lab's NVD at the keyed limit (50 per rolling window),
// and the offline import of the full EPSS CSV and the KEV catalog.
//   npx tsx bench/intel/run.ts            5,000 CVEs paged; 200 look-ups at 50 / 30 s; EPSS CSV of 300,000 rows
//   npx tsx bench/intel/run.ts --small    the same paging; 60 look-ups at 50 / 5 s; 30,000 EPSS rows (.ci/bench-small)
// Targets: enrichment wall time within 10 % of the limit's own floor; both imports together ≤ 15 s.

const PAGED_CVES = 5_000;
const LOOKUPS = SMALL ? 60 : 200;
const WINDOW_S = SMALL ? 5 : 30;
const EPSS_ROWS = SMALL ? 30_000 : 300_000;
const KEV_ENTRIES = 1_500;
const DB = 'spm_bench_intel';
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function freshDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 5432), user: process.env.DB_USER ?? 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

const cveIds = (n: number, year: number) => Array.from({ length: n }, (_, i) => `CVE-${year}-${String(100_000 + i)}`);

/** errata that reference `cves`, two each, as a sync leaves them */
async function seedErrata(db: Db, cves: string[], prefix: string): Promise<void> {
  await sql`delete from errata_cache`.execute(db);
  const names: string[] = [];
  const lists: string[] = [];
  for (let i = 0; i < cves.length; i += 2) {
    names.push(`${prefix}-${i / 2}`);
    lists.push(`{${cves.slice(i, i + 2).join(',')}}`);
  }
  await sql`
    insert into errata_cache (advisory_name, advisory_type, severity, cves, target_os, test_system_ids, last_synced_at)
    select n, 'Security Advisory', 'Medium', c::text[], '{rhel}', '{}', now() from unnest(${names}::text[], ${lists}::text[]) as v(n, c)`.execute(db);
}

async function main(): Promise<void> {
  await freshDatabase(DB);
  const baseEnv = { DB_NAME: DB, DOTENV_PATH: '/nonexistent', LOG_LEVEL: 'warn', NVD_API_KEY: 'bench-nvd-key', NVD_RATE_WINDOW_SECONDS: String(WINDOW_S) };
  const db = createDb(loadConfig(baseEnv).db, 'spm-bench-intel');
  await migrateToLatest(db);
  const log = createLogger('warn', 'bench-intel');

  // 1. 5,000 CVEs never fetched: the design sweeps lastModified windows, 2,000 records a page.
  const paged = cveIds(PAGED_CVES, 2025);
  const lab = await startIntelLab([...paged, ...cveIds(LOOKUPS, 2024)], { windowMs: WINDOW_S * 1000, keyedLimit: 50 });
  const config = loadConfig({ ...baseEnv, NVD_URL: lab.nvdUrl, EPSS_URL: lab.epssUrl, KEV_URL: lab.kevUrl });
  const acts = createIntelActivities({ db, config, log });
  await seedErrata(db, paged, 'BENCH-PAGED');
  let t0 = Date.now();
  const plan = await acts.intelPlanNvd();
  let requests = 0;
  for (const w of plan.windows) requests += (await acts.intelNvdWindow(w)).requests;
  if (plan.windows.length) await acts.intelNvdSweepDone({ sweptFrom: plan.windows[0]!.start, sweptTo: plan.windows[plan.windows.length - 1]!.end });
  const rest = plan.mode === 'lookup' || plan.mode === 'window' ? await acts.intelNvdLookups({ limit: 1_000_000 }) : { requests: 0, done: 0 };
  requests += rest.requests;
  const pagedMs = Date.now() - t0;
  const stored = Number((await sql<{ n: number }>`select count(*)::integer as n from cve_intel where nvd_fetched_at is not null`.execute(db)).rows[0]!.n);
  const pages = Math.ceil(PAGED_CVES / 2000);
  console.log(`nvd mode ${plan.mode}: ${plan.windows.length} window(s) of <= 120 days`);
  console.log(`nvd pages ${requests} requests for ${stored} CVEs, wall ${secs(pagedMs)} s`);
  console.log(`  floor: ceil(${PAGED_CVES} / 2000) = ${pages} requests, within one window of 50 → 0 s of rate-limit waiting; the look-up design's floor would be ${((Math.ceil(PAGED_CVES / 50) - 1) * 30).toFixed(0)} s`);

  // 2. The look-up path at the keyed limit: N new CVEs, one cveId request each.
  // A fresh NVD (its window empty) and an empty request log: the same starting point on both sides.
  const lookups = cveIds(LOOKUPS, 2024);
  const lab2 = await startIntelLab(lookups, { windowMs: WINDOW_S * 1000, keyedLimit: 50 });
  const acts2 = createIntelActivities({ db, config: loadConfig({ ...baseEnv, NVD_URL: lab2.nvdUrl }), log });
  await sql`delete from nvd_request_log`.execute(db);
  await seedErrata(db, lookups, 'BENCH-LOOKUP');
  t0 = Date.now();
  const r = await acts2.intelNvdLookups({ limit: LOOKUPS });
  const lookupMs = Date.now() - t0;
  const windows = Math.ceil(LOOKUPS / 50) - 1;
  const floorMs = windows * WINDOW_S * 1000;
  const forbidden = lab2.arrivals.filter((a) => a.status === 403).length;
  await lab2.close();
  console.log(
    `nvd look-ups ${r.done} at 50 per ${WINDOW_S} s: wall ${secs(lookupMs)} s, floor ${secs(floorMs)} s, ratio ${(lookupMs / Math.max(1, floorMs)).toFixed(3)} (403 answers: ${forbidden}; the limiter spaces by window + min(1 s, window / 20))`,
  );

  // 3. The offline import: the full EPSS CSV (gz) and the KEV catalog.
  const dir = mkdtempSync(path.join(tmpdir(), 'spm-bench-intel-'));
  const csv = path.join(dir, 'epss_scores-current.csv.gz');
  writeFileSync(csv, gzipSync(lab.data.epssCsv(EPSS_ROWS - lab.data.epss.size)));
  for (let i = 0; i < KEV_ENTRIES; i++) lab.data.addKev(`CVE-2023-${String(200_000 + i)}`, { dateAdded: '2026-01-05', ransomware: i % 7 === 0 });
  const kev = path.join(dir, 'known_exploited_vulnerabilities.json');
  writeFileSync(kev, JSON.stringify(lab.data.kevCatalog()));
  const e = await importIntelFile(db, csv);
  const k = await importIntelFile(db, kev);
  console.log(`EPSS CSV import ${e.rows} rows in ${secs(e.ms)} s (${Math.round(e.rows / (e.ms / 1000))} rows/s)`);
  console.log(`KEV import ${k.rows} entries in ${secs(k.ms)} s`);
  console.log(`imports together ${secs(e.ms + k.ms)} s (target <= 15 s)`);

  await lab.close();
  await db.destroy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
