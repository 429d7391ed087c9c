/**
 * The lab's NVD CVE API 2.0, FIRST EPSS API and CISA KEV feed over HTTP on loopback, for the lab's CVEs:
 *   GET /rest/json/cves/2.0            cveId | lastModStartDate+lastModEndDate (≤ 120 days), resultsPerPage ≤ 2000, startIndex
 *   GET /data/v1/epss                  cve=CVE-A,CVE-B (≤ 2000 characters), limit, offset
 *   GET /feeds/known_exploited_vulnerabilities.json
 *   GET /epss_scores-current.csv.gz    the daily CSV (gzip)
 * NVD's rate limit as NVD applies it: per rolling 30 s at most 5 requests without an `apiKey` header and 50
 * with one (per key); beyond it 403. Every arrival is recorded (`GET /lab/intel/requests`) so a test measures
 * what the orchestrator really sent. Control: POST /lab/intel/kev {cve, dueDate?, dateAdded?, ransomware?},
 * DELETE /lab/intel/kev/:cve, POST /lab/intel/faults {"kind":"nvd403|nvd503|epss500","times":1},
 * DELETE /lab/intel/requests.
 */
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { IntelData, type IntelDataOptions } from './data.js';

export interface IntelLabOptions extends IntelDataOptions {
  host?: string;
  port?: number;
  /** rolling window (default 30 s) and limits (5 / 50) */
  windowMs?: number;
  limit?: number;
  keyedLimit?: number;
  /** keys NVD accepts; empty = any non-empty key */
  apiKeys?: string[];
  /** extra synthetic rows in the EPSS CSV (the bench's ~300,000) */
  epssCsvExtraRows?: number;
}

export interface IntelArrival {
  at: number;
  path: string;
  status: number;
  keyed: boolean;
}

export interface IntelLab {
  readonly app: FastifyInstance;
  readonly data: IntelData;
  readonly url: string;
  readonly nvdUrl: string;
  readonly epssUrl: string;
  readonly kevUrl: string;
  readonly epssCsvUrl: string;
  readonly arrivals: IntelArrival[];
  close(): Promise<void>;
}

const DAY = 86_400_000;

/** NVD's date parameters: ISO-8601 with an offset (or Z); a '+' that arrived as a space is put back. */
function parseNvdDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v.replace(' ', '+'));
  return Number.isNaN(t) ? undefined : t;
}

