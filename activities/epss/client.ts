// FIRST's EPSS API (https://api.first.org/data/v1/epss, or a mirror): scores for batches of CVEs in one
// `cve=` list (≤ ~2000 characters: 100 ids a request), `epss` and `percentile` as the strings FIRST sends,
// parsed and range-checked; the score date per row and the model version when the answer names it. The
// daily CSV (`#model_version:…,score_date:…` then `cve,epss,percentile`, often .gz) is parsed by
// `parseEpssCsv` for the offline import.
import { gunzipSync } from 'node:zlib';
import { IntelHttp, IntelProtocolError, checkBaseUrl, parseJson, statusError } from '../shared/intel-http.js';

export interface EpssScore {
  cve: string;
  epss: number;
  percentile: number;
  /** YYYY-MM-DD */
  date: string;
}

export interface EpssBatch {
  scores: EpssScore[];
  modelVersion: string | null;
}

export const EPSS_BATCH = 100;
const CVE_RE = /^CVE-\d{4}-\d{4,}$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A probability in [0, 1] from FIRST's string (or number); undefined when it is not one. */
export function probability(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

export class EpssClient {
  private readonly http: IntelHttp;
  private readonly base: URL;
  requests = 0;

  constructor(opts: { url: string; timeoutMs: number }) {
    this.base = checkBaseUrl('epss', opts.url);
    this.http = new IntelHttp('epss', opts.timeoutMs, 64 * 1024 * 1024);
  }

  /** Scores of up to EPSS_BATCH CVEs; a CVE FIRST has not scored (too new, rejected) is simply absent. */
  async scores(cves: readonly string[]): Promise<EpssBatch> {
    if (cves.length === 0) return { scores: [], modelVersion: null };
    if (cves.length > EPSS_BATCH) throw new RangeError(`at most ${EPSS_BATCH} CVEs per EPSS request`);
    const url = new URL(this.base);
    url.searchParams.set('cve', cves.join(','));
    url.searchParams.set('limit', String(cves.length));
    this.requests++;
    const answer = await this.http.get(url);
    const what = `${cves.length} CVE(s) from ${cves[0]}`;
    if (answer.status !== 200) throw statusError('epss', answer, what);
    const body = parseJson('epss', answer, what);
    if (!isRecord(body) || !Array.isArray(body.data)) throw new IntelProtocolError('epss', `${what}: no data[] in the answer`, answer.status);
    const scores: EpssScore[] = [];
    for (const row of body.data) {
      if (!isRecord(row) || typeof row.cve !== 'string' || !CVE_RE.test(row.cve)) continue;
      const epss = probability(row.epss);
      const percentile = probability(row.percentile);
      if (epss === undefined || percentile === undefined) throw new IntelProtocolError('epss', `${what}: ${row.cve} has epss ${JSON.stringify(row.epss)} / percentile ${JSON.stringify(row.percentile)}`);
      scores.push({ cve: row.cve, epss, percentile, date: typeof row.date === 'string' ? row.date.slice(0, 10) : new Date().toISOString().slice(0, 10) });
    }
    const modelVersion = typeof body.model_version === 'string' ? body.model_version : typeof body.version === 'string' && body.version.startsWith('v2') ? body.version : null;
    return { scores, modelVersion };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/**
 * The daily EPSS CSV (gzip or plain): `#model_version:v2025.03.14,score_date:2025-03-20T12:55:00Z`, then the
 * header `cve,epss,percentile`, then one row per CVE. Rows that are not a CVE with two probabilities are
 * counted in `skipped`, never stored.
 */
export function parseEpssCsv(data: Buffer): { modelVersion: string | null; scoreDate: string | null; rows: EpssScore[]; skipped: number } {
  const text = (data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data).toString('utf8');
  let modelVersion: string | null = null;
  let scoreDate: string | null = null;
  const rows: EpssScore[] = [];
  let skipped = 0;
  let header = false;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (!line) continue;
    if (line.startsWith('#')) {
      for (const part of line.slice(1).split(',')) {
        const i = part.indexOf(':');
        if (i < 0) continue;
        const key = part.slice(0, i).trim();
        const value = part.slice(i + 1).trim();
        if (key === 'model_version') modelVersion = value;
        if (key === 'score_date') scoreDate = value.slice(0, 10);
      }
      continue;
    }
    if (!header && line.startsWith('cve,')) {
      header = true;
      continue;
    }
    const [cve, e, p] = line.split(',');
    const epss = probability(e);
    const percentile = probability(p);
    if (!cve || !CVE_RE.test(cve) || epss === undefined || percentile === undefined) {
      skipped++;
      continue;
    }
    rows.push({ cve, epss, percentile, date: scoreDate ?? '' });
  }
  if (!header) throw new IntelProtocolError('epss', 'not an EPSS CSV: no "cve,epss,percentile" header');
  const date = scoreDate ?? new Date().toISOString().slice(0, 10);
  for (const r of rows) r.date = date;
  return { modelVersion, scoreDate: date, rows, skipped };
}
