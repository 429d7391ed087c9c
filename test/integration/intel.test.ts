import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NvdClient } from '../../activities/nvd/client.js';
import { MemoryRollingWindowLimiter, PgRollingWindowLimiter } from '../../activities/nvd/rate-limit.js';
import { IntelRateLimitedError } from '../../activities/shared/intel-http.js';
import { createDb, type Db } from '../../db/connection.js';
import { claimTest } from '../../db/queries/dispatch.js';
import { queuePage } from '../../db/queries/queue-page.js';
import { severityOfCvss } from '../../domain/cvss.js';
import { fleetCves, startIntelLab, type IntelLab } from '../../lab/intel/server.js';
import { startUyuniLab, type UyuniLab } from '../../lab/uyuni/server.js';
import { intelProgress, runIntelNow } from '../../temporal/intel.js';
import type { uyuniSync } from '../../workflows/index.js';
import { intelProgressQuery, intelWorkflowId, type IntelProgress, type IntelSummary } from '../../workflows/intel-messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

// Issue 14 end to end: the lab's UYUNI and its NVD / EPSS / KEV over HTTP, a real worker on the real Temporal
// server and PostgreSQL. NVD's limit is measured where NVD would see it: the lab records every arrival and
// answers 403 beyond 5 per rolling 30 s.

const WINDOW = 30_000;
const maxInWindow = (times: number[], windowMs: number) => {
  const t = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
};

