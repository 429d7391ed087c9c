import { heartbeat } from '@temporalio/activity';
import {
  inventoryDifferences,
  restorePlan,
  revertedInventory,
  type InventoryChanges,
  type KernelState,
  type PackageInventory,
} from '../../domain/package-inventory.js';
import type { SaltClient } from '../salt/client.js';
import { SaltExecutionError } from '../salt/errors.js';
import type { UyuniClient } from '../uyuni/client.js';
import { readKernelState, setBootDefault } from './kernel.js';
import { rebootThroughUyuni } from './reboot.js';

// Undoing one patch on one system, for the test engine and the production rollback alike: from the changes
// recorded when the patch was applied (upgraded, added, removed packages) and the kernel state before it.
// Downgrade the upgraded and reinstall the removed first; when the patch's kernel is running, make the old
// one the boot default and reboot onto it (a running kernel cannot be removed); then remove what the patch
// added. The caller verifies the result against `expected` (the whole inventory).

export interface RevertTarget {
  systemId: number;
  minion: string;
  name: string;
  os: string;
}

export interface RevertTiming {
  pollSeconds: number;
  rebootTimeoutSeconds: number;
  actionTimeoutSeconds: number;
}

export type RevertOutcome =
  | { ok: true; expected: PackageInventory; steps: string[]; rebooted: boolean }
  | { ok: false; reason: string; hung: boolean; expected: PackageInventory | null; steps: string[] };

const describeError = (err: unknown) => (err instanceof SaltExecutionError ? err.message : err instanceof Error ? err.message : String(err));

export async function revertPatch(
  clients: { salt: SaltClient; uyuni: Pick<UyuniClient, 'scheduleReboot'> },
  target: RevertTarget,
  record: { changes: InventoryChanges; kernelBefore: KernelState | null },
  timing: RevertTiming,
  signal?: AbortSignal,
): Promise<RevertOutcome> {
  const { salt, uyuni } = clients;
  const call = signal ? { signal } : {};
  const steps: string[] = [];
  const current = await salt.listInventory(target.minion, call);
  const { inventory: expected, conflicts } = revertedInventory(current, record.changes);
  if (conflicts.length) return { ok: false, reason: `cannot undo the patch alone: ${conflicts.join('; ')}`, hung: false, expected: null, steps };
  const plan = restorePlan(expected, current);
  const jobTiming = { deadlineMs: timing.actionTimeoutSeconds * 1000, pollMs: timing.pollSeconds * 1000, onPoll: () => heartbeat({ revert: target.minion }), ...call };

  if (plan.install.length) {
    try {
      await salt.installVersions(target.minion, plan.install, jobTiming);
    } catch (err) {
      if (!(err instanceof SaltExecutionError)) throw err;
      return { ok: false, reason: `the old versions could not be installed: ${describeError(err)}`, hung: false, expected, steps };
    }
    steps.push(`installed ${plan.install.map((p) => `${p.name}-${p.version}`).join(', ')}`);
  }

  let rebooted = false;
  if (record.kernelBefore) {
    const now = await readKernelState(salt, target.minion, target.os, call);
    if (now.running !== record.kernelBefore.running) {
      // The patch's kernel runs: boot the old one first (nothing can remove the running kernel).
      await setBootDefault(salt, target.minion, target.os, record.kernelBefore.running, call);
      steps.push(`boot default set to ${record.kernelBefore.running}`);
      const boot = await rebootThroughUyuni(uyuni, salt, target, { timeoutSeconds: timing.rebootTimeoutSeconds, pollSeconds: timing.pollSeconds, ...call });
      if (!boot.back) {
        return { ok: false, reason: `${target.name} did not come back from the rollback reboot within ${timing.rebootTimeoutSeconds} s`, hung: true, expected, steps };
      }
      rebooted = true;
      const after = await readKernelState(salt, target.minion, target.os, call);
      steps.push(`rebooted onto ${after.running}`);
      if (after.running !== record.kernelBefore.running) {
        return { ok: false, reason: `${target.name} booted ${after.running}, not the kernel it ran before the patch (${record.kernelBefore.running})`, hung: false, expected, steps };
      }
    } else if (record.kernelBefore.bootDefault && now.bootDefault !== record.kernelBefore.bootDefault) {
      await setBootDefault(salt, target.minion, target.os, record.kernelBefore.bootDefault, call);
      steps.push(`boot default set back to ${record.kernelBefore.bootDefault}`);
    }
  }

  if (plan.remove.length) {
    try {
      await salt.removePackages(target.minion, plan.remove, jobTiming);
    } catch (err) {
      if (!(err instanceof SaltExecutionError)) throw err;
      return { ok: false, reason: `the packages the patch added could not be removed: ${describeError(err)}`, hung: false, expected, steps };
    }
    steps.push(`removed ${plan.remove.map((p) => `${p.name}-${p.version}`).join(', ')}`);
  }
  return { ok: true, expected, steps, rebooted };
}

/** The whole inventory (and the running kernel) compared with what the rollback should have left. */
export async function verifyReverted(
  salt: SaltClient,
  target: RevertTarget,
  expected: PackageInventory,
  kernelBefore: KernelState | null,
  signal?: AbortSignal,
): Promise<{ ok: boolean; differences: string[]; inventory: PackageInventory; kernel: KernelState | null }> {
  const call = signal ? { signal } : {};
  const inventory = await salt.listInventory(target.minion, call);
  const differences = inventoryDifferences(expected, inventory);
  let kernel: KernelState | null = null;
  if (kernelBefore) {
    kernel = await readKernelState(salt, target.minion, target.os, call);
    if (kernel.running !== kernelBefore.running) differences.push(`the running kernel is ${kernel.running}; it was ${kernelBefore.running} before the patch`);
  }
  return { ok: differences.length === 0, differences, inventory, kernel };
}
