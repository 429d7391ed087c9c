import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { getTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { waitForBoot } from '../shared/reboot.js';
import { loadTestSettings } from './settings.js';
import { guarded, mapError, pinsOf } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict } from './types.js';

// The rollback by the seed's rule, its verification, and the end of a forced rollback.

export function createRollbackActivities(deps: TestDeps) {
  const { db, uyuni, salt, config } = deps;
  const signal = () => cancellationSignal();

  return {
    /**
     * Rolls the test system back by the seed's rule: package downgrade to the restore point when the patch
     * needed no reboot; snapshot restore (snapper undo, then a reboot onto the old kernel) when it did, or the
     * package restore point where no snapshot could be taken.
     */
    async rollbackPhase(input: { testId: number; queueId: number; system: LeasedSystem; requestedBy: string; reason: string; bootBefore?: number; timing: { pollSeconds: number; rebootTimeoutSeconds: number } }): Promise<PhaseVerdict & { rollbackType: 'package' | 'snapshot' }> {
      const { testId, system } = input;
      const test = await getTest(db, testId);
      if (!test) throw ApplicationFailure.nonRetryable(`test ${testId} not found`, 'TestNotFound');
      const rollbackType: 'package' | 'snapshot' = test.requires_reboot && test.snapshot_type === 'snapper' && test.snapshot_id ? 'snapshot' : 'package';
      await phaseStarted(db, testId, 'rollback', { rollbackType });
      await updateTest(db, testId, { rollback_type: rollbackType });
      const key = `test-${testId}`;
      await db
        .insertInto('patch_rollbacks')
        .values({
          queue_id: input.queueId, scope: 'test', test_id: testId, system_id: system.systemId, rollback_type: rollbackType,
          requested_by: input.requestedBy, reason: input.reason, idempotency_key: key,
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      try {
        let details: Record<string, unknown>;
        if (rollbackType === 'snapshot') {
          const undo = await guarded(() => salt.snapperUndo(system.minion, Number(test.snapshot_id), 0, { signal: signal() }));
          const up = await guarded(() => salt.uptime(system.minion, { signal: signal() }));
          const bootBefore = up.kind === 'up' ? up.sinceT : (input.bootBefore ?? 0);
          await guarded(() => uyuni.scheduleReboot(system.systemId, new Date()));
          const boot = await waitForBoot(salt, system.minion, bootBefore, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds, signal: signal() });
          if (!boot.back) throw ApplicationFailure.nonRetryable(`${system.name} did not come back from the rollback reboot`, 'RebootHung');
          details = { undo, rebooted: true };
        } else {
          const restore = test.restore_point ?? {};
          const current = await guarded(() => salt.listPackages(system.minion, { signal: signal() }));
          const pins = Object.fromEntries(Object.entries(restore).filter(([name, version]) => current[name] !== version));
          const changes = Object.keys(pins).length
            ? await guarded(() =>
                salt.installPinned(system.minion, pins, {
                  deadlineMs: input.timing.rebootTimeoutSeconds * 1000,
                  pollMs: input.timing.pollSeconds * 1000,
                  onPoll: () => heartbeat({ rollback: 'package' }),
                  signal: signal(),
                }),
              )
            : {};
          details = { pins, changes };
        }
        await db.updateTable('patch_rollbacks').set({ status: 'succeeded', completed_at: new Date(), details: json(details) }).where('idempotency_key', '=', key).execute();
        await phaseFinished(db, testId, 'rollback', 'passed', { rollbackType, ...details });
        return { ok: true, rollbackType };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (activityInfo().attempt >= 3 || (err instanceof ApplicationFailure && err.nonRetryable)) {
          await db.updateTable('patch_rollbacks').set({ status: 'failed', completed_at: new Date(), error: message }).where('idempotency_key', '=', key).execute();
          await phaseFinished(db, testId, 'rollback', 'failed', { rollbackType }, message);
          return { ok: false, rollbackType, reason: message };
        }
        throw mapError(err);
      }
    },

    /** The rollback verified: every package back at its restore-point version, every critical service up. */
    async verifyRollbackPhase(input: { testId: number; system: LeasedSystem; os: string }): Promise<PhaseVerdict> {
      await phaseStarted(db, input.testId, 'verify_rollback');
      const test = await getTest(db, input.testId);
      const restore = test?.restore_point ?? {};
      const current = await guarded(() => salt.listPackages(input.system.minion, { signal: signal() }));
      const wrong = Object.entries(restore).filter(([name, version]) => current[name] !== version).map(([name, version]) => `${name} is ${current[name] ?? 'missing'}, expected ${version}`);
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const services = names.length ? await guarded(() => salt.serviceStatus(input.system.minion, names, { signal: signal() })) : {};
      const stopped = Object.entries(services).filter(([, up]) => !up).map(([n]) => n);
      const ok = wrong.length === 0 && stopped.length === 0;
      const reason = [...wrong, ...(stopped.length ? [`not running: ${stopped.join(', ')}`] : [])].join('; ');
      await updateTest(db, input.testId, { rollback_verified: ok });
      await phaseFinished(db, input.testId, 'verify_rollback', ok ? 'passed' : 'failed', { versions: pinsOf(current, Object.keys(restore)), services }, ok ? null : reason);
      return ok ? { ok } : { ok, reason };
    },

    /** The end of a forced rollback: the test and its queue item are rolled back (or marked failed when it failed). */
    async finishForcedRollback(input: { testId: number; queueId: number; verified: boolean; reason: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('patch_tests')
          .set({ status: input.verified ? 'rolled_back' : 'failed', failure_phase: 'rollback', failure_reason: input.reason })
          .where('id', '=', input.testId)
          .execute();
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (['passed', 'pending_approval'].includes(item.status) && input.verified) {
          await trx.updateTable('patch_test_queue').set({ status: 'rolled_back' }).where('id', '=', input.queueId).execute();
        }
      });
    },
  };
}