describe('NVD rate limit (lab NVD: 5 per rolling 30 s without a key, then 403)', () => {
  let db: Db;
  let DB_NAME: string;
  const cves = Array.from({ length: 12 }, (_, i) => `CVE-2025-${String(20_001 + i)}`);

  beforeAll(async () => {
    DB_NAME = await isolatedDatabase('intelrate');
    db = createDb(testConfig({ DB_NAME }).db, 'spm-test-intel');
  });
  afterAll(async () => db?.destroy());

  it('the lab really refuses the 6th request inside 30 s with 403 (a client without the limit meets it)', async () => {
    const lab = await startIntelLab(cves);
    const client = new NvdClient({ url: lab.nvdUrl, timeoutMs: 5_000, limiter: new MemoryRollingWindowLimiter({ limit: 100, windowMs: WINDOW }), backoffMs: 10, maxAttempts: 1 });
    try {
      for (const id of cves.slice(0, 5)) expect((await client.cve(id))?.id).toBe(id);
      const sixth = await client.cve(cves[5]!).then(() => null, (err: unknown) => err);
      expect(sixth).toBeInstanceOf(IntelRateLimitedError);
      expect((sixth as IntelRateLimitedError).status).toBe(403);
      expect(lab.arrivals.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 403]);
    } finally {
      await client.close();
      await lab.close();
    }
  });

  it('the key travels only in the apiKey header: never in the URL, a log line or an error', async () => {
    const lab = await startIntelLab(cves);
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const key = 'secret-nvd-key-7f3a9c';
    const client = new NvdClient({ url: lab.nvdUrl, apiKey: key, timeoutMs: 5_000, limiter: new MemoryRollingWindowLimiter({ limit: 50, windowMs: WINDOW }), backoffMs: 10, maxAttempts: 3, logger });
    try {
      expect((await client.cve(cves[0]!))?.id).toBe(cves[0]);
      await lab.app.inject({ method: 'POST', url: '/lab/intel/faults', payload: { kind: 'nvd403', times: 3 } });
      const err = await client.cve(cves[1]!).then(() => null, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(IntelRateLimitedError);
      expect(lab.arrivals.map((a) => [a.status, a.keyed])).toEqual([[200, true], [403, true], [403, true], [403, true]]);
      expect(lines.length).toBe(2); // the two backoffs
      for (const text of [...lines, err!.message, String(err!.stack)]) expect(text).not.toContain(key);
    } finally {
      await client.close();
      await lab.close();
    }
  });

  it('two workers sharing the database never send more than 5 in any 30 s: no 403, all answered', { timeout: 120_000 }, async () => {
    const lab = await startIntelLab(cves);
    // Two processes' worth of clients: each its own limiter object, one window through PostgreSQL.
    const clients = [0, 1].map(() => new NvdClient({ url: lab.nvdUrl, timeoutMs: 10_000, limiter: new PgRollingWindowLimiter(db, { limit: 5, windowMs: WINDOW }), backoffMs: 6_000 }));
    try {
      const started = Date.now();
      const got = await Promise.all(clients.map(async (c, k) => {
        const ids = cves.slice(k * 4, k * 4 + 4);
        const out: string[] = [];
        for (const id of ids) out.push((await c.cve(id))!.id);
        return out;
      }));
      expect(got.flat().sort()).toEqual(cves.slice(0, 8).sort());
      const arrivals = lab.arrivals.filter((a) => a.path === 'nvd');
      expect(arrivals.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(maxInWindow(arrivals.map((a) => a.at), WINDOW)).toBeLessThanOrEqual(5);
      // 8 requests at 5 per 30 s cannot finish inside one window.
      expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await lab.close();
    }
  });
});

describe('a sync never waits on NVD (no key: 5 requests per 30 s, a look-up per CVE)', () => {
  let uyuni: UyuniLab;
  let intel: IntelLab;
  let tw: TestWorker;

  beforeAll(async () => {
    uyuni = await startUyuniLab({ actionPickupMs: 50, actionCompleteMs: 100 });
    intel = await startIntelLab(fleetCves(uyuni.fleet));
    const DB_NAME = await isolatedDatabase('intelslow');
    tw = await startTestWorker(
      testConfig({ DB_NAME, UYUNI_URL: uyuni.url, NVD_URL: intel.nvdUrl, EPSS_URL: intel.epssUrl, KEV_URL: intel.kevUrl, INTEL_AFTER_SYNC: 'true', INTEL_NVD_LOOKUP_MAX: '100000' }),
      'intelslow',
    );
  }, 60_000);
  afterAll(async () => {
    await tw?.client.workflow.getHandle(intelWorkflowId(tw.taskQueue)).terminate('test over').catch(() => undefined);
    await tw?.close();
    await uyuni?.close();
    await intel?.close();
  });

  it('the sync finishes while the enrichment still waits for NVD slots; its progress query says where it is', { timeout: 90_000 }, async () => {
    const started = Date.now();
    const summary = await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', {
      taskQueue: tw.taskQueue,
      workflowId: `sync-intelslow-${tw.taskQueue}`,
      args: [{ trigger: 'manual', uyuniRetry: { maximumAttempts: 3, initialIntervalMs: 100 } }],
      workflowExecutionTimeout: '2 minutes',
    });
    const syncMs = Date.now() - started;
    expect(summary.errata).toBeGreaterThan(0);
    // More than 1,000 look-ups at 5 per 30 s take about 100 minutes; the sync took seconds.
    expect(syncMs).toBeLessThan(30_000);
    const handle = tw.client.workflow.getHandle(intelWorkflowId(tw.taskQueue));
    let p: IntelProgress | undefined;
    for (let i = 0; i < 100; i++) {
      p = await handle.query(intelProgressQuery);
      if (p.phase === 'nvd' && p.nvd.mode === 'lookup') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(p).toMatchObject({ phase: 'nvd', nvd: { mode: 'lookup' }, kev: { refreshed: true } });
    expect(p!.nvd.planned).toBeGreaterThan(1000);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // KEV and EPSS were ranked before NVD's slow part.
    expect(p!.errataUpdated).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3_000));
    const nvd = intel.arrivals.filter((a) => a.path === 'nvd');
    expect(nvd.length).toBeGreaterThan(0);
    expect(nvd.length).toBeLessThanOrEqual(5);
    expect(nvd.every((a) => a.status === 200 && !a.keyed)).toBe(true);
  });
});

