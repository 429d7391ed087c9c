// Checks and converts the return values of the execution functions the test engine uses
// (reference §1.8). A value of the wrong shape is a SaltProtocolError naming the function: better
// than letting `undefined` travel into a verdict.
import { SaltProtocolError } from './errors.js';
import { isRecord } from './results.js';
import { toInventory, type PackageInventory } from '../../domain/package-inventory.js';
import type { CommandResult, Grains, PackageChanges, PackageVersions, SnapperSnapshot, SnapperUndoCounts, UptimeResult } from './types.js';

function wrong(fun: string, what: string): SaltProtocolError {
  return new SaltProtocolError(`unexpected return: ${what}`, { fun });
}

/** pkg.list_pkgs → `{name: version}`; several installed versions (RPM kernels) stay comma-joined. */
export function toPackageVersions(fun: string, ret: unknown): PackageVersions {
  if (!isRecord(ret)) throw wrong(fun, 'expected {name: version}');
  const out: PackageVersions = {};
  for (const [name, version] of Object.entries(ret)) {
    if (typeof version !== 'string') throw wrong(fun, `version of ${name} is not a string`);
    out[name] = version;
  }
  return out;
}

/** pkg.list_pkgs versions_as_list=True → `{name: [versions]}` (a plain string is accepted too: older minions). */
export function toPackageInventory(fun: string, ret: unknown): PackageInventory {
  if (!isRecord(ret)) throw wrong(fun, 'expected {name: [versions]}');
  const raw: Record<string, string | string[]> = {};
  for (const [name, versions] of Object.entries(ret)) {
    if (typeof versions === 'string') raw[name] = versions;
    else if (Array.isArray(versions) && versions.every((v) => typeof v === 'string')) raw[name] = versions as string[];
    else throw wrong(fun, `versions of ${name} are not a list of strings`);
  }
  return toInventory(raw);
}

/** cmd.run_all → `{pid, retcode, stdout, stderr}`. */
export function toCommandResult(fun: string, ret: unknown): CommandResult {
  if (!isRecord(ret) || typeof ret.retcode !== 'number') throw wrong(fun, 'expected {retcode, stdout, stderr}');
  return { retcode: ret.retcode, stdout: typeof ret.stdout === 'string' ? ret.stdout : '', stderr: typeof ret.stderr === 'string' ? ret.stderr : '' };
}

/** pkg.version with one name → a string, `""` when not installed (returned as null). */
export function toPackageVersion(fun: string, ret: unknown): string | null {
  if (typeof ret !== 'string') throw wrong(fun, 'expected a version string');
  return ret === '' ? null : ret;
}

/** pkg.install → `{name: {old, new}}`, `{}` when nothing changed. */
export function toPackageChanges(fun: string, ret: unknown): PackageChanges {
  if (!isRecord(ret)) throw wrong(fun, 'expected {name: {old, new}}');
  const out: PackageChanges = {};
  for (const [name, change] of Object.entries(ret)) {
    if (!isRecord(change) || typeof change.old !== 'string' || typeof change.new !== 'string') {
      throw wrong(fun, `change of ${name} is not {old, new} strings`);
    }
    out[name] = { old: change.old, new: change.new };
  }
  return out;
}

export function toGrains(fun: string, ret: unknown): Grains {
  if (!isRecord(ret)) throw wrong(fun, 'expected a grains object');
  return ret as Grains;
}

/** status.uptime → `{seconds, since_t, since_iso, ...}`. */
export function toUptime(fun: string, ret: unknown): UptimeResult {
  if (!isRecord(ret) || typeof ret.seconds !== 'number' || typeof ret.since_t !== 'number' || typeof ret.since_iso !== 'string') {
    throw wrong(fun, 'expected {seconds, since_t, since_iso}');
  }
  return { kind: 'up', seconds: ret.seconds, sinceT: ret.since_t, sinceIso: ret.since_iso };
}

export function toBoolean(fun: string, ret: unknown): boolean {
  if (typeof ret !== 'boolean') throw wrong(fun, 'expected a boolean');
  return ret;
}

/** snapper.create_snapshot → the new snapshot number. */
export function toSnapshotNumber(fun: string, ret: unknown): number {
  if (typeof ret !== 'number' || !Number.isInteger(ret)) throw wrong(fun, 'expected a snapshot number');
  return ret;
}

const SNAPSHOT_TYPES = new Set(['single', 'pre', 'post']);

export function toSnapshots(fun: string, ret: unknown): SnapperSnapshot[] {
  if (!Array.isArray(ret)) throw wrong(fun, 'expected a list of snapshots');
  return ret.map((entry: unknown, index) => {
    if (
      !isRecord(entry) ||
      typeof entry.id !== 'number' ||
      typeof entry.timestamp !== 'number' ||
      typeof entry.type !== 'string' ||
      !SNAPSHOT_TYPES.has(entry.type)
    ) {
      throw wrong(fun, `snapshot [${index}] lacks id/type/timestamp`);
    }
    return {
      id: entry.id,
      type: entry.type as SnapperSnapshot['type'],
      pre: typeof entry.pre === 'number' ? entry.pre : undefined,
      timestamp: entry.timestamp,
      user: typeof entry.user === 'string' ? entry.user : undefined,
      description: typeof entry.description === 'string' ? entry.description : '',
      cleanup: typeof entry.cleanup === 'string' ? entry.cleanup : undefined,
      userdata: isRecord(entry.userdata) ? entry.userdata : {},
    };
  });
}

/** snapper.undo → `{"create":"N","modify":"N","delete":"N"}` (strings on the wire). */
export function toUndoCounts(fun: string, ret: unknown): SnapperUndoCounts {
  if (!isRecord(ret)) throw wrong(fun, 'expected {create, modify, delete}');
  const count = (key: 'create' | 'modify' | 'delete'): number => {
    const value = ret[key];
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : Number.NaN;
    if (!Number.isInteger(n)) throw wrong(fun, `${key} is not a count`);
    return n;
  };
  return { create: count('create'), modify: count('modify'), delete: count('delete') };
}
