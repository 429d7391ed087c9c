// The NVD CVE API 2.0 client (https://services.nvd.nist.gov/rest/json/cves/2.0, or a mirror): look-ups by
// cveId and last-modified windows (≤ 120 days) paged by up to 2000 records. Every request takes a slot of the
// rate limiter first (5 / 50 per rolling 30 s); 403, 429 and 503 are backed off (each retry takes a slot
// again) and then surface as typed errors. The key travels only in the `apiKey` header: it is never in a URL,
// a log line or an error.
import type { Logger } from 'pino';
import { IntelHttp, IntelProtocolError, IntelRateLimitedError, IntelUnavailableError, checkBaseUrl, parseJson, sleep, statusError } from '../shared/intel-http.js';
import type { RateLimiter } from './rate-limit.js';
import { NVD_MAX_RESULTS_PER_PAGE, NVD_MAX_WINDOW_DAYS, type NvdCve, type NvdPage, type NvdWindow } from './types.js';

export interface NvdClientOptions {
  url: string;
  apiKey?: string;
  timeoutMs: number;
  limiter: RateLimiter;
  /** first backoff after a 403/429/503; doubles per attempt, at most 60 s */
  backoffMs: number;
  /** attempts per request before the typed error (default 4) */
  maxAttempts?: number;
  logger?: Logger;
}

export interface NvdRequestHooks {
  signal?: AbortSignal;
  /** called while waiting (a slot, a backoff): activities heartbeat here */
  onWait?: (what: string, ms: number) => void;
}

const DAY_MS = 86_400_000;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** NVD's date format for lastModStartDate/EndDate: ISO-8601 with milliseconds and an explicit offset. */
export function nvdDate(d: Date): string {
  return d.toISOString().replace('Z', '+00:00');
}

/** Splits [start, end] into windows NVD accepts (≤ 120 days each). */
export function nvdWindows(start: Date, end: Date, maxDays = NVD_MAX_WINDOW_DAYS): NvdWindow[] {
  const out: NvdWindow[] = [];
  for (let s = start.getTime(); s < end.getTime(); s += maxDays * DAY_MS) {
    out.push({ start: new Date(s), end: new Date(Math.min(end.getTime(), s + maxDays * DAY_MS)) });
  }
  return out;
}

export class NvdClient {
  private readonly http: IntelHttp;
  private readonly base: URL;
  private readonly apiKey: string | undefined;
  private readonly maxAttempts: number;
  /** requests sent (every attempt), for progress and the bench */
  requests = 0;

  constructor(private readonly opts: NvdClientOptions) {
    this.base = checkBaseUrl('nvd', opts.url);
    this.apiKey = opts.apiKey || undefined;
    this.maxAttempts = opts.maxAttempts ?? 4;
    this.http = new IntelHttp('nvd', opts.timeoutMs, 512 * 1024 * 1024);
  }

  get keyed(): boolean {
    return this.apiKey !== undefined;
  }

  /** One CVE by id; undefined when NVD does not know it (totalResults 0). */
  async cve(id: string, hooks: NvdRequestHooks = {}): Promise<NvdCve | undefined> {
    const page = await this.get({ cveId: id }, hooks);
    return page.vulnerabilities.find((v) => v.cve.id === id)?.cve;
  }

  /** One page of the records last modified inside `window`. */
  async modifiedPage(window: NvdWindow, startIndex: number, resultsPerPage = NVD_MAX_RESULTS_PER_PAGE, hooks: NvdRequestHooks = {}): Promise<NvdPage> {
    if (window.end.getTime() - window.start.getTime() > NVD_MAX_WINDOW_DAYS * DAY_MS) throw new RangeError(`NVD windows are at most ${NVD_MAX_WINDOW_DAYS} days`);
    if (resultsPerPage < 1 || resultsPerPage > NVD_MAX_RESULTS_PER_PAGE) throw new RangeError(`resultsPerPage must be 1-${NVD_MAX_RESULTS_PER_PAGE}`);
    return this.get(
      { lastModStartDate: nvdDate(window.start), lastModEndDate: nvdDate(window.end), startIndex: String(startIndex), resultsPerPage: String(resultsPerPage) },
      hooks,
    );
  }

