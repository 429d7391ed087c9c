// The API client. The bearer token lives in sessionStorage (gone when the tab closes) and travels only in the
// Authorization header: never in a URL, so it is in no server log, history entry or Referer.

const KEY = 'spm.token';
const ME = 'spm.me';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  set: (token) => sessionStorage.setItem(KEY, token),
  clear: () => (sessionStorage.removeItem(KEY), sessionStorage.removeItem(ME)),
  /** Who the token belongs to, as /auth/me last said (a reload renders at once, then checks again). */
  me: () => {
    try {
      return JSON.parse(sessionStorage.getItem(ME) ?? 'null');
    } catch {
      return null;
    }
  },
  setMe: (me) => sessionStorage.setItem(ME, JSON.stringify(me)),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Query string from an object; arrays repeat the key, empty values are left out. */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [value].flat()) if (v !== undefined && v !== null && v !== '') q.append(key, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Calls /api/v1<path>. Resolves to the JSON body (null for 204); `withTotal` also returns the X-Total-Count
 * header. Rejects with ApiError (status and the API's { statusCode, error, message }); a 401 signs out.
 */
export async function api(path, { method = 'GET', body, params, signal, withTotal = false, token = session.token() } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}${query(params)}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
    credentials: 'omit',
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new CustomEvent('spm:unauthorized'));
    throw new ApiError(res.status, data);
  }
  return withTotal ? { data, total: Number(res.headers.get('x-total-count') ?? 0) } : data;
}
