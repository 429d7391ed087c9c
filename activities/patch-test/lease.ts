import { ApplicationFailure } from '@temporalio/common';
import { getTest, notePhase, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { acquireLease, leaseHeldBy, quarantine, releaseLease } from '../../db/queries/test-systems.js';
import { nodeInstance } from '../prometheus/promql.js';
import { loadTestSettings } from './settings.js';
import { guarded, workflowOf } from './support.js';
import type { TestDeps, LeasedSystem } from './types.js';

// Test-system leases: one test per system (SKIP LOCKED), leases of dead workflows taken back, quarantine.

export function createLeaseActivities(deps: TestDeps) {
  const { db, uyuni, salt, metrics, config, log } = deps;

  /** Leases left by workflows that are no longer running (terminated, timed out) are taken back. */
  const reclaimStaleLeases = async (os: string) => {
    const held = await db
      .selectFrom('test_systems')
      .select(['system_id', 'leased_by', 'leased_run_id'])
      .where('os', '=', os)
      .where('leased_by', 'is not', null)
      .execute();
    for (const h of held) {
      const running = await deps.temporal.workflow
        .getHandle(h.leased_by as string, h.leased_run_id ?? undefined)
        .describe()
        .then((d) => d.status.name === 'RUNNING', () => false);
      if (!running) {
        log.warn({ systemId: h.system_id, holder: h.leased_by }, 'taking back the lease of a test that is not running');
        await releaseLease(db, h.leased_by as string);
      }
    }
  };

  return {
    /**
     * Leases a free test system of the OS the advisory is relevant to, or null when none is free. Leases left
     * by workflows that are no longer running (terminated, timed out) are taken back first.
     */
    async acquireTestSystem(input: { testId: number; os: string; candidates: number[] }): Promise<LeasedSystem | null> {
      const { workflowId, runId } = workflowOf();
      await phaseStarted(db, input.testId, 'lease', { os: input.os, candidates: input.candidates.length });
      let lease = await leaseHeldBy(db, workflowId);
      if (!lease) {
        await reclaimStaleLeases(input.os);
        lease = await acquireLease(db, { os: input.os, candidates: input.candidates, workflowId, runId });
      }
      if (!lease) return null;
      const network = await guarded(() => uyuni.getNetwork(lease.system_id));
      const system: LeasedSystem = { systemId: lease.system_id, name: lease.name, minion: lease.minion_id ?? lease.name, ip: network.ip };
      await updateTest(db, input.testId, {
        test_system_id: system.systemId,
        test_system_name: system.name,
        test_system_minion: system.minion,
        test_system_ip: system.ip,
      });
      await db.updateTable('patch_test_queue').set({ test_system_id: system.systemId }).where('workflow_id', '=', workflowId).execute();
      await phaseFinished(db, input.testId, 'lease', 'passed', { system });
      return system;
    },

    /**
     * Leases the very system a test ran on, to undo its patch there: `busy` while another test holds it,
     * `quarantined` when an operator must look at it first (nothing is undone on a host nobody trusts).
     */
    async leaseSystemOfTest(input: { testId: number }): Promise<
      { state: 'leased'; system: LeasedSystem & { os: string } } | { state: 'busy' } | { state: 'quarantined'; reason: string }
    > {
      const { workflowId, runId } = workflowOf();
      const test = await getTest(db, input.testId);
      if (!test?.test_system_id || !test.test_system_minion || !test.test_system_ip) {
        throw ApplicationFailure.nonRetryable(`test ${input.testId} ran on no known system`, 'NothingToRollBack');
      }
      const row = await db.selectFrom('test_systems').select(['os', 'quarantined', 'quarantine_reason']).where('system_id', '=', test.test_system_id).executeTakeFirstOrThrow();
      let lease = await leaseHeldBy(db, workflowId);
      if (!lease) {
        if (row.quarantined) return { state: 'quarantined', reason: row.quarantine_reason ?? 'quarantined' };
        await reclaimStaleLeases(row.os);
        lease = await acquireLease(db, { os: row.os, candidates: [test.test_system_id], workflowId, runId });
      }
      if (!lease) return { state: 'busy' };
      return { state: 'leased', system: { systemId: test.test_system_id, name: test.test_system_name ?? lease.name, minion: test.test_system_minion, ip: test.test_system_ip, os: row.os } };
    },

    async waitingForTestSystem(input: { testId: number; os: string }): Promise<void> {
      await phaseStarted(db, input.testId, 'lease', { os: input.os, waiting: `no free ${input.os} test system yet` });
    },

    /**
     * issue 15: the leased test system's maintenance window is closed; the test waits for it (a durable timer in
     * the workflow). Noted on the lease phase: which schedule, when it opens, and — once open — that it did.
     */
    async waitingForMaintenanceWindow(input: { testId: number; schedule: string; opensAt: string; closesAt: string; state: 'waiting' | 'open' }): Promise<void> {
      await notePhase(db, input.testId, 'lease', { maintenanceWindow: { schedule: input.schedule, opensAt: input.opensAt, closesAt: input.closesAt, state: input.state } });
    },

    async releaseTestSystem(): Promise<boolean> {
      return releaseLease(db, workflowOf().workflowId);
    },

    /**
     * Is the host there? Salt answers test.ping and its node_exporter is up in Prometheus: what releasing a
     * quarantined test system requires (a host still down would fail the next test, and that failure would be
     * blamed on an innocent erratum).
     */
    async probeTestSystem(input: { systemId: number }): Promise<{ up: boolean; reasons: string[] }> {
      const row = await db.selectFrom('test_systems').select(['name', 'minion_id', 'os']).where('system_id', '=', input.systemId).executeTakeFirst();
      if (!row) throw ApplicationFailure.nonRetryable(`test system ${input.systemId} is not known`, 'TestSystemNotFound');
      const reasons: string[] = [];
      const minion = row.minion_id ?? row.name;
      const pinged = await salt.ping(minion).catch((err: unknown) => {
        reasons.push(`Salt could not be asked: ${(err as Error).message}`);
        return null;
      });
      if (pinged === false) reasons.push(`${minion} does not answer Salt (test.ping)`);
      const ip = await uyuni.getNetwork(input.systemId).then((n) => n.ip, () => null);
      if (!ip) reasons.push('UYUNI does not know its address');
      else {
        const up = await metrics.up(nodeInstance(ip, config.prometheus.nodeExporterPort)).catch((err: unknown) => {
          reasons.push(`its node_exporter has no data in Prometheus: ${(err as Error).message}`);
          return null;
        });
        if (up === false) reasons.push('its node_exporter is down (up == 0)');
      }
      if (pinged === true) {
        // A critical service that does not run would fail the next test's services phase, blamed on its patch.
        const names = (await loadTestSettings(db, config)).criticalServices[row.os] ?? [];
        const status = names.length ? await salt.serviceStatus(minion, names).catch((err: unknown) => {
          reasons.push(`its services could not be read: ${(err as Error).message}`);
          return {};
        }) : {};
        const stopped = Object.entries(status).filter(([, up]) => !up).map(([name]) => name);
        if (stopped.length) reasons.push(`critical service(s) not running: ${stopped.join(', ')}`);
      }
      return { up: reasons.length === 0, reasons };
    },

    async quarantineTestSystem(input: { systemId: number; reason: string }): Promise<void> {
      await quarantine(db, input.systemId, input.reason);
      log.warn(input, 'test system quarantined');
    },
  };
}
