import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import { bulkUpdate } from '../../db/queries/bulk-update.js';
import { chunk } from '../../domain/chunks.js';
import {
  inventoryDifferences,
  restorePlan,
  revertedInventory,
  type InventoryChanges,
  type KernelState,
  type PackageInventory,
  type PackageVersion,
} from '../../domain/package-inventory.js';
import type { TestTiming } from '../../workflows/messages.js';
import type { ActivityDeps } from '../index.js';
import { bootDefaultCommand, parseBootDefault } from '../shared/kernel.js';
import { revertPatch, verifyReverted } from '../shared/revert.js';
import { keepAlive, updateRows } from './batch-activities.js';
import { guarded } from './deploy-activities.js';

// The production rollback at fleet scale (deploymentRollback → one activity per batch of the rollout, never one
// per system). Per batch: ONE Salt call each for the current inventories, the running kernels and the boot
// defaults; the systems whose kernel the patch changed (it runs, or is the boot default) go the per-system way
// (boot the old kernel through UYUNI, shared/revert.ts), a few at a time; the others are undone with ONE
// pkg.install job per distinct set of old versions (a fleet-wide erratum: one for the whole batch) and one
// pkg.remove job per distinct set of added packages, then verified with one inventory call for the batch. Each
// system's outcome is its own: `rolled_back` only when its whole inventory (and kernel) is as before.

export interface RollbackBatch {
  wave: number;
  batch: number;
  systems: number;
}

export interface BatchRollbackResult {
  rolledBack: number;
  /** Each system not restored, with why (at most the batch's systems). */
  failures: { system: string; error: string }[];
}

/** Kernel-path systems reverted at once within a batch (each its own Salt calls and UYUNI reboot). */
const KERNEL_PATH_CONCURRENCY = 25;

type Outcome = { ok: boolean; error: string | null; details: Record<string, unknown> };

