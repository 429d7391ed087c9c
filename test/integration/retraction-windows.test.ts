import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UyuniClient } from '../../activities/uyuni/client.js';
import { UyuniNotInMaintenanceError, UyuniRetractedErrataError } from '../../activities/uyuni/errors.js';
import type { Erratum } from '../../lab/fleet/index.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { deploymentStatusQuery, testStatusQuery, workflowIds, type TestResult } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// issue 15 against the lab: UYUNI maintenance windows (a test system whose window opens in two lab hours waits
// for it and is patched then; one without a schedule goes at once) and retracted advisories (fault 2602 in a
// running rollout halts it; the sync's retraction check cancels queued items, refuses approval and deployment).
const LAB_HOUR_MS = 15_000;

describe('maintenance windows and retracted advisories', { timeout: 300_000 }, () => {
  let t: TestEngine;
  let syncs = 0;
  const used = new Set<number>();
  const labPost = async (path: string, body?: unknown) => {
    const res = await fetch(`${t.lab.uyuni.baseUrl}${path}`, {
      method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    expect(res.ok, await res.clone().text()).toBe(true);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const fresh = (os: 'rhel' | 'ubuntu'): Erratum => {
    const e = t.lab.fleet.findErrata({ os, personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 60).find((x) => !used.has(x.id));
    if (!e) throw new Error(`no fresh ${os} erratum`);
    used.add(e.id);
    return e;
  };
  const start = (queueId: number, approval = false): Promise<WorkflowHandle<typeof patchTest>> =>
    t.tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: t.tw.taskQueue, workflowId: workflowIds.patchTest(queueId),
      args: [{ queueId, requestedBy: 'test', timing: testTiming(t.tw.config), ...(approval ? { approval: { reminderSeconds: 3600, expirySeconds: 86400 } } : {}) }],
    });
  const sync = () =>
    t.tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: t.tw.taskQueue, workflowId: `rw-sync-${t.tw.taskQueue}-${++syncs}`, args: [{ trigger: 'manual' }] });
  const until = async (what: string, ok: () => Promise<boolean>, ms = 120_000) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) if (await ok()) return;
    throw new Error(`never: ${what}`);
  };
  const setConfig = (key: string, value: number) => t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
  const phaseRow = (testId: number, phase: 'lease' | 'patch') =>
    t.tw.db.selectFrom('patch_test_phases').selectAll().where('test_id', '=', testId).where('phase', '=', phase).executeTakeFirstOrThrow();

  beforeAll(async () => {
    t = await startTestEngine('retractwin', { fleet: { prodSystemsPerOs: 6, prodOverlap: 1 } });
    await setConfig('deploy.soak_minutes', 0.15);
    await setConfig('deploy.wave_size', 5);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the lab refuses an errata action outside the window (1334) and a retracted erratum (2602); the client tells them apart', async () => {
    const rhel = t.systemOf('rhel');
    const e = fresh('rhel');
    await labPost('/lab/maintenance/windows', { name: 'probe', systemIds: [rhel.id], startInLabHours: 5, durationLabHours: 1, labHourMs: LAB_HOUR_MS });
    const client = new UyuniClient({ url: t.tw.config.uyuni.url, user: t.tw.config.uyuni.user, password: t.tw.config.uyuni.password, allowModules: true });
    try {
      await expect(client.scheduleApplyErrata([rhel.id], [e.id], new Date())).rejects.toBeInstanceOf(UyuniNotInMaintenanceError);
      expect(t.lab.fleet.isScheduled(rhel.id, e.id)).toBe(false);
      const names = await client.listScheduleNames();
      expect(names).toContain('probe');
      expect(await client.listSystemsWithSchedule('probe')).toEqual([rhel.id]);
      const cal = await client.getCalendarDetails((await client.getScheduleDetails('probe')).calendar!);
      expect(cal.ical).toMatch(/BEGIN:VCALENDAR[\s\S]*RRULE|BEGIN:VCALENDAR[\s\S]*DTSTART/);
      const other = fresh('ubuntu');
      await labPost(`/lab/errata/${encodeURIComponent(other.advisoryName)}/retract`);
      await expect(client.scheduleApplyErrata([t.systemOf('ubuntu').id], [other.id])).rejects.toBeInstanceOf(UyuniRetractedErrataError);
      expect((await client.getErrataDetails(other.advisoryName)).advisoryStatus).toBe('retracted');
    } finally {
      await client.close();
      await fetch(`${t.lab.uyuni.baseUrl}/lab/maintenance`, { method: 'DELETE' });
    }
  });

  it('a test system whose window opens in two lab hours waits for it and is patched then; one without a schedule goes now', async () => {
    const rhel = t.systemOf('rhel');
    const created = await labPost('/lab/maintenance/windows', {
      name: 'nightly', systemIds: [rhel.id], startInLabHours: 2, durationLabHours: 8, everyLabHours: 24, labHourMs: LAB_HOUR_MS,
    });
    const opensAt = Date.now() + 2 * LAB_HOUR_MS;
    expect(String((created.calendar as { ical: string }).ical)).toContain('RRULE:FREQ=SECONDLY;INTERVAL=360');
    try {
      const waiting = fresh('rhel');
      const now = fresh('ubuntu');
      const [waitingId, nowId] = [await t.queue(waiting), await t.queue(now)];
      const [hWait, hNow] = [await start(waitingId), await start(nowId)];
      const view = await t.untilStatus(workflowIds.patchTest(waitingId), 'testing').then(async () => {
        let v = await hWait.query(testStatusQuery);
        for (let i = 0; i < 100 && v.maintenanceWindow?.state !== 'waiting'; i++) {
          await new Promise((r) => setTimeout(r, 200));
          v = await hWait.query(testStatusQuery);
        }
        return v;
      });
      expect(view.maintenanceWindow).toMatchObject({ schedule: 'nightly', state: 'waiting' });
      expect(Math.abs(Date.parse(view.maintenanceWindow!.opensAt) - opensAt)).toBeLessThan(3_000);
      const lease = await phaseRow(view.testId!, 'lease');
      expect(lease.details).toMatchObject({ maintenanceWindow: { schedule: 'nightly', state: 'waiting' } });

      // the system without a schedule is patched at once, while the other waits
      const rNow: TestResult = await hNow.result();
      expect(rNow.status).toBe('passed');
      expect((await phaseRow(rNow.testId, 'patch')).started_at.getTime()).toBeLessThan(opensAt);
      expect(t.lab.fleet.applyCount(rhel.id, waiting.id)).toBe(0);

      const rWait: TestResult = await hWait.result();
      expect(rWait.status).toBe('passed');
      const patch = await phaseRow(rWait.testId, 'patch');
      expect(patch.started_at.getTime()).toBeGreaterThanOrEqual(opensAt - 1_000);
      expect(t.lab.fleet.applyCount(rhel.id, waiting.id)).toBe(1);
      expect((await phaseRow(rWait.testId, 'lease')).details).toMatchObject({ maintenanceWindow: { state: 'open' } });
    } finally {
      await fetch(`${t.lab.uyuni.baseUrl}/lab/maintenance`, { method: 'DELETE' });
    }
  });

  it('retracted mid-rollout: fault 2602 halts the rollout (the rest untouched); the sync cancels queued items and approval/deploy answer 409 naming the retraction', async () => {
    // X: approved and rolling out; Y: waiting for approval; Z: only queued
    const x = fresh('rhel');
    const y = fresh('ubuntu');
    const z = fresh('rhel');
    const xId = await t.queue(x);
    const yId = await t.queue(y);
    const zId = await t.queue(z);
    const [hx, hy] = [await start(xId, true), await start(yId, true)];
    await t.untilStatus(workflowIds.patchTest(xId), 'pending_approval');
    await t.untilStatus(workflowIds.patchTest(yId), 'pending_approval');
    const approved = await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${xId}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } });
    expect(approved.statusCode, approved.body).toBe(200);
    const deployed = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: xId } });
    expect(deployed.statusCode, deployed.body).toBe(202);
    const rollout = t.tw.client.workflow.getHandle(workflowIds.deployment(xId));
    await until('the canary is done', async () => (await rollout.query(deploymentStatusQuery).catch(() => null))?.waves[0]?.state === 'done');

    // retracted during the soak: the next wave's scheduling gets fault 2602
    await labPost(`/lab/errata/${encodeURIComponent(x.advisoryName)}/retract`);
    const result: TestResult = await hx.result();
    expect(result.deployment).toMatchObject({ status: 'halted', targets: 6, applied: 1, failed: 0 });
    expect(result.deployment?.haltReason).toMatch(/retracted/);
    expect(await t.queueStatus(xId)).toBe('halted');
    const prod = t.lab.fleet.systemsOf('rhel', 'prod');
    expect(prod.map((s) => t.lab.fleet.applyCount(s.id, x.id))).toEqual([1, 0, 0, 0, 0, 0]);
    const rows = await t.tw.db.selectFrom('patch_deployments').select(['status', 'error']).where('queue_id', '=', xId).orderBy('system_id').execute();
    expect(rows.map((r) => r.status)).toEqual(['applied', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(rows.some((r) => r.status === 'failed')).toBe(false);
    const halts = await t.tw.db.selectFrom('deployment_halts').selectAll().where('queue_id', '=', xId).execute();
    expect(halts).toMatchObject([{ source: 'retraction', requested_by: 'uyuni' }]);
    const events = async (type: string) => t.tw.db.selectFrom('orchestrator_notifications').select(['payload']).where('event_type', '=', type).execute();
    expect((await events('deployment.halted')).map((e) => e.payload)).toContainEqual(expect.objectContaining({ queue_id: xId, cause: 'retraction' }));
    expect((await events('advisory.retracted')).map((e) => e.payload)).toContainEqual(expect.objectContaining({ advisory: x.advisoryName, found_by: 'rollout', halted: [xId] }));
    expect((await t.tw.db.selectFrom('errata_cache').select(['advisory_status', 'retracted_at']).where('advisory_name', '=', x.advisoryName).executeTakeFirstOrThrow()))
      .toMatchObject({ advisory_status: 'retracted', retracted_at: expect.any(Date) });

    // Y and Z retracted in UYUNI: the next sync finds it (errata.getDetails), cancels Z, refuses Y's approval
    await labPost(`/lab/errata/${encodeURIComponent(y.advisoryName)}/retract`);
    await labPost(`/lab/errata/${encodeURIComponent(z.advisoryName)}/retract`);
    await sync();
    const zRow = await t.tw.db.selectFrom('patch_test_queue').select(['status', 'status_reason']).where('id', '=', zId).executeTakeFirstOrThrow();
    expect(zRow).toMatchObject({ status: 'cancelled', status_reason: expect.stringMatching(/retracted/) });
    const refused = await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${yId}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(new RegExp(`${y.advisoryName.replace(/[.:]/g, '\\$&')} was retracted`));
    expect(await t.queueStatus(yId)).toBe('pending_approval');
    // a rejection is still possible (and undoes the test's patch)
    const rejected = await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${yId}/reject`, headers: bearer('approver'), payload: { reason: 'retracted' } });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect((await hy.result()).status).toBe('rejected');
    expect((await events('advisory.retracted')).map((e) => e.payload)).toContainEqual(expect.objectContaining({ advisory: z.advisoryName, found_by: 'sync', cancelled: [zId] }));
  });

  it('retracted in UYUNI during the soak: the next sync halts the running rollout (the halt signal), nothing more applied', async () => {
    await setConfig('deploy.soak_minutes', 1);
    try {
      const e = fresh('ubuntu');
      const id = await t.queue(e);
      const h = await start(id, true);
      await t.untilStatus(workflowIds.patchTest(id), 'pending_approval');
      expect((await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } })).statusCode).toBe(200);
      expect((await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: id } })).statusCode).toBe(202);
      const rollout = t.tw.client.workflow.getHandle(workflowIds.deployment(id));
      await until('the canary is done', async () => (await rollout.query(deploymentStatusQuery).catch(() => null))?.waves[0]?.state === 'done');
      await labPost(`/lab/errata/${encodeURIComponent(e.advisoryName)}/retract`);
      const began = Date.now();
      await sync();
      const result: TestResult = await h.result();
      // halted by the sync's signal during the soak, not at its end
      expect(Date.now() - began).toBeLessThan(45_000);
      expect(result.deployment).toMatchObject({ status: 'halted', targets: 6, applied: 1, failed: 0, skipped: 5 });
      expect(result.deployment?.haltReason).toMatch(/halted by uyuni: .* was retracted/);
      expect(t.lab.fleet.systemsOf('ubuntu', 'prod').map((s) => t.lab.fleet.applyCount(s.id, e.id))).toEqual([1, 0, 0, 0, 0, 0]);
      const halted = await t.tw.db.selectFrom('orchestrator_notifications').select('payload').where('event_type', '=', 'deployment.halted').where('queue_id', '=', id).execute();
      expect(halted.map((r) => r.payload)).toEqual([expect.objectContaining({ cause: 'retraction', by: 'uyuni' })]);
      const retracted = await t.tw.db.selectFrom('orchestrator_notifications').select('payload').where('event_type', '=', 'advisory.retracted').execute();
      expect(retracted.map((r) => r.payload)).toContainEqual(expect.objectContaining({ advisory: e.advisoryName, found_by: 'sync', halted: [id] }));
    } finally {
      await setConfig('deploy.soak_minutes', 0.15);
    }
  });

  it('deploying an approved item whose advisory was retracted answers 409 with the reason; nothing starts', async () => {
    const e = fresh('rhel');
    const id = await t.queue(e);
    const h = await start(id, true);
    await t.untilStatus(workflowIds.patchTest(id), 'pending_approval');
    expect((await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } })).statusCode).toBe(200);
    await labPost(`/lab/errata/${encodeURIComponent(e.advisoryName)}/retract`);
    await sync();
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: id } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ message: expect.stringMatching(/cannot be deployed: .* was retracted/) });
    expect(await t.queueStatus(id)).toBe('approved');
    expect(await t.tw.db.selectFrom('deployments').select('id').where('queue_id', '=', id).execute()).toEqual([]);
    await h.terminate('test over');
  });
});
