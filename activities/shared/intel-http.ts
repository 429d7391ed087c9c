// The HTTP layer the three intelligence clients (activities/nvd, epss, kev) share: one undici Agent per
// client, a deadline per request, and a typed error per way a request fails. Secrets (NVD's apiKey header)
// are never put in an error or a log line: errors carry the URL without its query's apiKey and the status.
import { errorCode, isUndiciTimeout } from './undici-errors.js';
import { Agent, request } from 'undici';

export type IntelSource = 'nvd' | 'epss' | 'kev';

export type IntelErrorType = 'IntelRateLimitedError' | 'IntelUnavailableError' | 'IntelProtocolError' | 'IntelRequestError';

export abstract class IntelError extends Error {
  abstract readonly type: IntelErrorType;
  abstract readonly retryable: boolean;
  readonly source: IntelSource;
  readonly status: number | undefined;

  protected constructor(source: IntelSource, message: string, status?: number, cause?: unknown) {
    super(`${source}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.source = source;
    this.status = status;
  }
}

/** 403 / 429 from NVD (its rate limit), still after the client's own backoff. Retryable later. */
export class IntelRateLimitedError extends IntelError {
  readonly type: IntelErrorType = 'IntelRateLimitedError';
  readonly retryable = true;
  constructor(source: IntelSource, message: string, status: number) {
    super(source, message, status);
  }
}

/** Connection refused or reset, a timeout, a 5xx: the service is away for now. Retryable. */
export class IntelUnavailableError extends IntelError {
  readonly type: IntelErrorType = 'IntelUnavailableError';
  readonly retryable = true;
  readonly code: string | undefined;
  constructor(source: IntelSource, message: string, opts: { status?: number; code?: string; cause?: unknown } = {}) {
    super(source, message, opts.status, opts.cause);
    this.code = opts.code;
  }
}

/** A body that is not the documented format (not JSON, a missing field, a truncated file). Retryable: mirrors get fixed. */
export class IntelProtocolError extends IntelError {
  readonly type: IntelErrorType = 'IntelProtocolError';
  readonly retryable = true;
  constructor(source: IntelSource, message: string, status?: number) {
    super(source, message, status);
  }
}

/** A 4xx other than the rate limit: the request itself is wrong (bad parameters, an unknown path). Not retryable. */
export class IntelRequestError extends IntelError {
  readonly type: IntelErrorType = 'IntelRequestError';
  readonly retryable = false;
  constructor(source: IntelSource, message: string, status: number) {
    super(source, message, status);
  }
}

export function isIntelError(err: unknown): err is IntelError {
  return err instanceof IntelError;
}



export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Checks a configured base URL: http(s), no credentials in it. */
export function checkBaseUrl(source: IntelSource, url: string): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`${source} url must be http(s), got ${u.protocol}`);
  if (u.username !== '' || u.password !== '') throw new TypeError(`${source} url must not carry credentials`);
  return u;
}

export class IntelHttp {
  private readonly agent: Agent;

  constructor(
    private readonly source: IntelSource,
    private readonly timeoutMs: number,
    private readonly maxBytes: number,
  ) {
    this.agent = new Agent({ connections: 4, keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  /** GET `url`; never throws for an HTTP status (the caller decides), only for transport failures. */
  async get(url: URL, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const shown = `${url.origin}${url.pathname}`;
    try {
      const res = await request(url, { method: 'GET', headers: { accept: 'application/json, */*', ...headers }, dispatcher: this.agent, signal: AbortSignal.timeout(this.timeoutMs) });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > this.maxBytes) {
          res.body.destroy();
          throw new IntelProtocolError(this.source, `${shown}: body larger than ${this.maxBytes} bytes`, res.statusCode);
        }
        chunks.push(b);
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
    } catch (err) {
      if (err instanceof IntelError) throw err;
      const code = errorCode(err);
      const timedOut = (err as { name?: string }).name === 'TimeoutError' || isUndiciTimeout(err);
      throw new IntelUnavailableError(this.source, `${shown}: ${timedOut ? `no answer within ${this.timeoutMs} ms` : `request failed (${code ?? (err as Error).message})`}`, {
        ...(code ? { code } : {}),
      });
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Parses a JSON body or throws IntelProtocolError naming the source. */
export function parseJson(source: IntelSource, answer: HttpAnswer, what: string): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new IntelProtocolError(source, `${what}: the body is not JSON (${answer.body.length} bytes)`, answer.status);
  }
}

/** The typed error for a non-2xx status that is not a rate limit. */
export function statusError(source: IntelSource, answer: HttpAnswer, what: string): IntelError {
  const message = typeof answer.headers.message === 'string' ? ` (${answer.headers.message})` : '';
  if (answer.status >= 500) return new IntelUnavailableError(source, `${what}: HTTP ${answer.status}${message}`, { status: answer.status });
  return new IntelRequestError(source, `${what}: HTTP ${answer.status}${message}`, answer.status);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
