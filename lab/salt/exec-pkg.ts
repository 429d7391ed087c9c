/**
 * pkg.* over the fleet (aptpkg on Ubuntu, yumpkg on RHEL). Installs and removals go through the
 * shared Fleet, so UYUNI's installed-package list and relevant errata follow the packages.
 *
 * Shapes (reference/salt-api.md §1.8, salt/modules/pkg_resource.py, yumpkg.py, aptpkg.py):
 * - list_pkgs: `{name: "v"}`, several installed versions (RHEL install-only kernels) comma-joined in
 *   pkg_resource.sort_pkglist's order (Python's `sorted`, a plain string sort — 427.100.1 before
 *   427.13.1); `versions_as_list=True` gives the lists themselves.
 * - install / remove: `salt.utils.data.compare_dicts(old, new)` of list_pkgs before and after:
 *   `{name: {old, new}}` with comma-joined strings, `''` for absent.
 * - failures: CommandExecutionError("Error occurred installing package(s)" / "Problem encountered
 *   ...") with the tool's stderr under `errors` → the `ERROR: ...` string, retcode 1.
 */
import { FleetError, kernelReleaseOf, packageVersionString, type Fleet, type LabSystem, type PackageBuild, type RemoveRefusal, type RemoveTarget } from '../fleet/index.js';
import { argOf, type CallArgs } from './args.js';
import { CommandExecutionError, InvalidArgumentsError, type ExecContext, type ExecFunction } from './exec-types.js';
import { buildsNamed, findBuildByVersion } from './package-index.js';

interface Wanted {
  name: string;
  version?: string;
}

type Changes = Record<string, { old: string; new: string }>;

/** name → installed versions in pkg_resource.sort_pkglist's order (Python `sorted(set(...))`). */
function listByName(fleet: Fleet, sys: LabSystem): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of fleet.installedPackages(sys.id)) {
    const list = out.get(p.name);
    const v = packageVersionString(p);
    if (list) list.push(v);
    else out.set(p.name, [v]);
  }
  for (const [name, list] of out) out.set(name, [...new Set(list)].sort());
  return out;
}

function stringified(fleet: Fleet, sys: LabSystem): Map<string, string> {
  return new Map([...listByName(fleet, sys)].map(([n, vs]) => [n, vs.join(',')]));
}

/** salt.utils.data.compare_dicts: keys whose value changed, appeared (old '') or vanished (new ''). */
function compareDicts(before: Map<string, string>, after: Map<string, string>): Changes {
  const out: Changes = {};
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const n of names) {
    const o = before.get(n) ?? '';
    const v = after.get(n) ?? '';
    if (o !== v) out[n] = { old: o, new: v };
  }
  return out;
}

/** salt.utils.data.is_true. */
function isTrue(value: unknown): boolean {
  if (typeof value === 'string') return ['true', 'yes', '1', 'on'].includes(value.toLowerCase());
  return value === true || value === 1;
}

function wantedPackages(args: CallArgs): Wanted[] {
  let pkgs = args.kwargs.pkgs;
  if (typeof pkgs === 'string') {
    try {
      pkgs = JSON.parse(pkgs) as unknown;
    } catch {
      throw new InvalidArgumentsError('pkgs must be a list');
    }
  }
  if (pkgs !== undefined && pkgs !== null) {
    if (!Array.isArray(pkgs)) throw new InvalidArgumentsError('pkgs must be a list');
    const out: Wanted[] = [];
    for (const item of pkgs) {
      if (typeof item === 'string') out.push({ name: item });
      else if (item && typeof item === 'object' && !Array.isArray(item)) {
        for (const [name, version] of Object.entries(item)) {
          // Salt stringifies versions; a number here is the YAML 3006.10 → 3006.1 trap, kept as given.
          out.push(version === null || version === undefined || version === '' ? { name } : { name, version: String(version) });
        }
      } else throw new InvalidArgumentsError(`invalid entry in pkgs: ${JSON.stringify(item)}`);
    }
    return out;
  }
  const name = argOf(args, 0, 'name');
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentsError("one of 'name' or 'pkgs' is required");
  const version = args.kwargs.version;
  return [version === undefined || version === null ? { name } : { name, version: String(version) }];
}

function indented(lines: readonly string[]): string {
  return lines.map((e) => `    - ${e.split('\n').join('\n      ')}`).join('\n');
}

function installError(sys: LabSystem, errors: string[]): CommandExecutionError {
  const head = sys.os === 'ubuntu' ? 'Problem encountered installing package(s)' : 'Error occurred installing package(s)';
  return new CommandExecutionError(head, `errors:\n${indented(errors)}\nchanges:`);
}

function removeError(sys: LabSystem, errors: string[]): CommandExecutionError {
  const head = sys.os === 'ubuntu' ? 'Problem encountered removing package(s)' : 'Error occurred removing package(s)';
  return new CommandExecutionError(head, `errors:\n${indented(errors)}\nchanges:`);
}

function pkgInstall(ctx: ExecContext): Changes {
  const { fleet, system: sys } = ctx;
  const wanted = wantedPackages(ctx.args);
  const targets: PackageBuild[] = [];
  const errors: string[] = [];
  for (const w of wanted) {
    const builds = buildsNamed(fleet, sys.os, w.name);
    if (builds.length === 0) {
      errors.push(sys.os === 'ubuntu' ? `E: Unable to locate package ${w.name}` : `Error: Unable to find a match: ${w.name}`);
      continue;
    }
    if (w.version !== undefined) {
      const target = findBuildByVersion(builds, w.version);
      if (target) targets.push(target);
      else errors.push(sys.os === 'ubuntu' ? `E: Version '${w.version}' for '${w.name}' was not found` : `Error: Unable to find a match: ${w.name}-${w.version}`);
      continue;
    }
    // No pin: the newest build the channels carry (an ABI-named kernel package has just its own).
    targets.push(builds[builds.length - 1] as PackageBuild);
  }
  // apt and dnf resolve the whole transaction first: one bad pin means nothing is installed.
  if (errors.length > 0) throw installError(sys, errors);
  const before = stringified(fleet, sys);
  try {
    fleet.installPackages(sys.id, targets);
  } catch (err) {
    if (err instanceof FleetError && err.code === 'install_failed') throw installError(sys, [err.message]);
    throw err;
  }
  const changes = compareDicts(before, stringified(fleet, sys));
  for (const [name, change] of Object.entries(changes)) if (change.new !== '') ctx.stats.recordInstall(sys.minionId, name);
  return changes;
}

