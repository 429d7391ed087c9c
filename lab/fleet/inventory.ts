/**
 * What a system has installed, per package family: no build (removed, or a dependency not pulled in
 * yet), one build, or several side by side (kernels). A generated system starts from a baseline
 * derived from its relevant errata; only the families changed since are stored on the system.
 *
 * `Transaction` is one apt/dnf run over a working copy: it resolves what a request really does
 * (dependencies pulled in, obsoleted packages replaced, install-only kernels kept beside each other
 * up to dnf's installonly_limit, reverse dependencies removed along) and the Fleet commits it.
 */
import { INSTALLONLY_LIMIT } from './catalog.js';
import type { ErrataCatalog, FamilyInfo } from './errata.js';
import type { Erratum, LabSystem, Os, PackageBuild } from './types.js';

/** Build number an erratum ships (all its packages are builds of one source). */
export function erratumBuild(catalog: ErrataCatalog, e: Erratum): number {
  const first = e.packageIds[0];
  return first === undefined ? 0 : (catalog.packages[first - (catalog.packages[0]?.id ?? 0)]?.build ?? 0);
}

export function familyInfo(catalog: ErrataCatalog, os: Os, family: string): FamilyInfo {
  const info = catalog.familyInfo.get(`${os}:${family}`);
  if (!info) throw new RangeError(`unknown package family ${os}:${family}`);
  return info;
}

