import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Erratum } from '../../lab/fleet/index.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest } from '../../workflows/index.js';
import { workflowIds, type TestResult } from '../../workflows/messages.js';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 15, Must have 5 in a rollout, against the lab's UYUNI: the batches follow the production systems'
// maintenance windows. Systems whose window opens in two lab hours wait for it (a workflow timer) and are patched
// then — UYUNI accepts their action, never a 1334 — while the others go at once; a system whose schedule has no
// window at all is skipped with why; one UYUNI refuses at its batch's time (its schedule changed meanwhile) is
// moved to its next window and patched then, never failed. The plan (dry run and GET …/plan) shows each system's
// next window and each batch's earliest.
const LAB_HOUR_MS = 20_000;

type PlanView = {
  source: string;
  batches: { wave: number; batch: number; systems: number; earliest: string | null }[];
  systems: { system_id: number; wave: number; batch: number; next_window: { schedule: string; start: string | null; end: string | null; reason?: string } | null; earliest: string | null }[];
};

describe('rollouts by maintenance window', { timeout: 300_000 }, () => {
  let t: TestEngine;
  const used = new Set<number>();
  const labPost = async (path: string, body: unknown) => {
    const res = await fetch(`${t.lab.uyuni.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.ok, await res.clone().text()).toBe(true);
    return res.json() as Promise<{ calendar: { windows: { startMs: number; durationMs: number }[] } }>;
  };
  /** A window `startInLabHours` from now; the epoch ms it opens (the lab keeps whole seconds). */
  const defineWindow = async (name: string, systemIds: number[], startInLabHours: number, extra: Record<string, unknown> = {}) => {
    const r = await labPost('/lab/maintenance/windows', { name, systemIds, startInLabHours, durationLabHours: 8, everyLabHours: 24, labHourMs: LAB_HOUR_MS, ...extra });
    return r.calendar.windows[0]!.startMs;
  };
  const fresh = (): Erratum => {
    const e = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 60).find((x) => !used.has(x.id));
    if (!e) throw new Error('no fresh ubuntu erratum');
    used.add(e.id);
    return e;
  };
  const approved = async (e: Erratum): Promise<{ id: number; handle: WorkflowHandle<typeof patchTest> }> => {
    const id = await t.queue(e);
    const handle = await t.tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: t.tw.taskQueue, workflowId: workflowIds.patchTest(id),
      args: [{ queueId: id, requestedBy: 'test', timing: testTiming(t.tw.config), approval: { reminderSeconds: 3600, expirySeconds: 86400 } }],
    });
    await t.untilStatus(workflowIds.patchTest(id), 'pending_approval');
    const res = await t.api.app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, headers: bearer('approver'), payload: { reason: 'ok' } });
    expect(res.statusCode, res.body).toBe(200);
    return { id, handle };
  };
  const deploy = async (id: number) => {
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments', headers: bearer('operator'), payload: { queue_id: id } });
    expect(res.statusCode, res.body).toBe(202);
  };
  const rowsOf = (id: number) =>
    t.tw.db.selectFrom('patch_deployments').select(['system_id', 'status', 'error', 'uyuni_action_id', 'wave', 'batch', 'rescheduled_from', 'earliest']).where('queue_id', '=', id).orderBy('system_id').execute();
  const until = async (what: string, ok: () => Promise<boolean>, ms = 120_000) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) if (await ok()) return;
    throw new Error(`never: ${what}`);
  };
  const plan = async (id: number): Promise<PlanView> => {
    const res = await t.api.app.inject({ method: 'GET', url: `/api/v1/deployments/${id}/plan`, headers: bearer('viewer') });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const refusalsOf = (e: Erratum) => t.lab.fleet.maintenanceRefusals.filter((r) => r.erratumIds.includes(e.id));

  beforeAll(async () => {
    t = await startTestEngine('rolloutwin', { fleet: { prodSystemsPerOs: 6, prodOverlap: 1 } });
    for (const [k, v] of [['deploy.soak_minutes', 0.05], ['deploy.wave_size', 5], ['deploy.canary_size', 1]] as const) {
      expect((await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${k}`, headers: bearer('admin'), payload: { value: v } })).statusCode).toBe(200);
    }
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the OpenAPI document describes each system\'s next window and each batch\'s earliest in the plan and the dry run', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema document, walked by property names
    type Schema = any;
    const spec = (await t.api.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>> };
    const schemaOf = (path: string, method: string, code: string): Schema => spec.paths[path]![method]!.responses[code]!.content['application/json']!.schema;
    const view = schemaOf('/api/v1/deployments/{id}/plan', 'get', '200');
    expect(Object.keys(view.properties.batches.items.properties)).toEqual(['wave', 'batch', 'systems', 'earliest']);
    expect(view.properties.batches.items.properties.earliest).toMatchObject({ format: 'date-time', nullable: true });
    const system = view.properties.systems.items.properties;
    expect(system.next_window).toMatchObject({ nullable: true, properties: { schedule: { type: 'string' }, start: { nullable: true }, end: { nullable: true } } });
    expect(system.earliest).toMatchObject({ nullable: true, format: 'date-time' });
    const dry = schemaOf('/api/v1/deployments', 'post', '200');
    expect(dry.properties.plan.properties.batches.items.properties.earliest).toMatchObject({ format: 'date-time' });
    expect(dry.properties.systems.items.properties.next_window).toMatchObject({ nullable: true });
    expect(dry.required).toEqual(expect.arrayContaining(['plan', 'systems', 'plan_url']));
  });

  it('systems whose window opens in two lab hours wait for it and are patched then (UYUNI accepts, no 1334); the others go now; one with no window is skipped', async () => {
    const prod = t.lab.fleet.systemsOf('ubuntu', 'prod');
    expect(prod).toHaveLength(6);
    const e = fresh();
    const { id, handle } = await approved(e);
    const [waiting, gone] = [[prod[2]!.id, prod[4]!.id], prod[3]!.id];
    const opensAt = await defineWindow('nightly', waiting, 2);
    // a schedule whose only window is over: no window in the horizon
    await labPost('/lab/maintenance/windows', { name: 'gone', systemIds: [gone], startInLabHours: -10, durationLabHours: 1, labHourMs: LAB_HOUR_MS });
    try {
      // The dry run shows the next windows and batches by them: canary; then now, at the window, never.
      const dryRes = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=true', headers: bearer('operator'), payload: { queue_id: id } });
      expect(dryRes.statusCode, dryRes.body).toBe(200);
      const dry = dryRes.json() as { plan: { batches: PlanView['batches'] }; systems: PlanView['systems']; plan_url: string };
      const plannedAt = Date.now();
      expect(dry.plan.batches.map((b) => [b.wave, b.batch, b.systems])).toEqual([[0, 0, 1], [1, 0, 2], [1, 1, 2], [1, 2, 1]]);
      expect(Math.abs(Date.parse(dry.plan.batches[0]!.earliest!) - plannedAt)).toBeLessThan(20_000);
      expect(Date.parse(dry.plan.batches[2]!.earliest!)).toBe(opensAt);
      expect(dry.plan.batches[3]!.earliest).toBeNull();
      const bySystem = new Map(dry.systems.map((s) => [s.system_id, s]));
      expect(dry.systems).toHaveLength(6);
      for (const w of waiting) {
        expect(bySystem.get(w)).toMatchObject({ wave: 1, batch: 1, next_window: { schedule: 'nightly', start: new Date(opensAt).toISOString(), end: new Date(opensAt + 8 * LAB_HOUR_MS).toISOString() } });
        expect(Date.parse(bySystem.get(w)!.earliest!)).toBe(opensAt);
      }
      expect(bySystem.get(gone)).toMatchObject({ batch: 2, earliest: null, next_window: { schedule: 'gone', start: null, end: null, reason: expect.stringMatching(/no window/) } });
      for (const s of [prod[0]!, prod[1]!, prod[5]!]) expect(bySystem.get(s.id)!.next_window).toBeNull();
      expect((await plan(id)).source).toBe('dry_run');

      await deploy(id);
      // the others are patched while the two wait (their rows pending, the window not open yet)
      await until('the systems without a schedule are patched', async () => (await rowsOf(id)).filter((r) => r.status === 'applied').length === 3);
      const during = await rowsOf(id);
      expect(Date.now()).toBeLessThan(opensAt);
      expect(during.filter((r) => waiting.includes(r.system_id)).map((r) => [r.status, r.uyuni_action_id])).toEqual([['pending', null], ['pending', null]]);
      expect(waiting.map((w) => t.lab.fleet.applyCount(w, e.id))).toEqual([0, 0]);
      const live = await plan(id);
      expect(live.source).toBe('rollout');
      for (const w of waiting) expect(live.systems.find((s) => s.system_id === w)).toMatchObject({ next_window: { schedule: 'nightly', start: new Date(opensAt).toISOString() } });
      const waitingBatch = live.batches.find((b) => b.wave === 1 && b.batch === live.systems.find((s) => s.system_id === waiting[0])!.batch)!;
      expect(waitingBatch).toMatchObject({ systems: 2, earliest: new Date(opensAt).toISOString() });

      const result: TestResult = await handle.result();
      expect(result.deployment).toMatchObject({ status: 'completed', targets: 6, applied: 5, failed: 0, skipped: 1 });
      const rows = await rowsOf(id);
      expect(rows.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'skipped', 'applied', 'applied']);
      expect(rows[3]!.error).toMatch(/not applied: no maintenance window to patch it in \(maintenance schedule gone: .*no window/);
      expect(t.lab.fleet.applyCount(gone, e.id)).toBe(0);
      // the waiting two: one UYUNI action, created at the window and starting inside it
      const [a2, a4] = [rows[2]!.uyuni_action_id!, rows[4]!.uyuni_action_id!];
      expect(a2).toBe(a4);
      const action = t.lab.fleet.action(a2)!;
      expect(action.earliestMs).toBeGreaterThanOrEqual(opensAt);
      expect(action.createdMs).toBeGreaterThanOrEqual(opensAt - 1_000);
      for (const w of waiting) expect(t.lab.fleet.applyCount(w, e.id)).toBe(1);
      // the others went at once, before the window opened
      for (const r of [rows[0]!, rows[1]!, rows[5]!]) expect(t.lab.fleet.action(r.uyuni_action_id!)!.createdMs).toBeLessThan(opensAt);
      // UYUNI never refused one of them outside a window
      expect(refusalsOf(e)).toEqual([]);
    } finally {
      await fetch(`${t.lab.uyuni.baseUrl}/lab/maintenance`, { method: 'DELETE' });
    }
  });

  it('fault 1334 at the batch\'s time (its schedule changed while it waited) moves that system to its next window: patched then, never failed or skipped', async () => {
    const prod = t.lab.fleet.systemsOf('ubuntu', 'prod');
    const e = fresh();
    const { id, handle } = await approved(e);
    const [stays, moves] = [prod[1]!.id, prod[2]!.id];
    const soon = await defineWindow('soon', [stays, moves], 2);
    try {
      await deploy(id);
      // wave 1 cut its batches (the ones without a schedule are patched): then `moves` gets a later window
      await until('wave 1 runs', async () => (await rowsOf(id)).filter((r) => r.wave === 1 && r.status === 'applied').length === 3);
      expect(Date.now()).toBeLessThan(soon);
      const later = await defineWindow('later', [moves], 3.5);
      const before = await rowsOf(id);
      const batchOf = (sid: number, rows: typeof before) => rows.find((r) => r.system_id === sid)!.batch;
      expect(batchOf(stays, before)).toBe(batchOf(moves, before));

      const result: TestResult = await handle.result();
      expect(result.deployment).toMatchObject({ status: 'completed', targets: 6, applied: 6, failed: 0, skipped: 0 });
      const rows = await rowsOf(id);
      expect(rows.every((r) => r.status === 'applied')).toBe(true);
      // UYUNI refused the batch once at the window of `soon` (1334): `stays` went on then, `moves` waited for its own
      const refusals = refusalsOf(e);
      expect(refusals).toHaveLength(1);
      expect(refusals[0]!.systemIds.sort()).toEqual([stays, moves].sort());
      expect(refusals[0]!.earliestMs).toBeGreaterThanOrEqual(soon);
      const stayed = t.lab.fleet.action(rows.find((r) => r.system_id === stays)!.uyuni_action_id!)!;
      expect(stayed.earliestMs).toBeGreaterThanOrEqual(soon);
      expect(stayed.earliestMs).toBeLessThan(later);
      const moved = rows.find((r) => r.system_id === moves)!;
      expect(moved.rescheduled_from).toBe(batchOf(moves, before));
      expect(moved.batch).not.toBe(batchOf(moves, before));
      const movedAction = t.lab.fleet.action(moved.uyuni_action_id!)!;
      expect(movedAction.earliestMs).toBeGreaterThanOrEqual(later);
      // the row keeps the earliest its action got (the window's start, or the whole second after it the timer fired)
      expect(moved.earliest?.getTime()).toBe(movedAction.earliestMs);
      expect(movedAction.createdMs).toBeGreaterThanOrEqual(later - 1_000);
      for (const s of prod) expect(t.lab.fleet.applyCount(s.id, e.id)).toBe(1);
    } finally {
      await fetch(`${t.lab.uyuni.baseUrl}/lab/maintenance`, { method: 'DELETE' });
    }
  });
});
