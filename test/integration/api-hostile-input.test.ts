import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, uniqueTaskQueue } from '../support/context.js';

// Every route in the route table, sent what a careless or hostile client sends: NUL bytes and unpaired
// surrogates, ids past their column type, huge offsets, wrong types, missing and malformed bodies, long
// paths, unknown methods. No answer may be a 5xx, every answer must be a status the route documents in
// /docs/json, and every error must have the one error shape. No worker polls the task queue: nothing the
// routes start can run, so the answers are the API's own.

interface Operation {
  responses: Record<string, unknown>;
  parameters?: { in: string; name: string; required?: boolean; schema: { type?: string; maxLength?: number } }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
}
type Spec = { paths: Record<string, Record<string, Operation>> };

const HOSTILE_TEXT = ['a\u0000b', '\ud800', 'x\udc00y'];
const HOSTILE_NUMBERS = [2_147_483_648, 2_854_715_650_000, 12_668_429_997_119, -1, 0, 1.5, 1e308, 9_223_372_036_854_775_808];
const HOSTILE_VALUES: unknown[] = [...HOSTILE_TEXT, ...HOSTILE_NUMBERS, null, true, [], {}, { 'a\u0000': 1 }, ['\u0000'], 'x'.repeat(100_000)];
const HOSTILE_PATH = ['a%00b', '2147483648', '28074375807', '260961260605', '-1', '0', '1.5', '%ED%A0%80', '%E0%A4%A', '9'.repeat(401), 'x'.repeat(401)];
const HOSTILE_QUERY = ['a%00b', '%00', '9223372036854775808', '2147483648', '-1', '1e308', '1.5', '%ED%A0%80', 'x'.repeat(2000)];

/** A value each named path parameter accepts, so the other parts of a request reach their validation. */
const SAMPLE_PARAM: Record<string, string> = { id: '1', key: 'deploy.wave_size', advisory: 'RHSA-1999:0001', request_id: '00000000-0000-4000-8000-000000000000' };

/** A body each body-requiring route accepts, so a hostile query string reaches its validation (Fastify checks the body first). */
const SAMPLE_BODY: Record<string, unknown> = { 'POST /api/v1/queue': { advisories: ['RHSA-1999:0001'] }, 'POST /api/v1/deployments': { queue_id: 1 } };

const toOpenApi = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

