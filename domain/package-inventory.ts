// A system's installed packages before and after a patch, and what undoing the patch takes.
// A patch does more than upgrade the packages it names: a kernel update *adds* a package beside the old one
// (RPM `kernel*` are install-only: several versions installed at once; Ubuntu's `linux-image-<abi>` carry the
// version in their name), an update may pull in new dependencies, and an Obsoletes/Replaces may *remove* a
// package. A rollback that only downgrades the named packages leaves all of that behind; this module compares
// whole inventories instead.

/**
 * Every installed package of one system: name → its installed versions, sorted (several for install-only
 * packages). The shape of Salt's `pkg.list_pkgs versions_as_list=True`.
 */
export type PackageInventory = Record<string, string[]>;

/** The kernel a system runs and the one its boot loader starts next (null when it could not be read). */
export interface KernelState {
  running: string;
  bootDefault: string | null;
}

export interface PackageVersion {
  name: string;
  version: string;
}

export interface InventoryChanges {
  /** One version replaced by another (an upgrade, or a downgrade). */
  upgraded: { name: string; from: string; to: string }[];
  /** A package, or another version of an install-only package, that was not installed before. */
  added: PackageVersion[];
  /** A package version that is gone. */
  removed: PackageVersion[];
}

const minus = (a: readonly string[], b: readonly string[]) => a.filter((v) => !b.includes(v));
const names = (...inventories: PackageInventory[]) => [...new Set(inventories.flatMap((i) => Object.keys(i)))].sort();

/** Normalises a `pkg.list_pkgs` answer: comma-joined versions (without versions_as_list) become lists. */
export function toInventory(listPkgs: Record<string, string | readonly string[]>): PackageInventory {
  const out: PackageInventory = {};
  for (const [name, value] of Object.entries(listPkgs)) {
    const versions = (typeof value === 'string' ? value.split(',') : [...value]).map((v) => v.trim()).filter(Boolean);
    if (versions.length) out[name] = [...new Set(versions)].sort();
  }
  return out;
}

/**
 * What changed between two inventories. A name that had exactly one version before and after changed version
 * (`upgraded`); otherwise each new version is `added` and each vanished one `removed` (install-only packages,
 * new dependencies, obsoleted packages).
 */
export function diffInventory(before: PackageInventory, after: PackageInventory): InventoryChanges {
  const changes: InventoryChanges = { upgraded: [], added: [], removed: [] };
  for (const name of names(before, after)) {
    const b = before[name] ?? [];
    const a = after[name] ?? [];
    const gone = minus(b, a);
    const fresh = minus(a, b);
    if (gone.length === 0 && fresh.length === 0) continue;
    if (b.length === 1 && a.length === 1) {
      changes.upgraded.push({ name, from: b[0] as string, to: a[0] as string });
      continue;
    }
    for (const version of fresh) changes.added.push({ name, version });
    for (const version of gone) changes.removed.push({ name, version });
  }
  return changes;
}

export const changeCount = (c: InventoryChanges) => c.upgraded.length + c.added.length + c.removed.length;

/**
 * How to bring `current` back to `before`: versions to install (downgrade the upgraded, reinstall the
 * removed) and package versions to remove (what the patch added). Installs come first: a package removed
 * before its old version is back could take dependants with it.
 */
export interface RestorePlan {
  install: PackageVersion[];
  remove: PackageVersion[];
}

export function restorePlan(before: PackageInventory, current: PackageInventory): RestorePlan {
  const plan: RestorePlan = { install: [], remove: [] };
  for (const name of names(before, current)) {
    const b = before[name] ?? [];
    const c = current[name] ?? [];
    const missing = minus(b, c);
    const extra = minus(c, b);
    if (b.length === 1 && c.length === 1) {
      // A single-version package at another version: installing the old one replaces it.
      if (missing.length) plan.install.push({ name, version: b[0] as string });
      continue;
    }
    for (const version of missing) plan.install.push({ name, version });
    for (const version of extra) plan.remove.push({ name, version });
  }
  return plan;
}

export const planIsEmpty = (p: RestorePlan) => p.install.length === 0 && p.remove.length === 0;

/** Human-readable differences of `actual` from `expected`, one line each; empty when they are equal. */
export function inventoryDifferences(expected: PackageInventory, actual: PackageInventory): string[] {
  const out: string[] = [];
  for (const name of names(expected, actual)) {
    const e = expected[name] ?? [];
    const a = actual[name] ?? [];
    if (e.length === a.length && minus(e, a).length === 0) continue;
    if (e.length === 0) out.push(`${name} ${a.join(', ')} is installed; it was not before the patch`);
    else if (a.length === 0) out.push(`${name} is not installed; it was ${e.join(', ')} before the patch`);
    else out.push(`${name} is ${a.join(', ')}; it was ${e.join(', ')} before the patch`);
  }
  return out;
}

/**
 * The inventory `current` would have with `changes` (one patch's changes, recorded when it was applied)
 * undone, or the conflicts that make that impossible: a package the patch upgraded has been changed again
 * since (by a later patch on the same system), so putting the old version back would undo more than this
 * patch. Used both right after a failed test (then the result is the inventory from before the patch) and
 * for a patch that stayed on a test system while other tests ran after it.
 */
export function revertedInventory(current: PackageInventory, changes: InventoryChanges): { inventory: PackageInventory; conflicts: string[] } {
  const inventory: PackageInventory = Object.fromEntries(Object.entries(current).map(([n, v]) => [n, [...v]]));
  const conflicts: string[] = [];
  const set = (name: string, versions: string[]) => {
    if (versions.length) inventory[name] = [...new Set(versions)].sort();
    else delete inventory[name];
  };
  for (const u of changes.upgraded) {
    const now = inventory[u.name] ?? [];
    if (now.length === 1 && now[0] === u.to) set(u.name, [u.from]);
    else if (!(now.length === 1 && now[0] === u.from)) conflicts.push(`${u.name} is ${now.join(', ') || 'not installed'} now; the patch had changed it from ${u.from} to ${u.to}`);
  }
  for (const a of changes.added) set(a.name, (inventory[a.name] ?? []).filter((v) => v !== a.version));
  for (const r of changes.removed) set(r.name, [...(inventory[r.name] ?? []), r.version]);
  return { inventory, conflicts };
}