export function createBatchRollbackActivities(deps: Pick<ActivityDeps, 'db' | 'uyuni' | 'salt'>) {
  const { db, uyuni, salt } = deps;

  return {
    /** The batches (wave, batch) holding systems the rollout patched and that are not rolled back yet: the rollback's work list. */
    async rollbackBatches(input: { queueId: number }): Promise<{ os: string; batches: RollbackBatch[] }> {
      const item = await db.selectFrom('patch_test_queue').select('target_os').where('id', '=', input.queueId).executeTakeFirstOrThrow();
      const rows = await db
        .selectFrom('patch_deployments')
        .select(['wave', sql<number>`coalesce(batch, 0)`.as('batch'), sql<number>`count(*)::integer`.as('systems')])
        .where('queue_id', '=', input.queueId)
        .where('patched', '=', true)
        .where('status', '!=', 'rolled_back')
        .groupBy(['wave', sql`coalesce(batch, 0)`])
        .orderBy('wave')
        .orderBy(sql`coalesce(batch, 0)`)
        .execute();
      return { os: item.target_os, batches: rows.map((r) => ({ wave: r.wave, batch: r.batch, systems: r.systems })) };
    },

    /**
     * Undoes the patch on one batch's patched systems not yet rolled back (retried: the rolled-back ones are
     * left alone, the others continue from their current inventory) and verifies each. Transport failures
     * retry the activity; a refusal or no answer fails only that system (`rollback_failed` with the reason).
     */
    async rollbackProductionBatch(input: { queueId: number; wave: number; batch: number; requestedBy: string; reason: string; os: string; timing: TestTiming }): Promise<BatchRollbackResult> {
      return keepAlive(async () => {
        const rows = await db
          .selectFrom('patch_deployments')
          .select(['id', 'workflow_id', 'system_id', 'system_name', 'services', 'inventory_changes', 'kernel_before', 'error'])
          .where('queue_id', '=', input.queueId)
          .where('wave', '=', input.wave)
          .where(sql`coalesce(batch, 0)`, '=', input.batch)
          .where('patched', '=', true)
          .where('status', '!=', 'rolled_back')
          .orderBy('system_id')
          .execute();
        if (rows.length === 0) return { rolledBack: 0, failures: [] };
        const keyOf = (r: (typeof rows)[number]) => `deploy-${r.workflow_id}-${r.system_id}`;
        const minionOf = (r: (typeof rows)[number]) => (r.services as { minion?: string } | null)?.minion ?? r.system_name;
        await db
          .insertInto('patch_rollbacks')
          .values(rows.map((r) => ({
            queue_id: input.queueId, scope: 'production' as const, deployment_id: r.id, system_id: r.system_id, rollback_type: 'package' as const,
            requested_by: input.requestedBy, reason: input.reason, idempotency_key: keyOf(r),
          })))
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .execute();

        const outcomes = new Map<number, Outcome>();
        const fail = (r: (typeof rows)[number], error: string, details: Record<string, unknown> = {}) => outcomes.set(r.id, { ok: false, error, details });
        const signal = cancellationSignal();
        const withChanges = rows.filter((r) => {
          if (r.inventory_changes) return true;
          fail(r, 'what the patch changed on this system was never recorded, so it cannot be undone with certainty');
          return false;
        });

        // Whose kernel the patch changed: those need the old kernel booted, one by one (shared/revert.ts).
        const withKernel = withChanges.filter((r) => r.kernel_before);
        const minions = withKernel.map(minionOf);
        const [running, boot] = await guarded(() =>
          Promise.all([
            salt.runCommandMany(minions, 'uname -r', { signal, timeoutSeconds: 60 }),
            salt.runCommandMany(minions, bootDefaultCommand(input.os), { signal, timeoutSeconds: 60 }),
          ]),
        );
        const kernelPath = new Set<number>();
        for (const r of withKernel) {
          const before = r.kernel_before as KernelState;
          const run = running[minionOf(r)];
          const bd = boot[minionOf(r)];
          if (!run?.ok || !bd?.ok) {
            fail(r, `the rollback could not start: its kernel state could not be read (${(!run?.ok ? run?.error : !bd?.ok ? bd?.error : null) ?? 'no answer'})`);
            continue;
          }
          const bootDefault = parseBootDefault(input.os, bd.value);
          if (run.value !== before.running || (before.bootDefault && bootDefault !== before.bootDefault)) kernelPath.add(r.id);
        }
        heartbeat({ kernelPath: kernelPath.size });
        for (const part of chunk(withChanges.filter((r) => kernelPath.has(r.id)), KERNEL_PATH_CONCURRENCY)) {
          await Promise.all(part.map(async (r) => {
            const target = { systemId: r.system_id, minion: minionOf(r), name: r.system_name, os: input.os };
            const timing = { pollSeconds: input.timing.pollSeconds, rebootTimeoutSeconds: input.timing.rebootTimeoutSeconds, actionTimeoutSeconds: input.timing.actionTimeoutSeconds };
            const changes = r.inventory_changes as InventoryChanges;
            const reverted = await guarded(() => revertPatch({ salt, uyuni }, target, { changes, kernelBefore: r.kernel_before }, timing, signal));
            if (!reverted.ok) return void fail(r, reverted.reason, { steps: reverted.steps, changes });
            const check = await guarded(() => verifyReverted(salt, target, reverted.expected, r.kernel_before, signal));
            outcomes.set(r.id, { ok: check.ok, error: check.ok ? null : check.differences.join('; '), details: { steps: reverted.steps, changes, differences: check.differences, kernel: check.kernel } });
          }));
        }

        // The others: what to install and remove, from the current inventories (one Salt call for all of them).
        const batchPath = withChanges.filter((r) => !kernelPath.has(r.id) && !outcomes.has(r.id));
        const current = await guarded(() => salt.listInventories(batchPath.map(minionOf), { signal }));
        const plans = new Map<number, { expected: PackageInventory; install: PackageVersion[]; remove: PackageVersion[]; steps: string[] }>();
        for (const r of batchPath) {
          const inv = current[minionOf(r)];
          if (!inv?.ok) {
            fail(r, `the rollback could not start: the current inventory could not be read (${inv?.error ?? 'no answer'})`);
            continue;
          }
          const { inventory: expected, conflicts } = revertedInventory(inv.value, r.inventory_changes as InventoryChanges);
          if (conflicts.length) {
            fail(r, `cannot undo the patch alone: ${conflicts.join('; ')}`, { changes: r.inventory_changes });
            continue;
          }
          const plan = restorePlan(expected, inv.value);
          plans.set(r.id, { expected, install: plan.install, remove: plan.remove, steps: [] });
        }
        // ONE job per distinct package list: systems that need the same old versions share it.
        const step = async (fun: 'pkg.install' | 'pkg.remove', listOf: (p: { install: PackageVersion[]; remove: PackageVersion[] }) => PackageVersion[]) => {
          const groups = new Map<string, { packages: PackageVersion[]; rows: typeof batchPath }>();
          for (const r of batchPath) {
            const p = plans.get(r.id);
            if (!p || outcomes.has(r.id) || listOf(p).length === 0) continue;
            const key = JSON.stringify(listOf(p));
            const g = groups.get(key) ?? { packages: listOf(p), rows: [] };
            g.rows.push(r);
            groups.set(key, g);
          }
          const jobTiming = { deadlineMs: input.timing.actionTimeoutSeconds * 1000, pollMs: input.timing.pollSeconds * 1000, onPoll: () => heartbeat({ rollback: fun }), signal };
          for (const g of groups.values()) {
            const answers = await guarded(() => salt.packageJobMany(g.rows.map(minionOf), fun, g.packages, jobTiming));
            const what = g.packages.map((p) => `${p.name}-${p.version}`).join(', ');
            for (const r of g.rows) {
              const a = answers[minionOf(r)];
              if (a?.ok) plans.get(r.id)!.steps.push(`${fun === 'pkg.install' ? 'installed' : 'removed'} ${what} (one Salt job for ${g.rows.length} systems)`);
              else fail(r, `${fun === 'pkg.install' ? 'the old versions could not be installed' : 'the packages the patch added could not be removed'}: ${a?.error ?? 'no answer'}`, { steps: plans.get(r.id)!.steps, changes: r.inventory_changes });
            }
          }
        };
        await step('pkg.install', (p) => p.install);
        await step('pkg.remove', (p) => p.remove);

        // Verified: the whole inventory as before the patch, and the kernel it ran (one call each for the batch).
        const toVerify = batchPath.filter((r) => plans.has(r.id) && !outcomes.has(r.id));
        const verifyKernel = toVerify.filter((r) => r.kernel_before);
        const [after, kernels] = await guarded(() =>
          Promise.all([salt.listInventories(toVerify.map(minionOf), { signal }), salt.runCommandMany(verifyKernel.map(minionOf), 'uname -r', { signal, timeoutSeconds: 60 })]),
        );
        for (const r of toVerify) {
          const p = plans.get(r.id)!;
          const inv = after[minionOf(r)];
          if (!inv?.ok) {
            fail(r, `the rollback ran, but the inventory after it could not be read, so it is not verified: ${inv?.error ?? 'no answer'}`, { steps: p.steps, changes: r.inventory_changes });
            continue;
          }
          const differences = inventoryDifferences(p.expected, inv.value);
          const before = r.kernel_before as KernelState | null;
          if (before) {
            const k = kernels[minionOf(r)];
            if (!k?.ok) differences.push(`the running kernel could not be read: ${k?.error ?? 'no answer'}`);
            else if (k.value !== before.running) differences.push(`the running kernel is ${k.value}; it was ${before.running} before the patch`);
          }
          outcomes.set(r.id, { ok: differences.length === 0, error: differences.length ? differences.join('; ') : null, details: { steps: p.steps, changes: r.inventory_changes, differences } });
        }

        const now = new Date().toISOString();
        await updateRows(db, rows.map((r) => {
          const o = outcomes.get(r.id)!;
          return { id: r.id, status: o.ok ? 'rolled_back' : 'rollback_failed', error: o.ok ? r.error : o.error };
        }), { status: 'text', error: 'text' });
        await bulkUpdate(db, 'patch_rollbacks', { column: 'idempotency_key', type: 'text' }, rows.map((r) => {
          const o = outcomes.get(r.id)!;
          return { idempotency_key: keyOf(r), status: o.ok ? 'succeeded' : 'failed', completed_at: now, details: o.details, error: o.error };
        }), { status: 'text', completed_at: 'timestamptz', details: 'jsonb', error: 'text' });
        const failures = rows.filter((r) => !outcomes.get(r.id)!.ok).map((r) => ({ system: r.system_name, error: (outcomes.get(r.id)!.error ?? 'unknown').slice(0, 500) }));
        return { rolledBack: rows.length - failures.length, failures };
      });
    },
  };
}
