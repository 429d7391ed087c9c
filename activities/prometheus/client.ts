// A small Prometheus HTTP API client on undici (reference §2.4's verdict: the API is two endpoints
// with four parameters, not worth a dependency that throws plain objects). Queries are POSTed
// form-encoded so long PromQL never hits URL limits. No secrets: URLs with credentials are refused.
import { errorCode, isUndiciTimeout } from '../shared/undici-errors.js';
import { Pool } from 'undici';
import { observed, type CallObserver } from '../shared/call-observer.js';
import { decodeQueryResult } from './decode.js';
import { PrometheusProtocolError, PrometheusQueryError, PrometheusUnavailableError } from './errors.js';
import type { MatrixResult, PromTime, QueryResult } from './types.js';

export interface PrometheusClientOptions {
  /** Told about every API request (path, latency, error): the worker's call metrics. */
  observer?: CallObserver;
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix such as /prometheus is kept). */
  url: string;
  /** Deadline per HTTP request. Default 10 s; also sent as the query's server-side `timeout`. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_POINTS_PER_SERIES = 11_000;
const SNIPPET_CHARS = 120;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);


/** Unix seconds with the fraction Prometheus accepts. */
export function formatTime(time: PromTime): string {
  const seconds = time instanceof Date ? time.getTime() / 1000 : time;
  if (!Number.isFinite(seconds)) throw new TypeError('time must be a valid Date or finite unix seconds');
  return String(seconds);
}

export class PrometheusClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly observer: CallObserver | undefined;

  constructor(options: PrometheusClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`Prometheus url must be http(s), got ${url.protocol}`);
    if (url.username !== '' || url.password !== '') throw new TypeError('Prometheus url must not carry credentials');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.observer = options.observer;
    if (!(this.timeoutMs > 0)) throw new TypeError('timeoutMs must be > 0');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, { connections: 4, keepAliveTimeout: 30_000 });
  }

  /** Instant query at `time` (default: the server's now). */
  async query(promql: string, time?: PromTime): Promise<QueryResult> {
    const form: Record<string, string> = { query: promql, timeout: this.serverTimeout() };
    if (time !== undefined) form.time = formatTime(time);
    return this.post('/api/v1/query', form, promql);
  }

  /** Range query; always a matrix. */
  async queryRange(promql: string, start: PromTime, end: PromTime, stepSeconds: number): Promise<MatrixResult> {
    if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) throw new TypeError('stepSeconds must be > 0');
    const from = Number(formatTime(start));
    const to = Number(formatTime(end));
    if (to < from) throw new TypeError('end must not be before start');
    // Prometheus refuses more than 11,000 points per series with bad_data; say so before the trip.
    if ((to - from) / stepSeconds + 1 > MAX_POINTS_PER_SERIES) throw new TypeError(`range/step exceeds ${MAX_POINTS_PER_SERIES} points`);
    const result = await this.post(
      '/api/v1/query_range',
      { query: promql, start: String(from), end: String(to), step: String(stepSeconds), timeout: this.serverTimeout() },
      promql,
    );
    if (result.resultType !== 'matrix') throw new PrometheusProtocolError(`query_range returned ${result.resultType}, not matrix`);
    return result;
  }

  /** `/-/ready`: true on 200, false on 503 (starting up); a refused connection throws Unavailable. */
  async ready(): Promise<boolean> {
    const { status } = await this.send('GET', '/-/ready', undefined);
    if (status === 200) return true;
    if (status === 503) return false;
    throw new PrometheusProtocolError(`/-/ready answered HTTP ${status}`, status);
  }

  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close();
  }

  private serverTimeout(): string {
    // Let the server give up a little before we do, so we get its `timeout` error instead of a cut connection.
    return `${Math.max(1, Math.floor((this.timeoutMs * 0.9) / 1000))}s`;
  }

  private async post(path: string, form: Record<string, string>, promql: string): Promise<QueryResult> {
    return observed(this.observer, 'prometheus', path.replace(/^\/api\/v1\//, ''), () => this.postOnce(path, form, promql));
  }

  private async postOnce(path: string, form: Record<string, string>, promql: string): Promise<QueryResult> {
    const { status, text } = await this.send('POST', path, new URLSearchParams(form).toString());
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      const snippet = text.slice(0, SNIPPET_CHARS).replace(/\s+/g, ' ').trim();
      // A proxy's or a starting server's 5xx page: come back later. A 404 page: wrong URL, won't heal.
      if (status >= 500) throw new PrometheusUnavailableError(`HTTP ${status}: ${snippet}`, { status });
      throw new PrometheusProtocolError(`HTTP ${status}, not a Prometheus API response: ${snippet}`, status);
    }
    if (!isRecord(body)) throw new PrometheusProtocolError(`HTTP ${status}: body is not an object`, status);
    if (body.status === 'error') {
      const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown';
      const detail = typeof body.error === 'string' ? body.error : '';
      throw new PrometheusQueryError(errorType, detail, status, promql);
    }
    if (body.status !== 'success' || status !== 200) {
      throw new PrometheusProtocolError(`HTTP ${status} with status ${JSON.stringify(body.status)}`, status);
    }
    return decodeQueryResult(body);
  }

  private async send(method: 'GET' | 'POST', path: string, form: string | undefined): Promise<{ status: number; text: string }> {
    if (this.pool.closed) throw new PrometheusProtocolError('Prometheus client is closed');
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const response = await this.pool.request({
        path: `${this.basePath}${path}`,
        method,
        headers: {
          accept: 'application/json',
          ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(form === undefined ? {} : { body: form }),
        signal: controller.signal,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      const code = errorCode(error);
      if (timedOut || isUndiciTimeout(error)) {
        throw new PrometheusUnavailableError(`no complete response within ${this.timeoutMs} ms`, { code: 'TIMEOUT' });
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new PrometheusUnavailableError(`connection failed${code === undefined ? '' : ` (${code})`}: ${message}`, {
        ...(code === undefined ? {} : { code }),
        cause: { name: error instanceof Error ? error.name : 'Error', code, message },
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