export function buildIntelLab(cves: Iterable<string>, opts: IntelLabOptions = {}): Omit<IntelLab, 'url' | 'nvdUrl' | 'epssUrl' | 'kevUrl' | 'epssCsvUrl' | 'close'> {
  const data = new IntelData(cves, opts);
  const app = Fastify({ logger: false });
  const arrivals: IntelArrival[] = [];
  const windowMs = opts.windowMs ?? 30_000;
  const served = new Map<string, number[]>();
  const faults: { kind: string; times: number }[] = [];
  const takeFault = (kind: string) => {
    const f = faults.find((x) => x.kind === kind && x.times > 0);
    if (!f) return false;
    f.times--;
    return true;
  };
  let csvGz: Buffer | undefined;

  app.get('/rest/json/cves/2.0', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const key = typeof req.headers.apikey === 'string' ? req.headers.apikey : undefined;
    const validKey = key !== undefined && key !== '' && (!opts.apiKeys?.length || opts.apiKeys.includes(key));
    const bucket = validKey ? `key:${key}` : `ip:${req.ip}`;
    const limit = validKey ? (opts.keyedLimit ?? 50) : (opts.limit ?? 5);
    const now = Date.now();
    const log = (served.get(bucket) ?? []).filter((t) => t > now - windowMs);
    served.set(bucket, log);
    const record = (status: number) => arrivals.push({ at: now, path: 'nvd', status, keyed: validKey });
    if (key !== undefined && !validKey) {
      record(404);
      return reply.code(404).header('message', 'Invalid apiKey').send();
    }
    if (log.length >= limit || takeFault('nvd403')) {
      record(403);
      return reply.code(403).type('text/html').send('<html><body><h1>403 Forbidden</h1>Request forbidden by administrative rules.</body></html>');
    }
    if (takeFault('nvd503')) {
      record(503);
      return reply.code(503).send('Service Unavailable');
    }
    log.push(now);
    const bad = (message: string) => {
      record(404);
      return reply.code(404).header('message', message).send();
    };
    const perPage = q.resultsPerPage === undefined ? 2000 : Number(q.resultsPerPage);
    const startIndex = q.startIndex === undefined ? 0 : Number(q.startIndex);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 2000) return bad('Invalid resultsPerPage parameter');
    if (!Number.isInteger(startIndex) || startIndex < 0) return bad('Invalid startIndex parameter');
    let records: Record<string, unknown>[];
    if (q.cveId !== undefined) {
      if (!/^CVE-\d{4}-\d{4,}$/.test(q.cveId)) return bad('Invalid cveId parameter');
      const r = data.nvd.get(q.cveId);
      records = r ? [r] : [];
    } else if (q.lastModStartDate !== undefined || q.lastModEndDate !== undefined) {
      const start = parseNvdDate(q.lastModStartDate);
      const end = parseNvdDate(q.lastModEndDate);
      if (start === undefined || end === undefined) return bad('Both lastModStartDate and lastModEndDate are required when either is present');
      if (end < start || end - start > 120 * DAY) return bad('The date range must not exceed 120 days');
      records = data.modifiedBetween(start, end);
    } else {
      records = [...data.nvd.values()];
    }
    record(200);
    const page = records.slice(startIndex, startIndex + perPage);
    return {
      resultsPerPage: page.length,
      startIndex,
      totalResults: records.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: new Date(now).toISOString().slice(0, 23),
      vulnerabilities: page.map((cve) => ({ cve })),
    };
  });

  app.get('/data/v1/epss', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const now = Date.now();
    if (takeFault('epss500')) {
      arrivals.push({ at: now, path: 'epss', status: 500, keyed: false });
      return reply.code(500).send({ status: 'Error', 'status-code': 500 });
    }
    arrivals.push({ at: now, path: 'epss', status: 200, keyed: false });
    const cves = (q.cve ?? '').split(',').filter(Boolean);
    const limit = Math.min(Number(q.limit ?? 100) || 100, 10_000);
    const offset = Number(q.offset ?? 0) || 0;
    const all = cves.length ? cves.map((c) => data.epss.get(c)).filter((e) => e !== undefined) : [...data.epss.values()];
    return { status: 'OK', 'status-code': 200, version: '1.0', access: 'public', total: all.length, offset, limit, data: all.slice(offset, offset + limit) };
  });

  app.get('/feeds/known_exploited_vulnerabilities.json', async () => {
    arrivals.push({ at: Date.now(), path: 'kev', status: 200, keyed: false });
    return data.kevCatalog();
  });

  app.get('/epss_scores-current.csv.gz', async (_req, reply) => {
    csvGz ??= gzipSync(data.epssCsv(opts.epssCsvExtraRows ?? 0));
    return reply.type('application/gzip').send(csvGz);
  });

  app.get('/lab/intel/requests', async () => ({ arrivals }));
  app.delete('/lab/intel/requests', async () => {
    arrivals.length = 0;
    return { cleared: true };
  });
  app.post('/lab/intel/kev', async (req) => {
    const b = req.body as { cve: string; dueDate?: string; dateAdded?: string; ransomware?: boolean };
    return data.addKev(b.cve, b);
  });
  app.delete('/lab/intel/kev/:cve', async (req) => ({ removed: data.removeKev((req.params as { cve: string }).cve) }));
  app.post('/lab/intel/faults', async (req) => {
    const b = req.body as { kind: string; times?: number };
    faults.push({ kind: b.kind, times: b.times ?? 1 });
    return { queued: faults.length };
  });
  app.get('/lab/intel/cves', async () => ({ cves: [...data.shapes.entries()].map(([cve, shape]) => ({ cve, shape, kev: data.kev.has(cve), epss: data.epss.get(cve) ?? null })) }));

  return { app, data, arrivals };
}

export async function startIntelLab(cves: Iterable<string>, opts: IntelLabOptions = {}): Promise<IntelLab> {
  const parts = buildIntelLab(cves, opts);
  const host = opts.host ?? '127.0.0.1';
  await parts.app.listen({ host, port: opts.port ?? 0 });
  const address = parts.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host}:${port}`;
  return {
    ...parts,
    url,
    nvdUrl: `${url}/rest/json/cves/2.0`,
    epssUrl: `${url}/data/v1/epss`,
    kevUrl: `${url}/feeds/known_exploited_vulnerabilities.json`,
    epssCsvUrl: `${url}/epss_scores-current.csv.gz`,
    close: () => parts.app.close(),
  };
}

/** Every CVE the fleet's advisories carry. */
export function fleetCves(fleet: { catalog: { errata: readonly { cves: readonly string[] }[] } }): string[] {
  return [...new Set(fleet.catalog.errata.flatMap((e) => e.cves))];
}
