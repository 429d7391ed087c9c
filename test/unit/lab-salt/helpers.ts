/** Real-HTTP helpers for the salt lab tests: a tiny salt-api client over fetch. */
import { expect } from 'vitest';
import { DEFAULT_SALT_CREDENTIALS } from '../../../lab/salt/index.js';

export interface HttpResult<T = unknown> {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  json: T;
}

export async function http<T = unknown>(url: string, init: RequestInit = {}): Promise<HttpResult<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, text, json: json as T };
}

export class SaltApi {
  token = '';

  constructor(readonly url: string) {}

  async login(creds: Partial<typeof DEFAULT_SALT_CREDENTIALS> = {}): Promise<HttpResult<{ return: Array<Record<string, unknown>> }>> {
    const c = { ...DEFAULT_SALT_CREDENTIALS, ...creds };
    const res = await http<{ return: Array<Record<string, unknown>> }>(`${this.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: c.user, password: c.password, eauth: c.eauth }),
    });
    if (res.status === 200) this.token = res.headers.get('x-auth-token') ?? '';
    return res;
  }

  post<T = { return: unknown[] }>(body: unknown, path = '/'): Promise<HttpResult<T>> {
    return http<T>(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': this.token },
      body: JSON.stringify(body),
    });
  }

  put<T = unknown>(path: string, body: unknown): Promise<HttpResult<T>> {
    return http<T>(`${this.url}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': this.token },
      body: JSON.stringify(body),
    });
  }

  get<T = unknown>(path: string): Promise<HttpResult<T>> {
    return http<T>(`${this.url}${path}`, { headers: { accept: 'application/json', 'x-auth-token': this.token } });
  }

  /** One `local` chunk; returns `return[0]` (minion → value). */
  async local(tgt: string | string[], fun: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const res = await this.post([{ client: 'local', tgt, fun, ...(Array.isArray(tgt) ? { tgt_type: 'list' } : {}), ...extra }]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    return (res.json as { return: Array<Record<string, unknown>> }).return[0] as Record<string, unknown>;
  }

  /** `local` on one minion, returning that minion's value. */
  async one<T = unknown>(minion: string, fun: string, extra: Record<string, unknown> = {}): Promise<T> {
    return (await this.local(minion, fun, extra))[minion] as T;
  }

  async full(minion: string, fun: string, extra: Record<string, unknown> = {}): Promise<unknown> {
    return (await this.local(minion, fun, { ...extra, full_return: true }))[minion];
  }
}

export async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(v)?.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
