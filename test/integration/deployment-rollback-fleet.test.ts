import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTiming } from '../../temporal/tests.js';
import type { deploymentRollback, productionDeployment } from '../../workflows/index.js';
import { workflowIds, type DeploymentInput } from '../../workflows/messages.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 15 at a modest scale: the production rollback of a batched rollout (150 systems, batches of 25) runs
// one activity and one Salt pkg.install job per batch, not per system, so its history stays small at 10,000
// systems; a system whose downgrade fails is rollback_failed alone, and the queue item is not rolled back.
describe('the rollback of a batched rollout: per batch, not per system', { timeout: 300_000 }, () => {
  let t: TestEngine;
  const N = 150;
  const BATCH = 25;

  beforeAll(async () => {
    t = await startTestEngine('rbfleet', {
      fleet: { testSystemsPerOs: 1, prodSystemsPerOs: 0, prodSystemsByOs: { rhel: N }, prodGroupsPerOs: 3, fleetWideErrata: 1, errataPerOs: 60, relevantPerSystem: 20 },
      exporters: 'test',
    });
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('150 systems rolled back in 6 batch activities with one pkg.install job each; the one whose downgrade fails alone is rollback_failed', async () => {
    const { fleet } = t.lab;
    const e = fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false }, 60).find((x) => fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length === N)!;
    expect(e, 'a fleet-wide erratum').toBeDefined();
    const queueId = await t.queue(e);
    // The test and the approval are not what this checks: the item moves along the status machine.
    for (const s of ['testing', 'passed', 'pending_approval', 'approved'] as const) await t.tw.db.updateTable('patch_test_queue').set({ status: s }).where('id', '=', queueId).execute();
    const errata = await t.tw.db.selectFrom('errata_cache').select('uyuni_errata_id').where('advisory_name', '=', e.advisoryName).executeTakeFirstOrThrow();
    const systems = fleet.systemsOf('rhel', 'prod');
    const before = new Map(systems.map((s) => [s.id, fleet.packageTruth(s.id)]));
    const input: DeploymentInput = {
      queueId, advisoryName: e.advisoryName, errataId: errata.uyuni_errata_id!, targetOs: 'rhel', requiresReboot: false, requestedBy: 'test',
      policy: { canarySize: 0, soakSeconds: 0, waveSize: 75, failureBudgetCount: N, failureBudgetPercent: 100, batchSize: BATCH },
      timing: testTiming(t.tw.config),
    };
    const rollout = await t.tw.client.workflow.execute<typeof productionDeployment>('productionDeployment', { taskQueue: t.tw.taskQueue, workflowId: workflowIds.deployment(queueId), args: [input] });
    expect(rollout).toMatchObject({ status: 'completed', targets: N, applied: N, failed: 0 });
    for (const s of systems) expect(fleet.packageTruth(s.id), s.name).not.toEqual(before.get(s.id));

    const broken = systems[37]!;
    fleet.addHostFault({ kind: 'install_fails', systemId: broken.id, times: 'always' });
    const installsBefore = t.lab.salt.stats.count('pkg.install');
    const handle = await t.tw.client.workflow.start<typeof deploymentRollback>('deploymentRollback', {
      taskQueue: t.tw.taskQueue, workflowId: workflowIds.deploymentRollback(queueId),
      args: [{ queueId, requestedBy: 'test', reason: 'fleet rollback', timing: testTiming(t.tw.config) }],
    });
    const done = await handle.result();
    expect(done, JSON.stringify(done)).toMatchObject({ rolledBack: N - 1, failed: 1 });
    expect(done.errors.join('\n')).toContain(broken.name);
    for (const s of systems) if (s.id !== broken.id) expect(fleet.packageTruth(s.id), s.name).toEqual(before.get(s.id));
    expect(fleet.packageTruth(broken.id), 'the broken system keeps the patch').not.toEqual(before.get(broken.id));

    // One Salt job per batch (the fleet-wide erratum needs the same old versions everywhere), not one per system.
    expect(t.lab.salt.stats.count('pkg.install') - installsBefore).toBe(N / BATCH);
    const history = await handle.fetchHistory();
    const activities = (history.events ?? []).filter((x) => x.activityTaskScheduledEventAttributes).map((x) => x.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(activities.filter((a) => a === 'rollbackProductionBatch')).toHaveLength(N / BATCH);
    expect(activities).not.toContain('rollbackProductionSystem');
    // A few events per batch (its activity's 3, the workflow tasks around them, which vary with timing) plus a
    // fixed few; one activity per system would be ≥ 3 × 150 = 450.
    expect(history.events!.length, 'bounded by the batches, not the systems').toBeLessThan(8 * (N / BATCH) + 40);

    const rows = await t.tw.db.selectFrom('patch_rollbacks').select(['system_id', 'status', 'error']).where('queue_id', '=', queueId).where('scope', '=', 'production').execute();
    expect(rows).toHaveLength(N);
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(N - 1);
    expect(rows.find((r) => r.system_id === broken.id)).toMatchObject({ status: 'failed' });
    const deployed = await t.tw.db.selectFrom('patch_deployments').select(['system_id', 'status']).where('queue_id', '=', queueId).execute();
    expect(deployed.filter((r) => r.status === 'rolled_back')).toHaveLength(N - 1);
    expect(deployed.find((r) => r.system_id === broken.id)).toMatchObject({ status: 'rollback_failed' });
    expect(await t.queueStatus(queueId)).toBe('prod_rollback_failed');
    fleet.clearHostFaults();
  });
});
