import { LAB_API_TOKENS } from '../config/api-tokens.js';

// What `npm run lab` does once the first sync has landed: queue the most severe advisories of each OS, so a
// new user sees a ranked queue (and, later, tests running) without typing a request.

const token = (role: string) => LAB_API_TOKENS.find((t) => t.role === role)?.token ?? '';

async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token('operator')}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function waitForFirstSync(base: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { body } = await api<{ last_runs?: { status: string }[] }>(base, '/api/v1/sync/status');
      if (body.last_runs?.some((r) => r.status === 'succeeded')) return;
    } catch {
      // the API is still starting
    }
    if (Date.now() > deadline) throw new Error('no successful sync within 3 minutes');
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Queues the top `perOs` advisories (by severity) of each OS that are not queued yet. Returns the new ids. */
export async function queueTopAdvisories(base: string, perOs = 4): Promise<number[]> {
  const ids: number[] = [];
  for (const os of ['ubuntu', 'rhel']) {
    const { body } = await api<{ items: { advisory_name: string }[] }>(base, `/api/v1/errata?os=${os}&relevant=true&sort=severity&limit=${perOs}`);
    for (const { advisory_name } of body.items) {
      const res = await api<{ items?: { id: number }[] }>(base, '/api/v1/queue', {
        method: 'POST',
        body: JSON.stringify({ advisories: [advisory_name], notes: 'queued by npm run lab' }),
      });
      if (res.status === 201) ids.push(...(res.body.items ?? []).map((i) => i.id));
    }
  }
  return ids;
}
