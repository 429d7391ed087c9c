import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { getTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { diffInventory, revertedInventory, type InventoryChanges, type PackageInventory } from '../../domain/package-inventory.js';
import { rebootThroughUyuni } from '../shared/reboot.js';
import { revertPatch, verifyReverted, type RevertOutcome } from '../shared/revert.js';
import { loadTestSettings } from './settings.js';
import { isSaltFunctionUnavailable } from '../salt/errors.js';
import { guarded, mapError } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict } from './types.js';
import { recordEvent } from '../../db/queries/notifications.js';

// The rollback of a test's patch by the seed's rule, its verification, and the end of a forced rollback.
// "Rolled back" is claimed only once the verification found the system's whole package inventory (and its
// running kernel) as it should be and every critical service running; until then the patch_rollbacks row
// says `running`, and a rollback that could not restore everything is `failed` with what differs.

export interface RollbackResult extends PhaseVerdict {
  rollbackType: 'package' | 'snapshot';
  /** The host did not come back from the rollback's reboot. */
  hung: boolean;
}

interface RollbackRecord {
  rollbackType: 'package' | 'snapshot';
  expected: PackageInventory;
  steps: string[];
}

/** A test's rollback right after it, or (deferred) later, once a rejected or expired patch is undone. */
const keyOf = (testId: number, deferred: boolean) => (deferred ? `test-${testId}-undo` : `test-${testId}`);