/**
 * yumpkg removes `name-version` when a version is given and installed (skipping it otherwise), every
 * installed version without one; aptpkg removes by name only. Names not installed are skipped.
 */
function removeTargets(fleet: Fleet, sys: LabSystem, wanted: readonly Wanted[]): RemoveTarget[] {
  const out: RemoveTarget[] = [];
  const installed = fleet.installedPackages(sys.id);
  for (const w of wanted) {
    const mine = installed.filter((p) => p.name === w.name);
    if (mine.length === 0) continue;
    const family = (mine[0] as PackageBuild).family;
    const multi = fleet.familyInfo(sys.os, family).multi;
    if (sys.os === 'rhel' && w.version !== undefined) {
      const build = findBuildByVersion(mine, w.version);
      if (build) out.push({ family, build });
      continue;
    }
    if (multi) for (const build of mine) out.push({ family, build });
    else out.push({ family });
  }
  return out;
}

/** dnf's protect_running_kernel error, or the linux-image prerm aborting under DEBIAN_FRONTEND=noninteractive. */
function refusalText(sys: LabSystem, refused: readonly RemoveRefusal[]): string {
  const kernel = (refused[0] as RemoveRefusal).build;
  if (sys.os === 'rhel') return 'Error: The operation would result in removing the following protected packages: kernel-core';
  const name = kernel.name;
  return [
    `E: You are attempting to remove the running kernel (version ${kernelReleaseOf(kernel)}). Removing it can make the system unbootable; the kernel removal is aborted because debconf is non-interactive.`,
    `dpkg: error processing package ${name} (--remove):`,
    ` installed ${name} package pre-removal script subprocess returned error exit status 1`,
    'Errors were encountered while processing:',
    ` ${name}`,
    'E: Sub-process /usr/bin/dpkg returned an error code (1)',
  ].join('\n');
}

function pkgRemove(ctx: ExecContext): Changes {
  const { fleet, system: sys } = ctx;
  const targets = removeTargets(fleet, sys, wantedPackages(ctx.args));
  if (targets.length === 0) return {};
  const before = stringified(fleet, sys);
  const { refused } = fleet.removePackages(sys.id, targets);
  if (refused.length > 0) throw removeError(sys, [refusalText(sys, refused)]);
  return compareDicts(before, stringified(fleet, sys));
}

function pkgVersion(ctx: ExecContext): string | Record<string, string> {
  const names = ctx.args.positional.map(String);
  if (names.length === 0) throw new InvalidArgumentsError('pkg.version requires at least one package name');
  const installed = stringified(ctx.fleet, ctx.system);
  const versionOf = (n: string) => installed.get(n) ?? '';
  if (names.length === 1) return versionOf(names[0] as string);
  return Object.fromEntries(names.map((n) => [n, versionOf(n)]));
}

/** Newer build than installed, or '' (already newest / not available), per name. */
function latestVersion(ctx: ExecContext): string | Record<string, string> {
  const names = ctx.args.positional.map(String);
  if (names.length === 0) throw new InvalidArgumentsError('pkg.latest_version requires at least one package name');
  const installed = ctx.fleet.installedPackages(ctx.system.id);
  const latest = (n: string) => {
    const builds = buildsNamed(ctx.fleet, ctx.system.os, n);
    const newest = builds[builds.length - 1];
    if (!newest) return '';
    const mine = installed.filter((p) => p.name === n);
    const top = mine[mine.length - 1];
    return top && top.build >= newest.build ? '' : packageVersionString(newest);
  };
  if (names.length === 1) return latest(names[0] as string);
  return Object.fromEntries(names.map((n) => [n, latest(n)]));
}

/** Installed names with a newer build in the channels (ABI-named kernels never upgrade: new names come instead). */
function listUpgrades(ctx: ExecContext): Record<string, string> {
  const { fleet, system } = ctx;
  const out: Record<string, string> = {};
  const newestByName = new Map<string, PackageBuild>();
  for (const p of fleet.installedPackages(system.id)) newestByName.set(p.name, p);
  for (const [name, top] of newestByName) {
    const builds = buildsNamed(fleet, system.os, name);
    const newest = builds[builds.length - 1] as PackageBuild;
    if (newest.build > top.build) out[name] = packageVersionString(newest);
  }
  return out;
}

export const pkgFunctions: readonly ExecFunction[] = [
  {
    name: 'pkg.list_pkgs',
    run: ({ fleet, system, args }) => {
      const asList = isTrue(args.kwargs.versions_as_list);
      const byName = [...listByName(fleet, system)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(byName.map(([n, vs]) => [n, asList ? vs : vs.join(',')]));
    },
  },
  { name: 'pkg.version', run: pkgVersion },
  { name: 'pkg.latest_version', run: latestVersion },
  { name: 'pkg.list_upgrades', run: listUpgrades },
  { name: 'pkg.install', duration: 'pkgInstallMs', run: pkgInstall },
  { name: 'pkg.remove', duration: 'pkgInstallMs', run: pkgRemove },
];
