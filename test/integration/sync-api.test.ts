import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_TIMEOUTS, WAIT_BOUND_SECONDS } from '../../api/limits.js';
import { startUyuniLab, type UyuniLab } from '../../lab/uyuni/server.js';
import { ensureSyncSchedule, describeSyncSchedule } from '../../temporal/sync-schedule.js';
import { SYNC_SCHEDULE_ID } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

describe('sync and errata API, and the uyuni-sync Schedule', () => {
  let lab: UyuniLab;
  let tw: TestWorker;
  let api: TestApi;

  beforeAll(async () => {
    lab = await startUyuniLab();
    const DB_NAME = await isolatedDatabase('syncapi');
    tw = await startTestWorker(testConfig({ DB_NAME, UYUNI_URL: lab.url, UYUNI_RETRY_INITIAL_SECONDS: '0.1' }), 'syncapi');
    api = await startTestApi({ DB_NAME, TEMPORAL_TASK_QUEUE: tw.taskQueue, UYUNI_URL: lab.url, PROMETHEUS_URL: 'http://127.0.0.1:9' });
  });
  afterAll(async () => {
    await tw?.client.schedule.getHandle(SYNC_SCHEDULE_ID).delete().catch(() => undefined);
    await api?.close();
    await tw?.close();
    await lab?.close();
  });

  it('creates the Schedule idempotently: interval from config, overlap SKIP; updates it when the config changes', async () => {
    expect(await ensureSyncSchedule(tw.client, tw.config)).toBe('created');
    expect(await ensureSyncSchedule(tw.client, tw.config)).toBe('unchanged');
    const described = await describeSyncSchedule(tw.client);
    expect(described?.policies.overlap).toBe('SKIP');
    expect(described?.spec.intervals?.[0]?.every).toBe(30 * 60_000);
    expect(described?.action.type === 'startWorkflow' && described.action.taskQueue).toBe(tw.taskQueue);

    const faster = { ...tw.config, uyuni: { ...tw.config.uyuni, pollIntervalMinutes: 15 } };
    expect(await ensureSyncSchedule(tw.client, faster)).toBe('updated');
    expect((await describeSyncSchedule(tw.client))?.spec.intervals?.[0]?.every).toBe(15 * 60_000);
    expect(await ensureSyncSchedule(tw.client, tw.config)).toBe('updated');
  });

  it('POST /api/v1/sync/trigger runs a sync and answers its result; concurrent triggers share one run', async () => {
    lab.faults.setLatency({ perMethod: { 'errata.getDetails': 5 } });
    const [a, b] = await Promise.all([
      api.app.inject({ method: 'POST', url: '/api/v1/sync/trigger', headers: bearer('operator') }),
      new Promise((r) => setTimeout(r, 300)).then(() => api.app.inject({ method: 'POST', url: '/api/v1/sync/trigger', headers: bearer('operator') })),
    ]);
    lab.faults.resetLatency();
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(a.json().result.errata).toBe(634);
    expect(b.json().run_id).toBe(a.json().run_id);
    // one started the run, the other joined it (which one depends on which request the server took first)
    expect([a.json().joined, b.json().joined].sort()).toEqual([false, true]);
    expect(lab.stats.count('system.getRelevantErrata')).toBe(2);

    const viewer = await api.app.inject({ method: 'POST', url: '/api/v1/sync/trigger', headers: bearer('viewer') });
    expect(viewer.statusCode).toBe(403);
  });

  it('POST /api/v1/sync/trigger answers within its bound over a real socket: 202 with the run and where to poll, then the run lands', async () => {
    // A sync longer than the wait: the reply comes at wait_seconds, never an empty reply at a server timeout.
    lab.faults.setLatency({ perMethod: { 'system.getRelevantErrata': 3_000 } });
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const started = Date.now();
      const res = await fetch(`${address}/api/v1/sync/trigger?wait_seconds=1`, { method: 'POST', headers: bearer('operator') });
      expect(res.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(2_500);
      const body = (await res.json()) as { workflow_id: string; run_id: string; status: string; poll: string; joined: boolean };
      expect(body).toMatchObject({ status: 'running', poll: '/api/v1/sync/status', joined: false, workflow_id: 'uyuni-sync-api' });
      expect(res.headers.get('location')).toBe('/api/v1/sync/status');

      const status = await (await fetch(`${address}${body.poll}`, { headers: bearer('viewer') })).json() as { running: { run_id: string }[] };
      expect(status.running.map((r) => r.run_id)).toContain(body.run_id);
      const deadline = Date.now() + 30_000;
      let landed: { run_id: string; status: string } | undefined;
      while ((!landed || landed.status === 'running') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const s2 = await (await fetch(`${address}${body.poll}?limit=5`, { headers: bearer('viewer') })).json() as { last_runs: { run_id: string; status: string }[] };
        landed = s2.last_runs.find((r) => r.run_id === body.run_id);
      }
      expect(landed).toMatchObject({ status: 'succeeded' });
    } finally {
      lab.faults.resetLatency();
    }
    // The server's own timeouts stay above the bound, so a full wait is never cut.
    expect(api.app.server.timeout).toBe(SERVER_TIMEOUTS.connectionTimeout);
    expect(api.app.server.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeout);
    expect(WAIT_BOUND_SECONDS * 1000 + 10_000).toBeLessThan(Math.min(SERVER_TIMEOUTS.connectionTimeout, SERVER_TIMEOUTS.requestTimeout));
    const bad = await api.app.inject({ method: 'POST', url: `/api/v1/sync/trigger?wait_seconds=${WAIT_BOUND_SECONDS + 1}`, headers: bearer('operator') });
    expect(bad.json()).toMatchObject({ statusCode: 400, field: 'wait_seconds' });
  });

  it('GET /api/v1/sync/status shows the last runs and the next scheduled time', async () => {
    // Temporal's visibility lists a run as Running a moment after it completed (eventually consistent).
    let res = await api.app.inject({ method: 'GET', url: '/api/v1/sync/status', headers: bearer('viewer') });
    for (let i = 0; i < 50 && res.json().running?.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await api.app.inject({ method: 'GET', url: '/api/v1/sync/status', headers: bearer('viewer') });
    }
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.running).toEqual([]);
    expect(body.last_runs[0]).toMatchObject({ status: 'succeeded', trigger: 'api', errata_count: 634 });
    expect(body.schedule).toMatchObject({ id: 'uyuni-sync', paused: false, interval_minutes: 30 });
    expect(Date.parse(body.schedule.next_run_at)).toBeGreaterThan(Date.now());
    const bad = await api.app.inject({ method: 'GET', url: '/api/v1/sync/status?limit=0', headers: bearer('viewer') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('limit');
  });

  it('GET /api/v1/errata/cache/stats totals by type, severity and OS', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/errata/cache/stats', headers: bearer('viewer') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const truth = lab.fleet.truth();
    const count = (pred: (a: (typeof truth.advisories)[string]) => boolean) => Object.values(truth.advisories).filter(pred).length;
    expect(body.total).toBe(634);
    expect(body.by_os).toEqual({ ubuntu: count((a) => a.os === 'ubuntu'), rhel: count((a) => a.os === 'rhel') });
    expect(body.by_type['Security Advisory']).toBe(count((a) => a.type === 'Security Advisory'));
    expect(Object.values(body.by_severity as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(634);
    expect(body.last_sync).toMatchObject({ status: 'succeeded', errata_count: 634 });
  });

  it('GET /api/v1/errata filters and pages; GET /api/v1/errata/<advisory> answers one or 404', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/api/v1/errata?os=rhel&severity=Critical&severity=High&limit=5', headers: bearer('viewer') });
    expect(page.statusCode).toBe(200);
    const body = page.json();
    expect(body.items.length).toBeLessThanOrEqual(5);
    expect(body.total).toBeGreaterThan(0);
    for (const item of body.items) {
      expect(item.target_os).toContain('rhel');
      expect(['Critical', 'High']).toContain(item.severity);
    }
    expect(body.items[0].severity).toBe('Critical'); // sorted by severity

    const name: string = body.items[0].advisory_name;
    const one = await api.app.inject({ method: 'GET', url: `/api/v1/errata/${encodeURIComponent(name)}`, headers: bearer('viewer') });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ advisory_name: name, cves: lab.fleet.truth().advisories[name]?.cves.sort() });
    expect(one.json().description).toBeTruthy();

    const cve = one.json().cves[0];
    const byCve = await api.app.inject({ method: 'GET', url: `/api/v1/errata?cve=${cve}`, headers: bearer('viewer') });
    expect(byCve.json().items.map((i: { advisory_name: string }) => i.advisory_name)).toContain(name);

    const missing = await api.app.inject({ method: 'GET', url: '/api/v1/errata/RHSA-1999:0001', headers: bearer('viewer') });
    expect(missing.statusCode).toBe(404);
    const badFilter = await api.app.inject({ method: 'GET', url: '/api/v1/errata?severity=Urgent', headers: bearer('viewer') });
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().field).toBe('severity.0');
    const unknown = await api.app.inject({ method: 'GET', url: '/api/v1/errata?colour=red', headers: bearer('viewer') });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().field).toBe('colour');
    const tooMany = await api.app.inject({ method: 'GET', url: '/api/v1/errata?limit=501', headers: bearer('viewer') });
    expect(tooMany.json()).toMatchObject({ statusCode: 400, field: 'limit' });
  });
});
