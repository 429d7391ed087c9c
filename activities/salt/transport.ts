// HTTP transport for salt-api (rest_cherrypy): one keep-alive undici Pool per client, JSON in and
// out, TLS verification on/off, and a hard per-request deadline (queueing, headers and body). It
// moves JSON and maps failures to SaltError classes; it knows nothing about tokens or lowstates.
import { errorCode, isUndiciTimeout } from '../shared/undici-errors.js';
import { Pool } from 'undici';
import { SaltHttpError, SaltProtocolError, SaltTimeoutError, SaltTransportError } from './errors.js';

export interface SaltTransportOptions {
  url: string;
  timeoutMs: number;
  verifyTls: boolean;
  redact: (text: string) => string;
}

export interface SaltRequest {
  method: 'GET' | 'POST';
  /** Path below the configured base URL, e.g. `/login`, `/`, `/jobs/<jid>`. */
  path: string;
  /** Function or endpoint name for errors, logs and stats; never arguments. */
  name: string;
  body?: unknown;
  token?: string;
  /** Overrides the client-wide deadline (a sync `local` call can legitimately run long). */
  timeoutMs?: number;
  /** Caller cancellation (an activity's cancellationSignal): aborts the request with its reason. */
  signal?: AbortSignal;
}

export interface SaltResponse {
  status: number;
  /** The X-Auth-Token response header, set by /login. */
  authToken: string | undefined;
  body: unknown;
}

const USER_AGENT = 'spm-orchestrator-salt-client';
const ERROR_SNIPPET_BYTES = 2048;
const ERROR_DETAIL_CHARS = 200;


/**
 * Short human text from an error body. CherryPy's pages are HTML (the `<p>` holds the message, the
 * `<pre>` a traceback we don't want); an unexpected 500 is JSON `{"status":500,"return":"..."}`.
 */
export function errorDetail(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { return?: unknown };
      if (typeof parsed.return === 'string') return parsed.return.slice(0, ERROR_DETAIL_CHARS);
    } catch {
      // Not JSON after all: fall through to the text handling.
    }
  }
  const paragraph = /<p>([\s\S]*?)<\/p>/i.exec(trimmed)?.[1];
  const text = (paragraph ?? trimmed)
    .replace(/<(script|style|title|pre)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return decodeEntities(text).slice(0, ERROR_DETAIL_CHARS);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" };

// CherryPy html-escapes the message (`Client disabled: &#x27;runner&#x27;`); these few are all it emits.
function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/gi, (whole, name: string) => ENTITIES[name.toLowerCase()] ?? whole);
}

export class SaltTransport {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly redact: (text: string) => string;

  constructor(options: SaltTransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`salt-api url must be http(s), got ${url.protocol}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new TypeError('salt-api url must not carry credentials; pass user/password options');
    }
    if (!(options.timeoutMs > 0)) throw new TypeError('timeoutMs must be > 0');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.redact = options.redact;
    this.pool = new Pool(url.origin, {
      connections: 8,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: url.protocol === 'https:' ? { rejectUnauthorized: options.verifyTls } : {},
    });
  }

  /** One request; resolves for 2xx with the parsed JSON body, rejects with a SaltError otherwise. */
  async request(request: SaltRequest): Promise<SaltResponse> {
    if (this.pool.closed) throw new SaltProtocolError('transport is closed', { fun: request.name });
    request.signal?.throwIfAborted();
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.token !== undefined) headers['x-auth-token'] = request.token;
    try {
      const response = await this.pool.request({
        path: `${this.basePath}${request.path}`,
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: controller.signal,
      });
      if (response.statusCode < 200 || response.statusCode > 299) {
        const snippet = await readSnippet(response.body);
        throw new SaltHttpError(response.statusCode, this.redact(errorDetail(snippet)), request.name);
      }
      const text = await response.body.text();
      const header = response.headers['x-auth-token'];
      return {
        status: response.statusCode,
        authToken: typeof header === 'string' ? header : undefined,
        body: this.parse(text, request.name),
      };
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      if (timedOut) throw new SaltTimeoutError(timeoutMs, request.name);
      if (error instanceof SaltHttpError || error instanceof SaltProtocolError) throw error;
      throw this.classify(error, request.name, timeoutMs);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private parse(text: string, name: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SaltProtocolError(`response is not JSON: ${this.redact(text.slice(0, 120).replace(/\s+/g, ' '))}`, {
        fun: name,
        // An empty or cut-off body is what a dropped connection leaves; a complete non-JSON one isn't.
        retryable: text.trim() === '' || text.trimStart().startsWith('{'),
      });
    }
  }

  private classify(error: unknown, name: string, timeoutMs: number): Error {
    const code = errorCode(error);
    if (isUndiciTimeout(error)) return new SaltTimeoutError(timeoutMs, name);
    const message = this.redact(error instanceof Error ? error.message : String(error));
    // A sanitized stand-in as cause: the raw undici error may hold request options and headers.
    const cause = { name: error instanceof Error ? error.name : 'Error', code, message };
    return new SaltTransportError(`connection failed${code === undefined ? '' : ` (${code})`}: ${message}`, {
      fun: name,
      code,
      cause,
    });
  }

  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close();
  }
}

async function readSnippet(body: AsyncIterable<unknown> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      chunks.push(buffer);
      bytes += buffer.length;
      if (bytes >= ERROR_SNIPPET_BYTES) break;
    }
  } catch {
    // The status code is the diagnosis; a body we can't read adds nothing.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(bytes, ERROR_SNIPPET_BYTES));
}
