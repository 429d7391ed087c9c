/**
 * pkg.* over the fleet (aptpkg on Ubuntu, yumpkg on RHEL). Installs go through the shared Fleet,
 * so UYUNI's installed-package list and relevant errata follow: a downgrade below an applied
 * erratum's build makes it relevant again and undoes its effects; an upgrade that covers an
 * erratum makes it irrelevant.
 */
import { packageVersionString, type Fleet, type LabSystem, type PackageBuild } from '../fleet/index.js';
import { argOf, type CallArgs } from './args.js';
import { CommandExecutionError, InvalidArgumentsError, type ExecContext, type ExecFunction } from './exec-types.js';
import { buildsNamed, findBuildByVersion } from './package-index.js';

interface Wanted {
  name: string;
  version?: string;
}

function installedByName(fleet: Fleet, sys: LabSystem): Map<string, PackageBuild> {
  return new Map(fleet.installedPackages(sys.id).map((p) => [p.name, p]));
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

function installError(sys: LabSystem, errors: string[]): CommandExecutionError {
  const head = sys.os === 'ubuntu' ? 'Problem encountered installing package(s)' : 'Error occurred installing package(s)';
  return new CommandExecutionError(head, `errors:\n${errors.map((e) => `    - ${e}`).join('\n')}\nchanges:`);
}

function pkgInstall(ctx: ExecContext): Record<string, { old: string; new: string }> {
  const { fleet, system: sys } = ctx;
  const wanted = wantedPackages(ctx.args);
  const installed = installedByName(fleet, sys);
  const targets: PackageBuild[] = [];
  const errors: string[] = [];
  for (const w of wanted) {
    const builds = buildsNamed(fleet, sys.os, w.name);
    if (builds.length === 0) {
      errors.push(sys.os === 'ubuntu' ? `E: Unable to locate package ${w.name}` : `Error: Unable to find a match: ${w.name}`);
      continue;
    }
    let target: PackageBuild | undefined;
    if (w.version !== undefined) {
      target = findBuildByVersion(builds, w.version);
      if (!target) {
        errors.push(sys.os === 'ubuntu' ? `E: Version '${w.version}' for '${w.name}' was not found` : `Error: Unable to find a match: ${w.name}-${w.version}`);
        continue;
      }
    } else {
      // No pin: the newest build the channels carry, like `apt-get install` / `dnf install`.
      const chain = fleet.packageChain(sys.os, (builds[0] as PackageBuild).family);
      target = chain[chain.length - 1];
    }
    if (target) targets.push(target);
  }
  // apt and dnf resolve the whole transaction first: one bad pin means nothing is installed.
  if (errors.length > 0) throw installError(sys, errors);

  const byFamily = new Map(fleet.installedPackages(sys.id).map((p) => [p.family, p]));
  const changes: Record<string, { old: string; new: string }> = {};
  const toInstall: PackageBuild[] = [];
  for (const t of targets) {
    const cur = byFamily.get(t.family);
    if (cur?.id === t.id) continue;
    toInstall.push(t);
    if (cur && cur.name !== t.name) changes[cur.name] = { old: packageVersionString(cur), new: '' };
    const before = installed.get(t.name);
    changes[t.name] = { old: before ? packageVersionString(before) : '', new: packageVersionString(t) };
  }
  if (toInstall.length === 0) return {};
  fleet.installPackagesNow(sys.id, toInstall.map((t) => t.id), { settleErrata: true });
  for (const t of toInstall) ctx.stats.recordInstall(sys.minionId, t.name);
  return changes;
}

function pkgVersion(ctx: ExecContext): string | Record<string, string> {
  const names = ctx.args.positional.map(String);
  if (names.length === 0) throw new InvalidArgumentsError('pkg.version requires at least one package name');
  const installed = installedByName(ctx.fleet, ctx.system);
  const versionOf = (n: string) => {
    const p = installed.get(n);
    return p ? packageVersionString(p) : '';
  };
  if (names.length === 1) return versionOf(names[0] as string);
  return Object.fromEntries(names.map((n) => [n, versionOf(n)]));
}

/** Newer build than installed, or '' (already newest / not available), per name. */
function latestVersion(ctx: ExecContext): string | Record<string, string> {
  const names = ctx.args.positional.map(String);
  if (names.length === 0) throw new InvalidArgumentsError('pkg.latest_version requires at least one package name');
  const byFamily = new Map(ctx.fleet.installedPackages(ctx.system.id).map((p) => [p.family, p]));
  const latest = (n: string) => {
    const builds = buildsNamed(ctx.fleet, ctx.system.os, n);
    const first = builds[0];
    if (!first) return '';
    const chain = ctx.fleet.packageChain(ctx.system.os, first.family);
    const newest = chain[chain.length - 1] as PackageBuild;
    const cur = byFamily.get(first.family);
    return cur && cur.build >= newest.build ? '' : packageVersionString(newest);
  };
  if (names.length === 1) return latest(names[0] as string);
  return Object.fromEntries(names.map((n) => [n, latest(n)]));
}

export const pkgFunctions: readonly ExecFunction[] = [
  {
    name: 'pkg.list_pkgs',
    run: ({ fleet, system }) =>
      Object.fromEntries(
        fleet
          .installedPackages(system.id)
          .map((p) => [p.name, packageVersionString(p)] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
  },
  { name: 'pkg.version', run: pkgVersion },
  { name: 'pkg.latest_version', run: latestVersion },
  {
    name: 'pkg.list_upgrades',
    run: ({ fleet, system }) => {
      const out: Record<string, string> = {};
      for (const p of fleet.installedPackages(system.id)) {
        const chain = fleet.packageChain(system.os, p.family);
        const newest = chain[chain.length - 1] as PackageBuild;
        if (newest.build > p.build) out[newest.name] = packageVersionString(newest);
      }
      return out;
    },
  },
  { name: 'pkg.install', duration: 'pkgInstallMs', run: pkgInstall },
];
