/**
 * snapper.* on btrfs systems (salt/modules/snapper.py shapes). A snapshot records the whole package
 * state (every family's builds, several kernels, added and removed packages), the service states and
 * the saved boot entry; undo puts back, through the Fleet, whatever changed between the two
 * snapshots (post 0 = the current system), so UYUNI sees the restored versions. The running kernel
 * stays: only a reboot changes it.
 */
import { argOf } from './args.js';
import { CommandExecutionError, InvalidArgumentsError, type ExecContext, type ExecFunction } from './exec-types.js';
import type { Snapshot, SnapshotType } from './snapshots.js';

interface State {
  packages: ReadonlyMap<string, readonly number[]>;
  services: Readonly<Record<string, boolean>>;
  savedKernel: number | undefined;
}

function currentState(ctx: ExecContext): State {
  const inv = ctx.fleet.inventoryState(ctx.system.id);
  return { packages: inv.families, services: { ...ctx.system.services }, savedKernel: inv.savedKernel };
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((id, i) => id === b[i]);

function checkConfig(ctx: ExecContext): void {
  const config = argOf(ctx.args, 0, 'config') ?? 'root';
  if (config !== 'root') throw new CommandExecutionError(`Error encountered: Unknown config: ${String(config)}`);
}

function intArg(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentsError(`${name} must be an integer`);
  return n;
}

function snapshotData(s: Snapshot): Record<string, unknown> {
  return {
    id: s.id,
    type: s.type,
    ...(s.type === 'post' ? { pre: s.pre } : {}),
    timestamp: s.timestamp,
    user: s.user,
    description: s.description,
    cleanup: s.cleanup,
    userdata: { ...s.userdata },
  };
}

function createSnapshot(ctx: ExecContext): number {
  checkConfig(ctx);
  const type = (ctx.args.kwargs.snapshot_type ?? 'single') as SnapshotType;
  if (!['single', 'pre', 'post'].includes(type)) throw new CommandExecutionError(`Invalid snapshot type '${String(type)}'`);
  const preNumber = intArg(ctx.args.kwargs.pre_number, 'pre_number');
  if (type === 'post') {
    if (preNumber === undefined) throw new CommandExecutionError("pre snapshot number 'pre_number' needs to be specified for snapshots of the 'post' type");
    if (!ctx.snapshots.get(ctx.system.id, preNumber)) throw new CommandExecutionError(`Error encountered: Snapshot '${preNumber}' not found.`);
  }
  const rawUserdata = ctx.args.kwargs.userdata;
  const userdata: Record<string, string> = { salt_jid: ctx.jid };
  if (rawUserdata && typeof rawUserdata === 'object' && !Array.isArray(rawUserdata)) {
    for (const [k, v] of Object.entries(rawUserdata)) userdata[k] = String(v);
  }
  const state = currentState(ctx);
  const description = ctx.args.kwargs.description;
  const snap = ctx.snapshots.add(ctx.system.id, {
    type,
    ...(type === 'post' ? { pre: preNumber as number } : {}),
    timestamp: Math.floor(ctx.fleet.now() / 1000),
    user: 'root',
    description: typeof description === 'string' ? description : `salt job ${ctx.jid}`,
    cleanup: typeof ctx.args.kwargs.cleanup_algorithm === 'string' ? ctx.args.kwargs.cleanup_algorithm : 'number',
    userdata,
    packages: state.packages,
    services: state.services,
    savedKernel: state.savedKernel,
  });
  return snap.id;
}

function listSnapshots(ctx: ExecContext): Record<string, unknown>[] {
  checkConfig(ctx);
  // Snapshot 0 is "current"; salt stamps it with the present time (its timestamp is -1 over D-Bus).
  const current = { id: 0, type: 'single', timestamp: Math.floor(ctx.fleet.now() / 1000), user: 'root', description: 'current', cleanup: '', userdata: {} };
  return [current, ...ctx.snapshots.list(ctx.system.id).map(snapshotData)];
}

function stateOf(ctx: ExecContext, num: number): State {
  if (num === 0) return currentState(ctx);
  const snap = ctx.snapshots.get(ctx.system.id, num);
  if (!snap) throw new CommandExecutionError(`Error encountered: Snapshot '${num}' not found.`);
  return snap;
}

function undo(ctx: ExecContext): Record<string, string> {
  checkConfig(ctx);
  const { fleet, system } = ctx;
  const last = ctx.snapshots.last(system.id);
  const numPre = intArg(ctx.args.kwargs.num_pre, 'num_pre') ?? last?.id;
  const numPost = intArg(ctx.args.kwargs.num_post, 'num_post') ?? 0;
  if (numPre === undefined) throw new CommandExecutionError('Error encountered: No snapshots to undo from.');
  const pre = stateOf(ctx, numPre);
  const post = stateOf(ctx, numPost);
  // `snapper undochange pre..post`: what changed between the two goes back to its pre state.
  const current = currentState(ctx);
  const restore = new Map<string, readonly number[]>();
  let create = 0;
  let modify = 0;
  let remove = 0;
  for (const [family, preIds] of pre.packages) {
    const curIds = current.packages.get(family) ?? [];
    if (sameIds(preIds, post.packages.get(family) ?? []) || sameIds(preIds, curIds)) continue;
    restore.set(family, preIds);
    const back = preIds.filter((id) => !curIds.includes(id)).length;
    const gone = curIds.filter((id) => !preIds.includes(id)).length;
    // One version replacing another rewrites its files; a kernel build (or a package) coming or going creates or deletes them.
    if (back === 1 && gone === 1 && !fleet.familyInfo(system.os, family).multi) modify++;
    else {
      create += back;
      remove += gone;
    }
  }
  let saved: number | undefined | 'keep' = 'keep';
  if (pre.savedKernel !== post.savedKernel && current.savedKernel !== pre.savedKernel) {
    saved = pre.savedKernel;
    modify++; // /boot/grub2/grubenv (RHEL) or /boot/grub/grubenv (Ubuntu)
  }
  fleet.restoreInventory(system.id, restore, saved);
  for (const [svc, running] of Object.entries(pre.services)) {
    if (post.services[svc] !== running && system.services[svc] !== running) {
      fleet.setServiceState(system.id, svc, running);
      modify++;
    }
  }
  ctx.stats.recordUndo(system.minionId);
  return { create: String(create), modify: String(modify), delete: String(remove) };
}

function deleteSnapshot(ctx: ExecContext): Record<string, unknown> {
  const raw = argOf(ctx.args, 0, 'snapshots_ids');
  const ids = (Array.isArray(raw) ? raw : [raw]).map((x) => intArg(x, 'snapshots_ids'));
  if (ids.some((x) => x === undefined || x === 0)) throw new CommandExecutionError('Error: Invalid snapshot ids');
  const missing = ids.filter((id) => !ctx.snapshots.get(ctx.system.id, id as number));
  if (missing.length > 0) throw new CommandExecutionError(`Error: Snapshots ${missing.join(', ')} not found`);
  const gone = ctx.snapshots.delete(ctx.system.id, ids as number[]);
  return { root: { ids: gone, status: 'deleted' } };
}

export const snapperFunctions: readonly ExecFunction[] = [
  { name: 'snapper.create_snapshot', optionalModule: 'snapper', run: createSnapshot },
  { name: 'snapper.list_snapshots', optionalModule: 'snapper', run: listSnapshots },
  { name: 'snapper.undo', optionalModule: 'snapper', duration: 'snapperMs', run: undo },
  { name: 'snapper.delete_snapshot', optionalModule: 'snapper', run: deleteSnapshot },
  {
    name: 'snapper.list_configs',
    optionalModule: 'snapper',
    run: () => ({ root: { SUBVOLUME: '/', NUMBER_CLEANUP: 'yes', TIMELINE_CREATE: 'no' } }),
  },
];
