/** Real-HTTP helpers for the lab tests: XML-RPC over undici with the lab's codec, plus the /lab JSON API. */
import { request } from 'undici';
import { decodeResponse, encodeMethodCall, XmlRpcFaultError } from '../../../lab/uyuni/codec.js';

export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

export async function postXml(url: string, xml: string, signal?: AbortSignal): Promise<RawResponse> {
  const res = await request(url, {
    method: 'POST',
    body: xml,
    headers: { 'content-type': 'text/xml' },
    ...(signal ? { signal } : {}),
  });
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: await res.body.text() };
}

export class Rpc {
  constructor(readonly url: string) {}

  raw(method: string, params: readonly unknown[] = [], signal?: AbortSignal): Promise<RawResponse> {
    return postXml(this.url, encodeMethodCall(method, params), signal);
  }

  async call<T = unknown>(method: string, params: readonly unknown[] = []): Promise<T> {
    const res = await this.raw(method, params);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    return (await decodeResponse(res.body)) as T;
  }

  /** Expects a fault and returns it. */
  async fault(method: string, params: readonly unknown[] = []): Promise<XmlRpcFaultError> {
    try {
      const value = await this.call(method, params);
      throw new Error(`expected a fault from ${method}, got ${JSON.stringify(value).slice(0, 200)}`);
    } catch (err) {
      if (err instanceof XmlRpcFaultError) return err;
      throw err;
    }
  }

  login(user = 'admin', password = 'lab-admin-password'): Promise<string> {
    return this.call<string>('auth.login', [user, password]);
  }
}

export async function labJson<T = unknown>(baseUrl: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await request(`${baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: (text ? JSON.parse(text) : undefined) as T };
}

export const SESSION_KEY_RE = /^[1-9][0-9]*x[a-f0-9]{64}$/;