export function createRollbackActivities(deps: TestDeps) {
  const { db, uyuni, salt, config } = deps;
  const signal = () => cancellationSignal();

  const fail = async (key: string, testId: number, rollbackType: RollbackResult['rollbackType'], reason: string, hung: boolean, details: Record<string, unknown>): Promise<RollbackResult> => {
    await db.updateTable('patch_rollbacks').set({ status: 'failed', completed_at: new Date(), error: reason, details: json(details) }).where('idempotency_key', '=', key).execute();
    await updateTest(db, testId, { rollback_verified: false });
    await phaseFinished(db, testId, 'rollback', 'failed', { rollbackType, ...details }, reason);
    return { ok: false, rollbackType, reason, hung };
  };

  return {
    /**
     * Undoes the test's patch on its test system by the seed's rule: a snapshot restore (snapper undo, then a
     * reboot onto the old kernel) when the patch needed a reboot and a snapshot exists; otherwise the package
     * way: downgrade what it upgraded, reinstall what it removed, boot the old kernel when the new one runs,
     * remove what it added. A deferred rollback (other tests may have run since) always goes the package way
     * and undoes this patch's changes only. Leaves the verification to verifyRollbackPhase.
     */
    async rollbackPhase(input: {
      testId: number; queueId: number; system: LeasedSystem; os: string; requestedBy: string; reason: string; deferred?: boolean;
      timing: { pollSeconds: number; rebootTimeoutSeconds: number; actionTimeoutSeconds: number };
    }): Promise<RollbackResult> {
      const { testId, system } = input;
      const deferred = input.deferred ?? false;
      const test = await getTest(db, testId);
      if (!test) throw ApplicationFailure.nonRetryable(`test ${testId} not found`, 'TestNotFound');
      const rollbackType: RollbackResult['rollbackType'] =
        !deferred && test.requires_reboot && test.snapshot_type === 'snapper' && test.snapshot_id ? 'snapshot' : 'package';
      await phaseStarted(db, testId, 'rollback', { rollbackType, deferred });
      await updateTest(db, testId, { rollback_type: rollbackType });
      const key = keyOf(testId, deferred);
      await db
        .insertInto('patch_rollbacks')
        .values({
          queue_id: input.queueId, scope: 'test', test_id: testId, system_id: system.systemId, rollback_type: rollbackType,
          requested_by: input.requestedBy, reason: input.reason, idempotency_key: key,
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      const target = { systemId: system.systemId, minion: system.minion, name: system.name, os: input.os };

      const before = test.inventory_before;
      let changes: InventoryChanges | null = test.inventory_changes;
      if (!changes && before && !deferred) {
        // The worker died before the patch phase read the inventory: nothing else ran on the leased system since.
        changes = diffInventory(before, await guarded(() => salt.listInventory(system.minion, { signal: signal() })));
        await updateTest(db, testId, { inventory_changes: json(changes) });
      }
      if (!changes) return fail(key, testId, rollbackType, 'what the patch changed was never recorded, so it cannot be undone with certainty', false, {});

      let outcome: RevertOutcome | null = null;
      let type = rollbackType;
      if (type === 'snapshot') {
        const current = await guarded(() => salt.listInventory(system.minion, { signal: signal() }));
        const { inventory: expected } = revertedInventory(current, changes);
        const undo = await salt.snapperUndo(system.minion, Number(test.snapshot_id), 0, { signal: signal() }).catch((err: unknown) => {
          // snapper gone since the snapshot (module no longer loads): the package way still works.
          if (isSaltFunctionUnavailable(err)) return null;
          throw mapError(err);
        });
        if (undo === null) {
          type = 'package';
          await updateTest(db, testId, { rollback_type: type });
          await db.updateTable('patch_rollbacks').set({ rollback_type: type }).where('idempotency_key', '=', key).execute();
        } else {
          const boot = await guarded(() =>
            rebootThroughUyuni(uyuni, salt, system, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds, signal: signal() }),
          );
          const steps = [`snapper undo of snapshot #${test.snapshot_id} (${JSON.stringify(undo)})`];
          outcome = boot.back
            ? { ok: true, expected, steps: [...steps, 'rebooted'], rebooted: true }
            : { ok: false, reason: `${system.name} did not come back from the rollback reboot within ${input.timing.rebootTimeoutSeconds} s`, hung: true, expected, steps };
        }
      }
      outcome ??= await guarded(() => revertPatch({ salt, uyuni }, target, { changes, kernelBefore: test.kernel_before }, input.timing, signal()));
      if (!outcome.ok) return fail(key, testId, type, outcome.reason, outcome.hung, { steps: outcome.steps, changes });
      const record: RollbackRecord = { rollbackType: type, expected: outcome.expected, steps: outcome.steps };
      await db.updateTable('patch_rollbacks').set({ details: json({ ...record, changes }) }).where('idempotency_key', '=', key).execute();
      await phaseFinished(db, testId, 'rollback', 'passed', { rollbackType: type, steps: outcome.steps, changes });
      return { ok: true, rollbackType: type, hung: false };
    },

    /**
     * The rollback verified: the whole package inventory equals what the rollback should have left (nothing
     * upgraded, added or removed by the patch remains), the kernel from before runs, every critical service is
     * up. Only then is the rollback `succeeded`.
     */
    async verifyRollbackPhase(input: { testId: number; system: LeasedSystem; os: string; deferred?: boolean }): Promise<PhaseVerdict> {
      const key = keyOf(input.testId, input.deferred ?? false);
      await phaseStarted(db, input.testId, 'verify_rollback');
      const test = await getTest(db, input.testId);
      const row = await db.selectFrom('patch_rollbacks').select(['details']).where('idempotency_key', '=', key).executeTakeFirst();
      const record = row?.details as Partial<RollbackRecord> | undefined;
      if (!test || !record?.expected) {
        const reason = 'there is no record of what the rollback should have left';
        await phaseFinished(db, input.testId, 'verify_rollback', 'failed', {}, reason);
        return { ok: false, reason };
      }
      const target = { systemId: input.system.systemId, minion: input.system.minion, name: input.system.name, os: input.os };
      const check = await guarded(() => verifyReverted(salt, target, record.expected as PackageInventory, test.kernel_before, signal()));
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const services = names.length ? await guarded(() => salt.serviceStatus(input.system.minion, names, { signal: signal() })) : {};
      const stopped = Object.entries(services).filter(([, up]) => !up).map(([n]) => n);
      const problems = [...check.differences, ...(stopped.length ? [`not running: ${stopped.join(', ')}`] : [])];
      const ok = problems.length === 0;
      const reason = problems.join('; ');
      await updateTest(db, input.testId, { rollback_verified: ok });
      await db
        .updateTable('patch_rollbacks')
        .set({ status: ok ? 'succeeded' : 'failed', completed_at: new Date(), error: ok ? null : reason })
        .where('idempotency_key', '=', key)
        .execute();
      await phaseFinished(db, input.testId, 'verify_rollback', ok ? 'passed' : 'failed', { differences: check.differences, kernel: check.kernel, services }, ok ? null : reason);
      return ok ? { ok } : { ok, reason };
    },

    /**
     * The end of a forced rollback of a passed test: a verified one withdraws the item (rolled_back); one that
     * failed leaves the item as it was — the patch is not known to be gone — and says why on the test.
     */
    async finishForcedRollback(input: { testId: number; queueId: number; verified: boolean; reason: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('patch_tests')
          .set(input.verified ? { status: 'rolled_back', failure_phase: 'rollback', failure_reason: input.reason } : { failure_phase: 'rollback', failure_reason: `forced rollback failed: ${input.reason}` })
          .where('id', '=', input.testId)
          .execute();
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (['passed', 'pending_approval'].includes(item.status) && input.verified) {
          await trx.updateTable('patch_test_queue').set({ status: 'rolled_back', status_reason: input.reason }).where('id', '=', input.queueId).execute();
        }
        if (input.verified) {
          const t = await trx.selectFrom('patch_tests').select(['workflow_id', 'test_system_name', 'cpu_delta', 'memory_delta']).where('id', '=', input.testId).executeTakeFirstOrThrow();
          await recordEvent(trx, 'test.rolled_back', {
            queue_id: input.queueId, test_id: input.testId, workflow_id: t.workflow_id, test_system: t.test_system_name, failure_phase: 'rollback',
            reason: input.reason, cpu_delta: t.cpu_delta, memory_delta: t.memory_delta,
          }, { dedupeKey: `test-rolled_back-${input.testId}`, workflowId: t.workflow_id });
        }
      });
    },
  };
}