describe('hostile input on every route: 4xx naming the field, never 5xx, always documented', () => {
  let api: TestApi;
  let spec: Spec;
  let queuedId: number;
  const seen: string[] = [];

  beforeAll(async () => {
    const DB_NAME = await isolatedDatabase('hostile');
    api = await startTestApi({ DB_NAME, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('hostile-no-worker') });
    await api.app.ready();
    spec = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as Spec;
    // One queued item, so id-taking routes reach their handlers (no test system: nothing can start).
    await api.db.insertInto('errata_cache').values({ advisory_name: 'RHSA-1999:0001', advisory_type: 'Security Advisory', severity: 'High', target_os: ['rhel'], test_system_ids: [1000010001] }).execute();
    const row = await api.db.insertInto('patch_test_queue').values({ advisory_name: 'RHSA-1999:0001', target_os: 'rhel', queued_by: 'test' }).returning('id').executeTakeFirstOrThrow();
    queuedId = row.id;
    SAMPLE_PARAM.id = String(queuedId);
  });
  afterAll(async () => api?.close());

  const routes = () => api.app.routeTable.filter((r) => r.url.startsWith('/api/v1') && r.method !== 'HEAD');

  /** Sends one request and checks the answer against the route's documented statuses and the error shape. */
  async function send(method: string, route: string, url: string, opts: { payload?: unknown; rawPayload?: string; headers?: Record<string, string> } = {}) {
    const res = await api.app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer('admin'), ...(opts.payload !== undefined || opts.rawPayload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      ...(opts.rawPayload !== undefined ? { payload: opts.rawPayload } : opts.payload !== undefined ? { payload: JSON.stringify(opts.payload) } : {}),
    });
    const what = `${method} ${url.slice(0, 120)} ${opts.rawPayload?.slice(0, 80) ?? JSON.stringify(opts.payload)?.slice(0, 80) ?? ''} → ${res.statusCode} ${res.body.slice(0, 200)}`;
    seen.push(what);
    expect(res.statusCode, what).toBeLessThan(500);
    const documented = Object.keys(spec.paths[toOpenApi(route)]?.[method.toLowerCase()]?.responses ?? {});
    expect(documented, `${what}: status not in /docs/json`).toContain(String(res.statusCode));
    if (res.statusCode >= 400) {
      const body = res.json() as { statusCode: unknown; error: unknown; message: unknown };
      expect(body, what).toMatchObject({ statusCode: res.statusCode, error: expect.any(String), message: expect.any(String) });
    }
    return res;
  }

  const fill = (url: string, values: Record<string, string> = {}) =>
    url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => values[name] ?? SAMPLE_PARAM[name] ?? '1');

  it('path parameters: NUL, ids past int4, bad percent-encoding, over-long values', async () => {
    for (const r of routes()) {
      const names = [...r.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string);
      for (const name of names) {
        for (const value of HOSTILE_PATH) {
          const res = await send(r.method, r.url, fill(r.url, { [name]: value }), { payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
          expect([400, 404, 405, 409, 414], `${r.method} ${r.url} ${name}=${value.slice(0, 20)}`).toContain(res.statusCode);
        }
      }
    }
  });

  it('query strings: NUL, huge offsets and limits, unknown parameters', async () => {
    for (const r of routes()) {
      const op = spec.paths[toOpenApi(r.url)]?.[r.method.toLowerCase()];
      const query = (op?.parameters ?? []).filter((p) => p.in === 'query');
      for (const p of query) {
        for (const value of HOSTILE_QUERY) {
          const res = await send(r.method, r.url, `${fill(r.url)}?${p.name}=${value}`, { payload: SAMPLE_BODY[`${r.method} ${r.url.replace(/\/$/, '')}`] });
          if (res.statusCode === 400) expect(res.json().field, `${r.url}?${p.name}=${value.slice(0, 20)}`).toMatch(new RegExp(`^${p.name}`));
        }
      }
      if (query.length) {
        const res = await send(r.method, r.url, `${fill(r.url)}?no_such_parameter=1`, { payload: SAMPLE_BODY[`${r.method} ${r.url.replace(/\/$/, '')}`] });
        expect(res.json(), `${r.method} ${r.url}?no_such_parameter=1`).toMatchObject({ statusCode: 400, field: 'no_such_parameter' });
      }
    }
  });

  it('JSON bodies: every field with every hostile value, wrong shapes, unknown fields, a NUL in a key', async () => {
    for (const r of routes()) {
      const op = spec.paths[toOpenApi(r.url)]?.[r.method.toLowerCase()];
      const schema = op?.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      for (const field of Object.keys(schema.properties ?? {})) {
        for (const value of HOSTILE_VALUES) {
          const res = await send(r.method, r.url, fill(r.url), { payload: { [field]: value } });
          if (res.statusCode === 400) expect(res.json().field, `${r.url} ${field}=${JSON.stringify(value)?.slice(0, 30)}`).toBeDefined();
        }
      }
      for (const body of [null, [], 'text', 42, { 'no\u0000such': 1 }, { no_such_field: 1 }]) {
        const res = await send(r.method, r.url, fill(r.url), { payload: body });
        expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(body)}`).toBe(400);
      }
      await send(r.method, r.url, fill(r.url), { rawPayload: '{"unterminated": ' });
      await send(r.method, r.url, fill(r.url), { rawPayload: '{"__proto__": {"x": 1}}' });
      // A body the document marks optional may be left out; one it requires answers 400 naming the field.
      const missing = await send(r.method, r.url, fill(r.url));
      if (op?.requestBody?.required) expect(missing.statusCode, `${r.method} ${r.url} without a body`).toBe(400);
      else expect(missing.statusCode, `${r.method} ${r.url} without a body`).not.toBe(400);
    }
  });

  it('bodies the API cannot take: not JSON (415), too large (413)', async () => {
    for (const r of routes().filter((x) => ['POST', 'PUT', 'PATCH'].includes(x.method))) {
      const plain = await send(r.method, r.url, fill(r.url), { rawPayload: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(plain.statusCode, `${r.method} ${r.url} text/plain`).toBe(415);
      const huge = await send(r.method, r.url, fill(r.url), { rawPayload: JSON.stringify({ notes: 'x'.repeat(1_100_000) }) });
      expect(huge.statusCode, `${r.method} ${r.url} 1.1 MB`).toBe(413);
    }
  });

  it('a known path with an unknown method: 405 with Allow, in the one error shape', async () => {
    for (const r of routes()) {
      const url = fill(r.url);
      // A static route owns its path (GET /tests/start is not GET /tests/:id); else every matching pattern counts.
      const matching = routes().filter((x) => new RegExp(`^${x.url.replace(/:[A-Za-z_]+/g, '[^/]+')}$`).test(url));
      const owners = matching.some((x) => !x.url.includes(':')) ? matching.filter((x) => !x.url.includes(':')) : matching;
      const allowedHere = owners.map((x) => x.method);
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY'].filter((m) => !allowedHere.includes(m))) {
        // A body (even one the API could not parse) does not turn the 405 into a 400 or 415.
        const res = await api.app.inject({ method: method as 'GET', url, headers: { ...bearer('admin'), 'content-type': 'text/plain' }, payload: 'x' });
        seen.push(`${method} ${url} → ${res.statusCode}`);
        expect(res.statusCode, `${method} ${url}`).toBe(405);
        expect(res.headers.allow, `${method} ${url}`).toBe([...new Set([...allowedHere, ...(allowedHere.includes('GET') ? ['HEAD'] : [])])].sort().join(', '));
        expect(res.json()).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', message: expect.stringContaining(method) });
      }
    }
    const unknown = await api.app.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: bearer('admin') });
    expect(unknown.json()).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });

  // The requests of the report, each answered 400 naming the field (they were 500s or no answer).
  it.each([
    ['GET', '/api/v1/errata?search=a%00b', undefined, 'search'],
    ['GET', '/api/v1/errata/a%00b', undefined, 'advisory'],
    ['GET', '/api/v1/errata?offset=9223372036854775808', undefined, 'offset'],
    ['GET', '/api/v1/deployments/2147483648', undefined, 'id'],
    ['POST', '/api/v1/deployments', { queue_id: 2_854_715_650_000 }, 'queue_id'],
    ['POST', '/api/v1/tests/start', { queue_id: 12_668_429_997_119 }, 'queue_id'],
    ['POST', '/api/v1/test-systems/28074375807/release', undefined, 'id'],
    ['POST', '/api/v1/deployments/260961260605/rollback', {}, 'id'],
    ['POST', '/api/v1/queue', { advisories: ['RHSA-2025:0001'], notes: 'a\u0000b' }, 'notes'],
    ['POST', '/api/v1/queue', { advisories: ['a\u0000b'] }, 'advisories.0'],
    ['PATCH', '/api/v1/queue/1', { notes: 'a\u0000b' }, 'notes'],
    ['POST', '/api/v1/approvals/1/reject', { reason: 'a\u0000b' }, 'reason'],
    ['POST', '/api/v1/approvals/1/approve', { reason: 'lone \ud800 surrogate' }, 'reason'],
    ['PUT', '/api/v1/config/test.critical_services', { value: { ubuntu: ['ssh\u0000'] } }, 'value.ubuntu.0'],
  ])('%s %s %j → 400 naming %s', async (method, url, payload, field) => {
    const res = await api.app.inject({ method: method as 'GET', url, headers: bearer('admin'), ...(payload ? { payload: JSON.stringify(payload), headers: { ...bearer('admin'), 'content-type': 'application/json' } } : {}) });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
    expect(res.json().message).toContain(field.split('.')[0]);
  });

  it('decisions without a body take their defaults: approve and reject reach the workflow (409: not waiting), snooze needs until', async () => {
    for (const decision of ['approve', 'reject']) {
      const res = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${queuedId}/${decision}`, headers: bearer('approver') });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().message).toMatch(new RegExp(`^queue item ${queuedId} is not waiting for a decision \\(queued\\)`));
      const unknown = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/2147483647/${decision}`, headers: bearer('approver') });
      expect(unknown.json()).toMatchObject({ statusCode: 404, message: 'queue item 2147483647 not found' });
    }
    const snooze = await api.app.inject({ method: 'POST', url: '/api/v1/approvals/1/snooze', headers: bearer('approver') });
    expect(snooze.json()).toMatchObject({ statusCode: 400, field: 'until', message: 'body field "until" is required' });
  });

  it('walked every route', () => {
    expect(routes().length).toBeGreaterThanOrEqual(20);
    for (const r of routes()) expect(seen.some((s) => s.split(' ')[1]?.split('?')[0] === fill(r.url)), `${r.url} was sent nothing`).toBe(true);
  });
});
