import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { releaseTestSystem } from '../../db/queries/test-systems.js';
import { updateTest } from '../../db/queries/tests.js';
import { diffInventory, inventoryDifferences, type InventoryChanges, type KernelState, type PackageInventory } from '../../domain/package-inventory.js';
import { readKernelState } from '../shared/kernel.js';
import { revertPatch, verifyReverted, type RevertTarget } from '../shared/revert.js';
import { guarded } from './support.js';
import type { TestDeps } from './types.js';

// A quarantined test system is released only clean. The test that quarantined it (a reboot that never came
// back, a rollback that failed or was not verified) may have left its patch on the host: a hanging kernel as
// the boot default, a package at the new version. Released like that, the next — innocent — erratum would
// fail on it and that failure would count against it. So release compares the host with the restore point
// of that test, and can undo the test's recorded changes (and verify them) before it goes back in rotation.

export interface Residue {
  testId: number;
  advisoryName: string;
  differences: string[];
}

interface LastTest {
  id: number;
  advisory_name: string;
  inventory_before: PackageInventory | null;
  kernel_before: KernelState | null;
  inventory_changes: InventoryChanges | null;
}

export function createRestoreActivities(deps: TestDeps) {
  const { db, uyuni, salt, config } = deps;

  /** The system's last test, when it ended without a verified rollback (null: nothing of it can be left). */
  const unrestoredTest = async (systemId: number): Promise<LastTest | null> => {
    const row = await db
      .selectFrom('patch_tests as t')
      .innerJoin('patch_test_queue as q', 'q.id', 't.queue_id')
      .select(['t.id', 'q.advisory_name', 't.inventory_before', 't.kernel_before', 't.inventory_changes', 't.status', 't.rollback_verified'])
      .where('t.test_system_id', '=', systemId)
      .orderBy('t.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row || row.status !== 'failed' || row.rollback_verified === true || !row.inventory_before) return null;
    return row as LastTest;
  };

  const targetOf = async (systemId: number): Promise<RevertTarget> => {
    const s = await db.selectFrom('test_systems').select(['name', 'minion_id', 'os']).where('system_id', '=', systemId).executeTakeFirstOrThrow();
    return { systemId, minion: s.minion_id ?? s.name, name: s.name, os: s.os };
  };

  const differencesOf = async (target: RevertTarget, test: LastTest): Promise<string[]> => {
    const current = await guarded(() => salt.listInventory(target.minion));
    const differences = inventoryDifferences(test.inventory_before as PackageInventory, current);
    if (test.kernel_before) {
      const kernel = await guarded(() => readKernelState(salt, target.minion, target.os));
      if (kernel.running !== test.kernel_before.running) differences.push(`it runs kernel ${kernel.running}, not ${test.kernel_before.running} as before test ${test.id}`);
      if (test.kernel_before.bootDefault && kernel.bootDefault !== test.kernel_before.bootDefault) {
        differences.push(`its boot default is ${kernel.bootDefault ?? 'unknown'}, not ${test.kernel_before.bootDefault} as before test ${test.id}`);
      }
    }
    return differences;
  };

  return {
    /** What the quarantining test left on the host, or null when the host is as it was before that test. */
    async testSystemResidue(input: { systemId: number }): Promise<Residue | null> {
      const test = await unrestoredTest(input.systemId);
      if (!test) return null;
      const differences = await differencesOf(await targetOf(input.systemId), test);
      return differences.length ? { testId: test.id, advisoryName: test.advisory_name, differences } : null;
    },

    /**
     * Undoes what the quarantining test changed (downgrade, reinstall, old kernel as boot default with a
     * reboot onto it, remove what it added) and verifies the whole inventory against that test's restore
     * point. Recorded as a `patch_rollbacks` row of the test; the test's rollback_verified becomes true only
     * when the verification found nothing different.
     */
    async restoreTestSystem(input: { systemId: number; requestedBy: string }): Promise<{ ok: boolean; steps: string[]; differences: string[] }> {
      const test = await unrestoredTest(input.systemId);
      if (!test) return { ok: true, steps: [], differences: [] };
      const target = await targetOf(input.systemId);
      const signal = cancellationSignal();
      const key = `test-${test.id}-restore`;
      await db
        .insertInto('patch_rollbacks')
        .values({
          queue_id: (await db.selectFrom('patch_tests').select('queue_id').where('id', '=', test.id).executeTakeFirstOrThrow()).queue_id,
          scope: 'test', test_id: test.id, system_id: input.systemId, rollback_type: 'package', requested_by: input.requestedBy,
          reason: 'restored before the quarantined test system was released', idempotency_key: key,
        })
        .onConflict((oc) => oc.column('idempotency_key').doUpdateSet({ status: 'running', error: null, completed_at: null }))
        .execute();
      // Nothing ran on the quarantined host since its test: what differs from the restore point is the patch's.
      const changes = test.inventory_changes ?? diffInventory(test.inventory_before as PackageInventory, await guarded(() => salt.listInventory(target.minion, { signal })));
      const timing = { pollSeconds: config.test.pollSeconds, rebootTimeoutSeconds: config.test.rebootTimeoutSeconds, actionTimeoutSeconds: config.test.actionTimeoutSeconds };
      heartbeat({ restoring: target.name });
      const outcome = await guarded(() => revertPatch({ salt, uyuni }, target, { changes, kernelBefore: test.kernel_before }, timing, signal));
      const verified = outcome.ok
        ? await guarded(() => verifyReverted(salt, target, test.inventory_before as PackageInventory, test.kernel_before, signal))
        : null;
      const differences = outcome.ok ? (verified?.differences ?? []) : [outcome.reason];
      const ok = outcome.ok && differences.length === 0;
      await db
        .updateTable('patch_rollbacks')
        .set({ status: ok ? 'succeeded' : 'failed', error: ok ? null : differences.join('; '), details: json({ steps: outcome.steps, changes, differences }), completed_at: new Date() })
        .where('idempotency_key', '=', key)
        .execute();
      if (ok) await updateTest(db, test.id, { rollback_verified: true, rollback_type: 'package' });
      return { ok, steps: outcome.steps, differences };
    },

    /**
     * The end of a release: recorded in operator_actions (refused with the reasons, or recorded) and, when
     * nothing stands in the way, the quarantine lifted in the same transaction. True when released.
     */
    async finishRelease(input: { systemId: number; actor: string; restore: boolean; reasons: string[]; restored: unknown }): Promise<boolean> {
      const details = json({ system_id: input.systemId, restore: input.restore, restored: input.restored ?? null });
      if (input.reasons.length) {
        await db
          .insertInto('operator_actions')
          .values({ action: 'release_test_system', actor: input.actor, source: 'api', status: 'refused', refusal: input.reasons.join('; '), details })
          .execute();
        return false;
      }
      return db.transaction().execute(async (trx) => {
        await trx.insertInto('operator_actions').values({ action: 'release_test_system', actor: input.actor, source: 'api', status: 'recorded', details }).execute();
        return (await releaseTestSystem(trx, input.systemId)) !== undefined;
      });
    },
  };
}