/** The build of a family with that build number, when the source shipped the binary then. */
export function packageAt(catalog: ErrataCatalog, os: Os, family: string, build: number): PackageBuild | undefined {
  const chain = catalog.chains.get(`${os}:${family}`);
  if (!chain) return undefined;
  let lo = 0;
  let hi = chain.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const b = chain[mid] as PackageBuild;
    if (b.build === build) return b;
    if (b.build < build) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

const byBuild = (a: PackageBuild, b: PackageBuild) => a.build - b.build;

/** Read-only view of one system's installed builds at one moment. */
export class Inventory {
  private readonly baseline = new Map<string, number>();

  constructor(
    readonly catalog: ErrataCatalog,
    readonly sys: LabSystem,
  ) {
    // Each source starts just below its oldest relevant update, or at its newest build when none is relevant.
    for (const id of sys.baseRelevant) {
      const e = catalog.byId.get(id) as Erratum;
      const b = erratumBuild(catalog, e);
      const cur = this.baseline.get(e.source);
      if (cur === undefined || b < cur) this.baseline.set(e.source, b);
    }
    for (const [source, lowest] of this.baseline) this.baseline.set(source, lowest - 1);
  }

  /** Installed builds of the family, oldest first; empty when not installed. */
  builds(family: string): readonly PackageBuild[] {
    const override = this.sys.installedOverrides.get(family);
    if (override !== undefined) return override.map((id) => this.catalog.packages[id - (this.catalog.packages[0]?.id ?? 0)] as PackageBuild);
    return this.baselineBuilds(family);
  }

  newest(family: string): PackageBuild | undefined {
    const list = this.builds(family);
    return list[list.length - 1];
  }

  /** Every installed build, family by family in catalog order, oldest build first. */
  all(): PackageBuild[] {
    const out: PackageBuild[] = [];
    for (const family of this.catalog.families[this.sys.os]) out.push(...this.builds(family));
    return out;
  }

  /** The build the source's packages had when the system was generated. */
  baselineBuildOf(source: string): number {
    return this.baseline.get(source) ?? this.catalog.newestBuild.get(`${this.sys.os}:${source}`) ?? 0;
  }

  private baselineBuilds(family: string): PackageBuild[] {
    const info = familyInfo(this.catalog, this.sys.os, family);
    const b = this.baselineBuildOf(info.source);
    // A kernel update keeps the previous kernel: generated systems carry the one before theirs too.
    const wanted = info.multi ? [b - 1, b] : [b];
    const out: PackageBuild[] = [];
    for (const n of wanted) {
      const p = packageAt(this.catalog, this.sys.os, family, n);
      if (p) out.push(p);
    }
    return out;
  }
}

/** What dnf / apt refuse to remove: the running kernel (dnf protect_running_kernel, the linux-image prerm). */
export interface RemoveRefusal {
  readonly kind: 'running_kernel';
  readonly build: PackageBuild;
}

/** One package-manager run over a working copy of an inventory. */
export class Transaction {
  private readonly changed = new Map<string, PackageBuild[]>();
  private readonly catalog: ErrataCatalog;
  private readonly os: Os;
  /** Families removed only because something else went (reverse dependencies, obsoletes). */
  readonly removedAlong = new Set<string>();
  readonly refusals: RemoveRefusal[] = [];
  /** A downgrade or an explicit removal happened: a rollback step. */
  rollback = false;

  constructor(
    readonly base: Inventory,
    /** Build of the kernel the system runs (never removed by installonly_limit). */
    private readonly runningKernel: number,
  ) {
    this.catalog = base.catalog;
    this.os = base.sys.os;
  }

  builds(family: string): readonly PackageBuild[] {
    return this.changed.get(family) ?? this.base.builds(family);
  }

  newest(family: string): PackageBuild | undefined {
    const list = this.builds(family);
    return list[list.length - 1];
  }

  /** Families whose installed builds differ from the base inventory, with their new builds. */
  changes(): Map<string, readonly PackageBuild[]> {
    const out = new Map<string, readonly PackageBuild[]>();
    for (const [family, list] of this.changed) {
      const before = this.base.builds(family);
      if (before.length !== list.length || before.some((b, i) => b.id !== list[i]?.id)) out.set(family, list);
    }
    return out;
  }

  /**
   * Installs one build: a normal package is replaced (up or down), an install-only one is added beside
   * the others. Dependencies of the same build come along; a build that obsoletes a package removes it.
   */
  install(build: PackageBuild, seen = new Set<number>()): void {
    if (seen.has(build.id)) return;
    seen.add(build.id);
    const info = familyInfo(this.catalog, this.os, build.family);
    const cur = this.builds(build.family);
    if (info.multi) {
      if (!cur.some((b) => b.id === build.id)) {
        this.set(build.family, [...cur, build].sort(byBuild));
        if (info.installOnly) this.enforceLimit(build.family);
      }
    } else if (cur.length !== 1 || cur[0]?.id !== build.id) {
      if (cur.length > 0 && (cur[cur.length - 1] as PackageBuild).build > build.build) this.rollback = true;
      this.set(build.family, [build]);
    }
    for (const dep of info.dependsOn) {
      const p = packageAt(this.catalog, this.os, dep, build.build);
      if (p) this.install(p, seen);
    }
    for (const other of this.catalog.sourceFamilies.get(`${this.os}:${build.source}`) ?? []) {
      const o = familyInfo(this.catalog, this.os, other);
      // RPM Obsoletes / deb Replaces+Conflicts: the newer build takes the old package's place.
      if (o.obsoletedBy === build.family && o.untilBuild !== undefined && build.build >= o.untilBuild && this.builds(other).length > 0) {
        this.set(other, []);
        this.removedAlong.add(other);
      }
      // A dependency introduced by this build is pulled in when missing.
      if (o.pulledInBy === build.family && build.build >= o.sinceBuild && this.builds(other).length === 0) {
        const p = packageAt(this.catalog, this.os, other, build.build);
        if (p) this.install(p, seen);
      }
    }
  }

  /**
   * Removes one build of a family (or all of them), and what depends on it in the same build (kernel-core
   * takes kernel, kernel-modules and kernel-modules-core along; linux-modules takes linux-image). Records
   * refusals (the running kernel) for the caller to turn into the package manager's error.
   */
  remove(family: string, build?: PackageBuild, explicit = true): void {
    const cur = this.builds(family);
    const victims = build ? cur.filter((b) => b.id === build.id) : [...cur];
    if (victims.length === 0) return;
    if (explicit) this.rollback = true;
    else this.removedAlong.add(family);
    this.set(family, cur.filter((b) => !victims.includes(b)));
    const info = familyInfo(this.catalog, this.os, family);
    for (const v of victims) {
      if (info.bootImage && v.build === this.runningKernel) this.refusals.push({ kind: 'running_kernel', build: v });
      for (const other of this.catalog.sourceFamilies.get(`${this.os}:${info.source}`) ?? []) {
        const o = familyInfo(this.catalog, this.os, other);
        if (o.dependsOn.includes(family)) {
          const dependent = packageAt(this.catalog, this.os, other, v.build);
          if (dependent && this.builds(other).some((b) => b.id === dependent.id)) this.remove(other, dependent, false);
        }
      }
    }
  }

  private set(family: string, list: PackageBuild[]): void {
    this.changed.set(family, list);
  }

  /** dnf installonly_limit: beyond it the oldest builds go, never the running kernel's. */
  private enforceLimit(family: string): void {
    let list = [...this.builds(family)];
    while (list.length > INSTALLONLY_LIMIT) {
      const victim = list.find((b) => b.build !== this.runningKernel);
      if (!victim) break;
      list = list.filter((b) => b !== victim);
      this.removedAlong.add(family);
    }
    this.set(family, list);
  }
}
