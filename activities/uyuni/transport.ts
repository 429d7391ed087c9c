// HTTP transport for /rpc/api: one keep-alive undici Pool per client, TLS verification on/off or a
// private CA bundle, and a hard per-call deadline covering queueing, headers and the whole body.
// It moves bytes and maps failures to UyuniError classes; it knows nothing about XML-RPC: the body
// is handed to the caller chunk by chunk as it arrives (the fast decoder parses it on the fly).
import { errorCode, isUndiciTimeout } from '../shared/undici-errors.js';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { UyuniHttpError, UyuniProgrammingError, UyuniTimeoutError, UyuniTlsError, UyuniTransportError } from './errors.js';

export interface TransportOptions {
  url: string;
  timeoutMs: number;
  verifyTls: boolean;
  caFile?: string;
  maxConnections: number;
  redact: (text: string) => string;
}

/** Receives the 200 body chunk by chunk, in order, while the deadline still runs. */
export type BodySink = (chunk: Buffer) => void;

const USER_AGENT = 'spm-orchestrator-uyuni-client';
const ERROR_SNIPPET_BYTES = 256;

// Node/OpenSSL verification failures: wrong CA, self-signed, expired, hostname mismatch.
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);


export class UyuniTransport {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly redact: (text: string) => string;

  constructor(options: TransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`UYUNI url must be http(s), got ${url.protocol}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new TypeError('UYUNI url must not carry credentials; pass user/password options');
    }
    if (!(options.timeoutMs > 0)) throw new TypeError('timeoutMs must be > 0');
    this.path = `${url.pathname}${url.search}`;
    this.timeoutMs = options.timeoutMs;
    this.redact = options.redact;
    const ca = options.caFile === undefined ? undefined : readFileSync(options.caFile);
    this.pool = new Pool(url.origin, {
      connections: Math.max(1, options.maxConnections),
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: url.protocol === 'https:' ? { rejectUnauthorized: options.verifyTls, ...(ca === undefined ? {} : { ca }) } : {},
    });
  }

  /**
   * POSTs one XML-RPC body and feeds the 200 body to `sink` as it arrives; resolves with its size
   * in bytes once it is complete, rejects with a UyuniError (a timeout if the body is still coming
   * in when the deadline passes). An exception from `sink` aborts the call and is rethrown as is.
   */
  async post(xml: string, method: string, sink: BodySink): Promise<number> {
    if (this.pool.closed) throw new UyuniProgrammingError('transport is closed', { method });
    const controller = new AbortController();
    let timedOut = false;
    let sinkFailed = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const response = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'text/xml', 'user-agent': USER_AGENT },
        body: xml,
        signal: controller.signal,
      });
      if (response.statusCode !== 200) {
        const snippet = await this.readSnippet(response.body);
        throw new UyuniHttpError(response.statusCode, snippet, method);
      }
      let bytes = 0;
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        bytes += buffer.length;
        sinkFailed = true;
        sink(buffer);
        sinkFailed = false;
      }
      return bytes;
    } catch (error) {
      if (sinkFailed) throw error;
      if (timedOut) throw new UyuniTimeoutError(this.timeoutMs, method);
      if (error instanceof UyuniHttpError) throw error;
      throw this.classify(error, method);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readSnippet(body: AsyncIterable<unknown> & { destroy(): unknown }): Promise<string> {
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
    const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(bytes, ERROR_SNIPPET_BYTES));
    return this.redact(text.replace(/\s+/g, ' ').trim());
  }

  private classify(error: unknown, method: string): Error {
    const code = errorCode(error);
    if (isUndiciTimeout(error)) return new UyuniTimeoutError(this.timeoutMs, method);
    const message = this.redact(error instanceof Error ? error.message : String(error));
    // A sanitized stand-in as cause: the raw undici error may hold request options and headers.
    const cause = { name: error instanceof Error ? error.name : 'Error', code, message };
    if (code !== undefined && TLS_CODES.has(code)) {
      return new UyuniTlsError(`TLS verification failed: ${message}`, { method, code, cause });
    }
    return new UyuniTransportError(`connection failed${code === undefined ? '' : ` (${code})`}: ${message}`, {
      method,
      code,
      cause,
    });
  }

  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close();
  }
}