describe('enrichment after a sync, severity, ranking, API, import', () => {
  let uyuni: UyuniLab;
  let intel: IntelLab;
  let tw: TestWorker;
  let api: TestApi;
  let DB_NAME: string;
  let env: Record<string, string>;
  let first: IntelSummary;

  beforeAll(async () => {
    uyuni = await startUyuniLab({ actionPickupMs: 50, actionCompleteMs: 100 });
    intel = await startIntelLab(fleetCves(uyuni.fleet));
    DB_NAME = await isolatedDatabase('intel');
    env = {
      DB_NAME,
      UYUNI_URL: uyuni.url,
      NVD_URL: intel.nvdUrl,
      NVD_API_KEY: 'test-nvd-key',
      EPSS_URL: intel.epssUrl,
      KEV_URL: intel.kevUrl,
      INTEL_AFTER_SYNC: 'true',
    };
    tw = await startTestWorker(testConfig(env), 'intel');
    api = await startTestApi(env);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await tw?.close();
    await uyuni?.close();
    await intel?.close();
  });

  it('a committed sync wakes the enrichment: every CVE of the cache gets NVD, EPSS and KEV data', { timeout: 120_000 }, async () => {
    await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', {
      taskQueue: tw.taskQueue,
      workflowId: `sync-intel-${tw.taskQueue}`,
      args: [{ trigger: 'manual', uyuniRetry: { maximumAttempts: 3, initialIntervalMs: 100 } }],
      workflowExecutionTimeout: '2 minutes',
    });
    // The sync only signalled it (signal-with-start); it runs on its own.
    first = await tw.client.workflow.getHandle(intelWorkflowId(tw.taskQueue)).result();
    expect(first.errors).toEqual([]);
    const cves = [...new Set((await tw.db.selectFrom('errata_cache').select('cves').execute()).flatMap((r) => r.cves))];
    expect(cves.length).toBeGreaterThan(200);
    // A window stores the records of the cache's CVEs and of the CVEs cve_intel already knows (KEV's, fetched first).
    const kevOnly = [...intel.data.kev.keys()].filter((c) => !cves.includes(c)).length;
    expect(first.nvd).toMatchObject({ mode: 'window', planned: cves.length, windows: 1, windowsDone: 1, pages: 1, stored: cves.length + kevOnly, notFound: 0 });
    // One paged request instead of a look-up per CVE.
    expect(intel.arrivals.filter((a) => a.path === 'nvd')).toHaveLength(1);
    expect(first.kev).toMatchObject({ refreshed: true, listed: intel.data.kev.size });
    expect(first.epss.scored).toBe(cves.filter((c) => intel.data.epss.has(c)).length);

    const rows = new Map((await tw.db.selectFrom('cve_intel').selectAll().execute()).map((r) => [r.cve_id, r]));
    for (const cve of cves) {
      const row = rows.get(cve)!;
      expect(row.nvd_fetched_at, cve).not.toBeNull();
      const shape = intel.data.shapes.get(cve)!;
      const expected = {
        v31_primary: { version: '3.1', type: 'Primary', source: 'nvd@nist.gov' },
        v31_disagree: { version: '3.1', type: 'Primary', source: 'nvd@nist.gov' },
        v31_secondary: { version: '3.1', type: 'Secondary', source: 'secalert@redhat.com' },
        v30_only: { version: '3.0', type: 'Primary', source: 'nvd@nist.gov' },
        v2_only: { version: '2.0', type: 'Primary', source: 'nvd@nist.gov' },
        v40_only: { version: '4.0', type: 'Secondary', source: 'secalert@redhat.com' },
        awaiting: { version: null, type: null, source: null },
        rejected: { version: null, type: null, source: null },
      }[shape];
      expect({ version: row.cvss_version, type: row.cvss_type, source: row.cvss_source }, `${cve} (${shape})`).toEqual(expected);
      const epss = intel.data.epss.get(cve);
      expect(row.epss_percentile, cve).toBe(epss ? Number(epss.percentile) : null);
      expect(row.epss_score, cve).toBe(epss ? Number(epss.epss) : null);
      const kev = intel.data.kev.get(cve);
      expect({ kev: row.kev, due: row.kev_due_date, ransomware: row.kev_ransomware }, cve).toEqual(
        kev ? { kev: true, due: kev.dueDate, ransomware: kev.knownRansomwareCampaignUse === 'Known' } : { kev: false, due: null, ransomware: false },
      );
    }
    const status = await intelProgress(tw.client, tw.config);
    expect(status).toMatchObject({ status: 'COMPLETED', progress: { phase: 'done' } });
  });

  it("each erratum's severity is the seed's band of its highest CVSS, with the source; no score → the UYUNI-type mapping", async () => {
    const errata = await tw.db.selectFrom('errata_cache').selectAll().execute();
    const intelRows = new Map((await tw.db.selectFrom('cve_intel').select(['cve_id', 'cvss_score']).execute()).map((r) => [r.cve_id, r.cvss_score]));
    const band = (s: number) => (s >= 9 ? 'Critical' : s >= 7 ? 'High' : s >= 4 ? 'Medium' : 'Low');
    let scored = 0;
    for (const e of errata) {
      const scores = e.cves.map((c) => intelRows.get(c)).filter((s): s is number => typeof s === 'number' && s > 0);
      if (scores.length) {
        scored++;
        expect({ cvss: e.cvss_score, severity: e.severity, source: e.severity_source }, e.advisory_name).toEqual({ cvss: Math.max(...scores), severity: band(Math.max(...scores)), source: 'cvss' });
      } else {
        expect(e.severity_source, e.advisory_name).not.toBe('cvss');
        expect(e.severity, e.advisory_name).toBe(e.advisory_type === 'Security Advisory' ? (e.uyuni_severity ? { Critical: 'Critical', Important: 'High', Moderate: 'Medium', Low: 'Low' }[e.uyuni_severity] : 'Medium') : 'Low');
      }
    }
    expect(scored).toBeGreaterThan(100);
    // A later sync that rewrites the severity from UYUNI keeps the CVSS one (the trigger), and cvss_severity() is domain's table.
    const one = errata.find((e) => e.severity_source === 'cvss')!;
    await tw.db.updateTable('errata_cache').set({ severity: 'Low', uyuni_severity: 'Low' }).where('advisory_name', '=', one.advisory_name).execute();
    expect((await tw.db.selectFrom('errata_cache').select('severity').where('advisory_name', '=', one.advisory_name).executeTakeFirstOrThrow()).severity).toBe(one.severity);
    const { rows } = await sql<{ s: number; sev: string | null }>`select s::float8 / 10 as s, cvss_severity(s::float8 / 10) as sev from generate_series(0, 100) s`.execute(tw.db);
    for (const r of rows) expect(r.sev ?? undefined, String(r.s)).toBe(severityOfCvss(r.s));
  });

  it('a CVE that CISA adds to KEV moves its erratum to the top of the queue and of the dispatcher', { timeout: 60_000 }, async () => {
    const candidates = await tw.db
      .selectFrom('errata_cache')
      .select(['advisory_name', 'target_os', 'cves', 'urgency'])
      .where('advisory_type', '=', 'Security Advisory')
      .where('kev', '=', false)
      .where(sql<boolean>`cardinality(test_system_ids) > 0`)
      .where('uyuni_errata_id', 'is not', null)
      .orderBy('urgency', 'desc')
      .limit(40)
      .execute();
    const picked = [...candidates.slice(0, 4), candidates[candidates.length - 1]!];
    expect(picked[4]!.urgency).toBeLessThan(Math.min(...picked.slice(0, 4).map((p) => p.urgency)));
    await tw.db.insertInto('patch_test_queue').values(picked.map((p) => ({ advisory_name: p.advisory_name, target_os: p.target_os[0]!, success_score: 80, queued_by: 'intel-test' }))).execute();
    const before = await queuePage(tw.db, {}, { limit: 10, offset: 0 });
    const last = picked[picked.length - 1]!;
    expect(before.items.map((i) => i.advisory_name).sort()).toEqual(picked.map((p) => p.advisory_name).sort());
    expect(before.items[4]!.advisory_name).toBe(last.advisory_name);

    const due = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    intel.data.addKev(last.cves[0]!, { dueDate: due, ransomware: true });
    const summary = await runIntelNow(tw.client, tw.config, { trigger: 'test', force: true });
    expect(summary.errors).toEqual([]);
    expect(summary.kev?.refreshed).toBe(true);

    const after = await queuePage(tw.db, {}, { limit: 10, offset: 0 });
    expect(after.items[0]!.advisory_name).toBe(last.advisory_name);
    expect(after.items[0]!.intel.kev).toEqual({ due_date: due, ransomware: true });
    expect(after.items[0]!.intel.urgency_breakdown.map((l) => l.term).slice(0, 3)).toEqual(['kev', 'kev_ransomware', 'kev_sla']);
    expect(after.items.slice(1).map((i) => i.advisory_name)).toEqual(before.items.slice(0, 4).map((i) => i.advisory_name));
    // The dispatcher takes work in the same order (the claim is rolled back).
    const claimed = await tw.db.transaction().execute(async (trx) => {
      const c = await claimTest(trx, { workflowIdOf: (id) => `intel-test-${id}` });
      throw Object.assign(new Error('rollback'), { claimed: c });
    }).catch((err: { claimed?: { advisoryName: string } }) => err.claimed);
    expect(claimed?.advisoryName).toBe(last.advisory_name);
    // priority_override still wins.
    const second = after.items[1]!;
    await tw.db.updateTable('patch_test_queue').set({ priority_override: 1 }).where('id', '=', second.id).execute();
    expect((await queuePage(tw.db, {}, { limit: 1, offset: 0 })).items[0]!.id).toBe(second.id);
  });

  it('the API shows CVSS, EPSS and KEV per erratum and per CVE, and filters by kev, epss_gt, cvss_gte', async () => {
    const get = async (url: string) => {
      const res = await api.app.inject({ method: 'GET', url, headers: bearer('viewer') });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json() as { total: number; items: { advisory_name: string; cves: string[]; intel: { kev: unknown; cvss: { score: number } | null; epss: unknown }; cve_intel: { cve: string; kev: boolean; epss_score: number | null; cvss_score: number | null }[] }[] };
    };
    const kevErrata = await tw.db.selectFrom('errata_cache').select('advisory_name').where('kev', '=', true).orderBy('advisory_name').execute();
    const k = await get('/api/v1/errata?kev=true&limit=500&sort=advisory_name');
    expect(k.total).toBe(kevErrata.length);
    expect(k.items.map((i) => i.advisory_name)).toEqual(kevErrata.map((r) => r.advisory_name));
    for (const i of k.items) expect(i.cve_intel.some((c) => c.kev), i.advisory_name).toBe(true);
    const hi = await get('/api/v1/errata?cvss_gte=9&limit=500');
    expect(hi.total).toBeGreaterThan(0);
    for (const i of hi.items) expect(i.intel.cvss!.score).toBeGreaterThanOrEqual(9);
    const ep = await get('/api/v1/errata?epss_gt=0.5&limit=500');
    for (const i of ep.items) expect(i.cve_intel.some((c) => (c.epss_score ?? 0) > 0.5), i.advisory_name).toBe(true);
    const q = await get('/api/v1/queue?kev=true');
    expect(q.total).toBe(1);
    expect(q.items[0]!.intel.kev).not.toBeNull();
    const one = await api.app.inject({ method: 'GET', url: `/api/v1/errata/${encodeURIComponent(k.items[0]!.advisory_name)}`, headers: bearer('viewer') });
    expect(one.json()).toMatchObject({ intel: { severity_source: expect.any(String) }, cve_intel: expect.any(Array) });
    for (const bad of ['kev=maybe', 'epss_gt=2', 'cvss_gte=11', 'epss_gt=abc']) {
      const res = await api.app.inject({ method: 'GET', url: `/api/v1/queue?${bad}`, headers: bearer('viewer') });
      expect(res.statusCode, bad).toBe(400);
      expect(res.body, bad).toContain(bad.split('=')[0]);
    }
  });

  it('npm run ops -- import-intel: NVD 2.0 JSON, KEV JSON and the EPSS CSV.gz, without Temporal', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spm-intel-'));
    const kevFile = path.join(dir, 'known_exploited_vulnerabilities.json');
    const cve = [...intel.data.epss.keys()][0]!;
    const catalog = intel.data.kevCatalog() as { vulnerabilities: unknown[]; count: number };
    catalog.vulnerabilities.push({ cveID: 'CVE-2013-0001', vendorProject: 'Microsoft', product: '.NET', vulnerabilityName: 'x', dateAdded: '2026-12-01', shortDescription: 'x', requiredAction: 'x', dueDate: '2026-12-22', knownRansomwareCampaignUse: 'Unknown', notes: '', cwes: [] });
    catalog.count++;
    writeFileSync(kevFile, JSON.stringify(catalog));
    const epssFile = path.join(dir, 'epss_scores-current.csv.gz');
    writeFileSync(epssFile, gzipSync(intel.data.epssCsv(1000).replace(new RegExp(`^${cve},[^\\n]*`, 'm'), `${cve},0.91000,0.99900`)));
    const nvdFile = new URL('../fixtures/nvd/v2-only.CVE-2013-0001.json', import.meta.url).pathname;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'client.ts', 'import-intel', nvdFile, kevFile, epssFile], {
      encoding: 'utf8',
      env: { ...process.env, DOTENV_PATH: '/nonexistent', DB_NAME, TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { kind: string; rows: number; version: string | null }[];
    expect(out.map((o) => [o.kind, o.rows, o.version])).toEqual([
      ['nvd', 1, '2.0'],
      ['kev', intel.data.kev.size + 1, catalog && (intel.data.kevCatalog() as { catalogVersion: string }).catalogVersion],
      ['epss', intel.data.epss.size + 1000, 'v2025.03.14'],
    ]);
    const row = await tw.db.selectFrom('cve_intel').selectAll().where('cve_id', 'in', ['CVE-2013-0001', cve]).orderBy('cve_id').execute();
    expect(row.find((x) => x.cve_id === 'CVE-2013-0001')).toMatchObject({ cvss_score: 4.3, cvss_version: '2.0', kev: true, kev_due_date: '2026-12-22' });
    expect(row.find((x) => x.cve_id === cve)).toMatchObject({ epss_score: 0.91, epss_percentile: 0.999, epss_model_version: 'v2025.03.14' });
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'client.ts', 'import-intel', path.join(dir, 'missing.json')], { encoding: 'utf8', env: { ...process.env, DOTENV_PATH: '/nonexistent', DB_NAME }, timeout: 30_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('missing.json');
  });
});