  /** Every record last modified inside `window`, page by page (`onPage` sees each page as it arrives). */
  async modified(window: NvdWindow, onPage: (page: NvdPage) => Promise<void>, hooks: NvdRequestHooks = {}, fromIndex = 0): Promise<{ pages: number; total: number }> {
    let index = fromIndex;
    let pages = 0;
    for (;;) {
      const page = await this.modifiedPage(window, index, NVD_MAX_RESULTS_PER_PAGE, hooks);
      pages++;
      await onPage(page);
      index = page.startIndex + page.vulnerabilities.length;
      if (page.vulnerabilities.length === 0 || index >= page.totalResults) return { pages, total: page.totalResults };
    }
  }

  private async get(params: Record<string, string>, hooks: NvdRequestHooks): Promise<NvdPage> {
    const url = new URL(this.base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const what = params.cveId ? `cveId=${params.cveId}` : `lastMod ${params.lastModStartDate}..${params.lastModEndDate} from ${params.startIndex}`;
    const headers: Record<string, string> = this.apiKey ? { apiKey: this.apiKey } : {};
    for (let attempt = 1; ; attempt++) {
      await this.opts.limiter.acquire(hooks.signal, (ms) => hooks.onWait?.('rate limit', ms));
      this.requests++;
      let answer;
      try {
        answer = await this.http.get(url, headers);
      } catch (err) {
        if (err instanceof IntelUnavailableError && attempt < this.maxAttempts) {
          await this.backoff(attempt, what, `${err.message}`, hooks);
          continue;
        }
        throw err;
      }
      if (answer.status === 200) return this.decode(parseJson('nvd', answer, what), what);
      if (answer.status === 403 || answer.status === 429 || answer.status === 503) {
        if (attempt < this.maxAttempts) {
          await this.backoff(attempt, what, `HTTP ${answer.status}`, hooks);
          continue;
        }
        if (answer.status === 503) throw new IntelUnavailableError('nvd', `${what}: HTTP 503 after ${attempt} attempts`, { status: 503 });
        throw new IntelRateLimitedError('nvd', `${what}: HTTP ${answer.status} (rate limited) after ${attempt} attempts`, answer.status);
      }
      throw statusError('nvd', answer, what);
    }
  }

  private async backoff(attempt: number, what: string, why: string, hooks: NvdRequestHooks): Promise<void> {
    const ms = Math.min(60_000, this.opts.backoffMs * 2 ** (attempt - 1));
    this.opts.logger?.warn({ what, why, attempt, backoffMs: ms }, 'NVD refused or failed a request; backing off');
    hooks.onWait?.('backoff', ms);
    await sleep(ms, hooks.signal);
  }

  private decode(body: unknown, what: string): NvdPage {
    if (!isRecord(body) || !Array.isArray(body.vulnerabilities) || typeof body.totalResults !== 'number') {
      throw new IntelProtocolError('nvd', `${what}: not an NVD CVE API 2.0 answer (no vulnerabilities[] / totalResults)`);
    }
    const vulns = body.vulnerabilities.filter((v): v is { cve: NvdCve } => isRecord(v) && isRecord(v.cve) && typeof v.cve.id === 'string');
    return {
      resultsPerPage: typeof body.resultsPerPage === 'number' ? body.resultsPerPage : vulns.length,
      startIndex: typeof body.startIndex === 'number' ? body.startIndex : 0,
      totalResults: body.totalResults,
      format: String(body.format ?? ''),
      version: String(body.version ?? ''),
      timestamp: String(body.timestamp ?? ''),
      vulnerabilities: vulns,
    };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
