import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/api.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 15: a rollout to 10,000 systems is planned before it starts. The dry run computes the plan from the
// lab's UYUNI (10,000 production systems of one OS in 5 groups) in one call and stores every target: 8
// parameters a row would be 80,000 in one INSERT, past PostgreSQL's 65,535, so only a chunked insert stores it.
describe('the plan of a 10,000-system rollout: a dry run stores it and starts nothing', { timeout: 300_000 }, () => {
  let t: TestEngine;
  const N = 10_000;

  beforeAll(async () => {
    t = await startTestEngine('plan', {
      fleet: { testSystemsPerOs: 1, prodSystemsPerOs: 0, prodSystemsByOs: { rhel: N }, prodGroupsPerOs: 5, fleetWideErrata: 1, errataPerOs: 60, relevantPerSystem: 20 },
      exporters: 'test',
    });
    for (const [k, v] of [['deploy.canary_size', 1], ['deploy.wave_size', 1000], ['deploy.batch_size', 100]] as const) {
      expect((await t.api.app.inject({ method: 'PUT', url: `/api/v1/config/${k}`, headers: bearer('admin'), payload: { value: v } })).statusCode).toBe(200);
    }
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('plans 10,000 systems in one call: a canary of one per group, waves spread over every group, batches of 100; repeatable; nothing scheduled', async () => {
    const e = t.lab.fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false }, 60).find((x) => t.lab.fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length === N)!;
    expect(e, 'a fleet-wide erratum').toBeDefined();
    const queueId = await t.queue(e);
    expect((await t.api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/plan`, headers: bearer('viewer') })).statusCode).toBe(404);

    const dry = () => t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=true', headers: bearer('operator'), payload: { queue_id: queueId } });
    const res = await dry();
    expect(res.statusCode, res.body).toBe(200);
    const plan = res.json().plan as { targets: number; waves: { wave: number; systems: number; batches: number; groups: Record<string, number> }[] };
    expect(plan.targets).toBe(N);
    const groups = ['prod-rhel9-app', 'prod-rhel9-batch', 'prod-rhel9-cache', 'prod-rhel9-db', 'prod-rhel9-web'];
    expect(plan.waves[0]).toEqual({ wave: 0, systems: 5, batches: 1, groups: Object.fromEntries(groups.map((g) => [g, 1])) });
    expect(plan.waves.slice(1).map((w) => w.systems)).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 995]);
    for (const w of plan.waves.slice(1)) {
      expect(w.batches).toBe(10);
      expect(Object.keys(w.groups).sort()).toEqual(groups);
      for (const g of groups) expect(w.groups[g], `wave ${w.wave} ${g}`).toBeGreaterThanOrEqual(199);
    }

    const stored = await t.tw.db.selectFrom('deployment_plan_targets').select((x) => x.fn.countAll<string>().as('n')).where('queue_id', '=', queueId).executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(N);
    const view = (await t.api.app.inject({ method: 'GET', url: `/api/v1/deployments/${queueId}/plan?limit=7&offset=5`, headers: bearer('viewer') })).json();
    expect(view).toMatchObject({ queue_id: queueId, source: 'dry_run', targets: N, limit: 7, offset: 5 });
    expect(view.waves).toEqual(plan.waves);
    expect(view.systems).toHaveLength(7);
    expect(view.systems.every((s: { wave: number; batch: number }) => s.wave === 1 && s.batch === 0)).toBe(true);

    // Repeatable: the same plan, the same rows, still nothing started or scheduled.
    const again = await dry();
    expect(again.statusCode, again.body).toBe(200);
    // The same plan; only the batches' earliest moved on (no maintenance windows here: each may go when the plan is cut).
    const again2 = again.json().plan as typeof plan & { batches: { earliest: string | null }[] };
    const first = plan as typeof plan & { batches: { earliest: string | null }[] };
    const noTimes = (p: typeof first) => ({ ...p, batches: p.batches.map((b) => ({ ...b, earliest: null })) });
    expect(noTimes(again2)).toEqual(noTimes(first));
    expect(first.batches).toHaveLength(1 + 10 * 10);
    again2.batches.forEach((b, i) => expect(Date.parse(b.earliest!)).toBeGreaterThanOrEqual(Date.parse(first.batches[i]!.earliest!)));
    const after = await t.tw.db.selectFrom('deployment_plan_targets').select((x) => x.fn.countAll<string>().as('n')).where('queue_id', '=', queueId).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(N);
    expect(t.lab.uyuni.stats.count('system.scheduleApplyErrata')).toBe(0);
    expect(await t.queueStatus(queueId)).toBe('queued');
    expect(await t.tw.db.selectFrom('patch_deployments').select('id').where('queue_id', '=', queueId).execute()).toEqual([]);
  });

  it('bad input names the field: a dry run of a set, a dry_run that is not a boolean, an unknown item', async () => {
    const set = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=true', headers: bearer('operator'), payload: { queue_ids: [1, 2] } });
    expect(set.statusCode).toBe(400);
    expect(set.json()).toMatchObject({ field: 'queue_ids' });
    const notBool = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=maybe', headers: bearer('operator'), payload: { queue_id: 1 } });
    expect(notBool.statusCode).toBe(400);
    expect(notBool.body).toContain('dry_run');
    const unknown = await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=true', headers: bearer('operator'), payload: { queue_id: 987_654 } });
    expect(unknown.statusCode).toBe(404);
    expect((await t.api.app.inject({ method: 'POST', url: '/api/v1/deployments?dry_run=true', headers: bearer('viewer'), payload: { queue_id: 1 } })).statusCode).toBe(403);
  });
});
