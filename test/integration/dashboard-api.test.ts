import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase } from '../support/context.js';
import { countRows, seedDecision, seedDeploymentRows, seedItem, seedPhase, seedTest, seedTestSystem } from '../support/dashboard-seed.js';

// The API the dashboard reads: lists with filters and bounded paging, the overview's figures, who the token
// is, the halt record, and how /ui/ is served (CSP, redirects, vendor modules).

describe('dashboard API', () => {
  let api: TestApi;
  const get = (url: string, role: 'viewer' | 'operator' | 'approver' | 'admin' = 'viewer') => api.app.inject({ method: 'GET', url, headers: bearer(role) });
  const ids = {} as Record<'running' | 'passedOld' | 'passedNew' | 'snoozed' | 'rolledBack' | 'failed' | 'approved' | 'promoting' | 'completed' | 'queued', number>;
  const tests = {} as Record<'running' | 'old' | 'new' | 'rolled' | 'failed', number>;

  beforeAll(async () => {
    api = await startTestApi({ DB_NAME: await isolatedDatabase('dashboard_api'), TEMPORAL_UI_URL: 'http://temporal-ui.example:8080' });
    const db = api.db;
    await seedTestSystem(db, 1, 'test-rhel-a', 'rhel');
    await seedTestSystem(db, 2, 'test-rhel-b', 'rhel', { quarantineReason: 'did not come back from its reboot' });
    await seedTestSystem(db, 3, 'test-ubuntu-a', 'ubuntu', { leasedBy: 'patch-test-1' });
    ids.running = await seedItem(db, 'DASH-RUNNING', 'testing');
    ids.passedOld = await seedItem(db, 'DASH-PENDING-OLD', 'pending_approval');
    ids.passedNew = await seedItem(db, 'DASH-PENDING-NEW', 'pending_approval', 'ubuntu');
    ids.snoozed = await seedItem(db, 'DASH-SNOOZED', 'snoozed');
    ids.rolledBack = await seedItem(db, 'DASH-ROLLED', 'rolled_back');
    ids.failed = await seedItem(db, 'DASH-FAILED', 'failed');
    ids.approved = await seedItem(db, 'DASH-APPROVED', 'approved');
    ids.promoting = await seedItem(db, 'DASH-PROMOTING', 'promoting');
    ids.completed = await seedItem(db, 'DASH-COMPLETED', 'completed', 'ubuntu');
    ids.queued = await seedItem(db, 'DASH-QUEUED', 'queued');

    tests.running = await seedTest(db, ids.running, { status: 'running', systemId: 1, systemName: 'test-rhel-a' });
    const t0 = Date.now() - 60_000;
    await seedPhase(db, tests.running, 'lease', 'passed', new Date(t0));
    await seedPhase(db, tests.running, 'patch', 'running', new Date(t0 + 10_000));
    // written after the running phase started: a skipped phase is recorded when it is passed over
    await seedPhase(db, tests.running, 'reboot', 'skipped', new Date(t0 + 20_000));
    tests.old = await seedTest(db, ids.passedOld, { status: 'passed', systemId: 1, systemName: 'test-rhel-a' });
    tests.new = await seedTest(db, ids.passedNew, { status: 'passed', systemId: 3, systemName: 'test-ubuntu-a' });
    tests.rolled = await seedTest(db, ids.rolledBack, { status: 'rolled_back', systemId: 2, systemName: 'test-rhel-b' });
    tests.failed = await seedTest(db, ids.failed, { status: 'failed', systemId: 2, systemName: 'test-rhel-b' });
    // the old item has waited longest: its test completed two hours ago
    await db.updateTable('patch_tests').set({ completed_at: new Date(Date.now() - 2 * 3600_000) }).where('id', '=', tests.old).execute();
    await db.insertInto('orchestrator_notifications').values([1, 2].map((n) => ({
      event_type: 'approval.reminder', subject: `reminder ${n}`, queue_id: ids.passedOld, dedupe_key: `dash-reminder-${n}`, event_id: `msg_dash_reminder_${n}`,
    }))).execute();

    await seedDecision(db, ids.approved, { decision: 'approve', by: 'anna-approver', source: 'dashboard', at: new Date(Date.now() - 30_000), reason: 'clean' });
    await seedDecision(db, ids.snoozed, { decision: 'snooze', by: 'sre-on-call', source: 'cli', at: new Date(Date.now() - 20_000) });
    await seedDecision(db, ids.completed, { decision: 'approve', by: 'anna-approver', source: 'api', at: new Date(Date.now() - 10_000) });
    await seedDeploymentRows(db, ids.promoting, [{ wave: 0, status: 'applied' }, { wave: 1, status: 'applying' }, { wave: 1, status: 'failed' }, { wave: 2, status: 'pending' }]);
    await seedDeploymentRows(db, ids.completed, [{ wave: 0, status: 'applied' }, { wave: 1, status: 'applied' }]);
  });
  afterAll(async () => api?.close());

  it('GET /auth/me: who holds the token and what the role may do', async () => {
    const may = async (role: 'viewer' | 'operator' | 'approver' | 'admin') => (await get('/api/v1/auth/me', role)).json();
    expect(await may('viewer')).toEqual({ name: 'vera-viewer', role: 'viewer', may: { read: true, write: false, approve: false, admin: false } });
    expect((await may('operator')).may).toEqual({ read: true, write: true, approve: false, admin: false });
    expect((await may('approver')).may).toEqual({ read: true, write: false, approve: true, admin: false });
    expect((await may('admin')).may).toEqual({ read: true, write: true, approve: true, admin: true });
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/auth/me' })).statusCode).toBe(401);
  });

  it('GET /tests: newest first, filters, paging, the phase running now', async () => {
    const all = (await get('/api/v1/tests')).json();
    expect(all.total).toBe(5);
    expect(all.items.map((t: { id: number }) => t.id)).toEqual([...Object.values(tests)].sort((a, b) => b - a));
    const running = (await get('/api/v1/tests?status=running')).json();
    expect(running.items).toHaveLength(1);
    expect(running.items[0]).toMatchObject({ id: tests.running, advisory_name: 'DASH-RUNNING', current_phase: 'patch', current_phase_status: 'running', test_system_name: 'test-rhel-a' });
    const two = (await get('/api/v1/tests?status=failed&status=rolled_back')).json();
    expect(two.items.map((t: { status: string }) => t.status).sort()).toEqual(['failed', 'rolled_back']);
    expect((await get('/api/v1/tests?test_system_id=2')).json().total).toBe(2);
    expect((await get(`/api/v1/tests?queue_id=${ids.passedNew}`)).json().items.map((t: { id: number }) => t.id)).toEqual([tests.new]);
    expect((await get('/api/v1/tests?target_os=ubuntu')).json().total).toBe(1);
    expect((await get('/api/v1/tests?advisory=pending')).json().total).toBe(2);
    const page = (await get('/api/v1/tests?limit=2&offset=2')).json();
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect(page.items.map((t: { id: number }) => t.id)).toEqual(all.items.slice(2, 4).map((t: { id: number }) => t.id));
  });

  it('refuses out-of-range ids, limits and offsets, and NUL, naming the field', async () => {
    const bad = async (url: string) => {
      const r = await get(url);
      expect(r.statusCode, url).toBe(400);
      return r.json();
    };
    expect((await bad('/api/v1/tests?limit=0')).field).toBe('limit');
    expect((await bad('/api/v1/tests?limit=201')).field).toBe('limit');
    expect((await bad('/api/v1/tests?offset=-1')).field).toBe('offset');
    expect((await bad('/api/v1/tests?offset=1000001')).field).toBe('offset');
    expect((await bad('/api/v1/tests?queue_id=2147483648')).field).toBe('queue_id');
    expect((await bad('/api/v1/tests?status=exploded')).field).toMatch(/^status/);
    const nul = await bad('/api/v1/tests?advisory=a%00b');
    expect(nul).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'advisory' });
    expect(nul.message).toMatch(/NUL/);
    expect((await bad('/api/v1/approvals/history?decided_by=x%00')).field).toBe('decided_by');
    expect((await bad('/api/v1/deployments?limit=201')).field).toBe('limit');
    expect((await bad('/api/v1/approvals/pending?limit=501')).field).toBe('limit');
    expect((await bad('/api/v1/test-systems?limit=5001')).field).toBe('limit');
    expect((await get('/api/v1/tests/2147483648')).statusCode).toBe(400);
    expect((await get('/api/v1/deployments/2147483648')).statusCode).toBe(400);
    const decide = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${ids.passedOld}/approve`, headers: bearer('approver'), payload: { reason: 'ok\u0000' } });
    expect(decide.statusCode).toBe(400);
    expect(decide.json().field).toBe('reason');
    const source = await api.app.inject({ method: 'POST', url: `/api/v1/approvals/${ids.passedOld}/approve`, headers: bearer('approver'), payload: { source: 'cli' } });
    expect(source.statusCode, 'the CLI records its own decisions through signals').toBe(400);
    expect(source.json().field).toBe('source');
  });

  it('GET /approvals/pending: oldest first, with reminders and the total', async () => {
    const r = (await get('/api/v1/approvals/pending')).json();
    expect(r.total).toBe(3);
    expect(r.items.map((i: { queue_id: number }) => i.queue_id).sort()).toEqual([ids.passedOld, ids.passedNew, ids.snoozed].sort());
    const since = r.items.map((i: { pending_since: string }) => Date.parse(i.pending_since));
    expect(since).toEqual([...since].sort((a, b) => a - b));
    expect(r.items[0]).toMatchObject({ queue_id: ids.passedOld, reminders: 2, last_reminder_at: expect.any(String) });
    expect(r.items[0].hours_pending).toBeGreaterThanOrEqual(1.99);
    expect(r.items.find((i: { queue_id: number }) => i.queue_id === ids.passedNew).reminders).toBe(0);
    const paged = (await get('/api/v1/approvals/pending?limit=1&offset=1')).json();
    expect(paged).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(paged.items).toHaveLength(1);
    expect(paged.items[0].queue_id).not.toBe(ids.passedOld);
  });

  it('GET /approvals/history: newest first, filtered by decision, source, item and who', async () => {
    const all = (await get('/api/v1/approvals/history')).json();
    expect(all.total).toBe(3);
    expect(all.items.map((a: { queue_id: number }) => a.queue_id)).toEqual([ids.completed, ids.snoozed, ids.approved]);
    expect(all.items[2]).toMatchObject({ advisory_name: 'DASH-APPROVED', decision: 'approve', decided_by: 'anna-approver', source: 'dashboard', reason: 'clean' });
    expect((await get('/api/v1/approvals/history?source=dashboard')).json().items.map((a: { queue_id: number }) => a.queue_id)).toEqual([ids.approved]);
    expect((await get('/api/v1/approvals/history?source=cli&source=api')).json().total).toBe(2);
    expect((await get('/api/v1/approvals/history?decision=snooze')).json().items.map((a: { decided_by: string }) => a.decided_by)).toEqual(['sre-on-call']);
    expect((await get(`/api/v1/approvals/history?queue_id=${ids.completed}`)).json().total).toBe(1);
    expect((await get('/api/v1/approvals/history?decided_by=anna-approver')).json().total).toBe(2);
    expect((await get('/api/v1/approvals/history?limit=1&offset=1')).json().items[0].queue_id).toBe(ids.snoozed);
  });

  it('GET /deployments: the approved and rolled-out items with per-state counts', async () => {
    const all = (await get('/api/v1/deployments')).json();
    expect(all.items.map((d: { queue_id: number }) => d.queue_id).sort()).toEqual([ids.approved, ids.promoting, ids.completed].sort());
    const promoting = all.items.find((d: { queue_id: number }) => d.queue_id === ids.promoting);
    expect(promoting).toMatchObject({ status: 'promoting', targets: 4, waves: 3, applied: 1, failed: 1, in_flight: 1, pending: 1, skipped: 0, completed_at: null });
    expect(all.items.find((d: { queue_id: number }) => d.queue_id === ids.completed)).toMatchObject({ targets: 2, applied: 2, completed_at: expect.any(String) });
    expect(all.items.find((d: { queue_id: number }) => d.queue_id === ids.approved)).toMatchObject({ status: 'approved', targets: 0 });
    expect((await get('/api/v1/deployments?status=promoting')).json().items.map((d: { queue_id: number }) => d.queue_id)).toEqual([ids.promoting]);
    expect((await get('/api/v1/deployments?target_os=ubuntu')).json().items.map((d: { queue_id: number }) => d.queue_id)).toEqual([ids.completed]);
    expect((await get('/api/v1/deployments?status=queued')).statusCode).toBe(400);
  });

  it('POST /deployments/:id/halt: a reason is required; nothing is recorded when no rollout runs', async () => {
    const halt = (id: number, payload: unknown, role: 'operator' | 'viewer' = 'operator') =>
      api.app.inject({ method: 'POST', url: `/api/v1/deployments/${id}/halt`, headers: bearer(role), payload: payload as object });
    expect((await halt(ids.promoting, {})).json().field).toBe('reason');
    expect((await halt(ids.promoting, { reason: '' })).statusCode).toBe(400);
    expect((await halt(ids.promoting, { reason: 'stop' }, 'viewer')).statusCode).toBe(403);
    const notRunning = await halt(ids.completed, { reason: 'stop' });
    expect(notRunning.statusCode).toBe(409);
    expect(notRunning.json().status).toBe('completed');
    // promoting in PostgreSQL but no workflow in Temporal: the signal fails, and the request is not kept
    expect((await halt(ids.promoting, { reason: 'stop' })).statusCode).toBe(409);
    expect(await countRows(api.db, 'deployment_halts')).toBe(0);
    expect((await halt(999_999, { reason: 'stop' })).statusCode).toBe(404);
  });

  it('GET /overview: the figures the seeded rows give', async () => {
    const o = (await get('/api/v1/overview')).json();
    expect(o.queue.total).toBe(10);
    expect(o.queue.by_status).toMatchObject({ testing: 1, pending_approval: 2, snoozed: 1, approved: 1, promoting: 1, completed: 1, queued: 1, failed: 1, rolled_back: 1 });
    expect(o.queue.by_os).toEqual({ rhel: 8, ubuntu: 2 });
    expect(o.approvals).toMatchObject({ pending: 2, snoozed: 1, oldest_queue_id: ids.passedOld });
    expect(o.approvals.oldest_hours_pending).toBeGreaterThanOrEqual(1.99);
    expect(o.running_tests.total).toBe(1);
    expect(o.running_tests.items[0]).toMatchObject({ id: tests.running, current_phase: 'patch' });
    expect(o.running_rollouts.total).toBe(1);
    expect(o.running_rollouts.items[0]).toMatchObject({ queue_id: ids.promoting, applied: 1, failed: 1 });
    expect(o.test_systems).toMatchObject({ total: 3, leased: 1, quarantined: 1 });
    expect(o.test_systems.quarantined_systems).toEqual([expect.objectContaining({ system_id: 2, quarantine_reason: 'did not come back from its reboot' })]);
    expect(o.daily).toHaveLength(30);
    const today = o.daily.at(-1);
    // completed today: the passed test of the new item (the old one completed 2 h ago, possibly yesterday), 1 failed, 1 rolled back
    expect(today).toMatchObject({ tests_failed: 1, tests_rolled_back: 1, tests_started: 5 });
    expect(today.tests_passed).toBeGreaterThanOrEqual(1);
    expect(o.daily.reduce((n: number, d: { tests_passed: number }) => n + d.tests_passed, 0)).toBe(2);
    expect(o.last_sync).toBeNull();
  });

  it('GET /test-systems: lease, quarantine and the last test; X-Total-Count; filters', async () => {
    const r = await get('/api/v1/test-systems');
    expect(r.headers['x-total-count']).toBe('3');
    const systems = r.json();
    const a = systems.find((s: { system_id: number }) => s.system_id === 1);
    expect(a.last_test).toMatchObject({ id: Math.max(tests.running, tests.old), advisory_name: expect.stringMatching(/^DASH-/) });
    expect(systems.find((s: { system_id: number }) => s.system_id === 3)).toMatchObject({ leased_by: 'patch-test-1', last_test: { id: tests.new } });
    const q = await get('/api/v1/test-systems?quarantined=true');
    expect(q.json().map((s: { system_id: number }) => s.system_id)).toEqual([2]);
    expect(q.headers['x-total-count']).toBe('1');
    const paged = await get('/api/v1/test-systems?limit=1&offset=1');
    expect(paged.json()).toHaveLength(1);
    expect(paged.headers['x-total-count']).toBe('3');
    expect((await get('/api/v1/test-systems?os=rhel')).json().map((s: { system_id: number }) => s.system_id)).toEqual([1, 2]);
  });

  it('GET /tests/:id: the phases and the queue item in one answer', async () => {
    const r = (await get(`/api/v1/tests/${tests.running}`)).json();
    expect(r.item).toMatchObject({ id: ids.running, advisory_name: 'DASH-RUNNING', target_os: 'rhel', severity: 'High' });
    expect(r.phases.map((p: { phase: string }) => p.phase)).toEqual(['lease', 'patch', 'reboot']);
    expect(r.rollbacks).toEqual([]);
  });

  it('serves the dashboard at /ui/ with a strict CSP; / and /dashboard redirect there', async () => {
    for (const url of ['/', '/dashboard']) {
      const r = await api.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(302);
      expect(r.headers.location).toBe('/ui/');
    }
    const page = await api.app.inject({ method: 'GET', url: '/ui/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('content="http://temporal-ui.example:8080"');
    expect(page.body).not.toContain('%TEMPORAL');
    const csp = String(page.headers['content-security-policy']);
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page.body)![1]!;
    const hash = createHash('sha256').update(importMap).digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    // every asset is asked for by its content's version, and that URL is immutable; an old version is not
    const imports = (JSON.parse(importMap) as { imports: Record<string, string> }).imports;
    const apiJs = imports['/ui/lib/api.js']!;
    expect(apiJs).toMatch(/^\/ui\/lib\/api\.js\?v=[0-9a-f]{16}$/);
    expect(apiJs.split('=')[1]).toBe(createHash('sha256').update(readFileSync('ui/lib/api.js')).digest('hex').slice(0, 16));
    expect(imports.preact).toMatch(/^\/ui\/vendor\/preact\.mjs\?v=[0-9a-f]{16}$/);
    expect(page.body).toContain(`<link rel="modulepreload" href="${apiJs}">`);
    expect(page.body).toMatch(/<script type="module" src="\/ui\/app\.js\?v=[0-9a-f]{16}">/);
    const styles = /href="(\/ui\/styles\.css\?v=[0-9a-f]{16})"/.exec(page.body)![1]!;
    for (const url of [apiJs, imports.preact!, styles]) {
      const r = await api.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['cache-control'], url).toBe('public, max-age=31536000, immutable');
    }
    const stale = await api.app.inject({ method: 'GET', url: '/ui/lib/api.js?v=0000000000000000' });
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['cache-control']).toBe('no-cache');
    expect((await api.app.inject({ method: 'GET', url: '/ui/lib/api.js' })).headers['cache-control']).not.toMatch(/immutable/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    // every script on the page is the import map (hashed) or a module from this origin
    for (const tag of page.body.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/type="importmap"|src="\/ui\//);
    expect(page.body).not.toMatch(/\sstyle=/);

    for (const [url, type] of [['/ui/app.js', /javascript/], ['/ui/styles.css', /css/], ['/ui/vendor/preact.mjs', /javascript/], ['/ui/vendor/preact-hooks.mjs', /javascript/], ['/ui/vendor/htm.mjs', /javascript/]] as const) {
      const r = await api.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toMatch(type);
      expect(r.headers['content-security-policy'], url).toBeDefined();
    }
    expect((await api.app.inject({ method: 'GET', url: '/ui/vendor/preact.mjs' })).body).toBe(readFileSync('node_modules/preact/dist/preact.mjs', 'utf8'));
    for (const url of ['/ui/vendor/../../package.json', '/ui/%2e%2e/package.json', '/ui/vendor/preact-compat.mjs', '/ui/docs/inbox.png']) {
      expect((await api.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    // the API's JSON keeps its own headers (Swagger UI at /docs is not under the dashboard's CSP)
    expect((await get('/api/v1/auth/me')).headers['content-security-policy']).toBeUndefined();
  });
});
