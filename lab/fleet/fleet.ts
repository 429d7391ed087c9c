/**
 * The lab's single source of truth: who exists, what is installed, which errata apply, what
 * each action did. Pure and synchronous; the protocol servers (UYUNI XML-RPC, salt-api,
 * node-exporter) are thin views over it. Every mutation bumps `version` (response caches key on it).
 */
import { ActionBook } from './actions.js';
import { FIRST_PACKAGE_ID, generateErrata, nevraKey, type ErrataCatalog } from './errata.js';
import { resolveFleetOptions, type FleetOptions, type ResolvedFleetOptions } from './options.js';
import { generateSystems } from './systems.js';
import type {
  AdvisoryType,
  Erratum,
  LabAction,
  LabGroup,
  LabSystem,
  Nevra,
  Os,
  PackageBuild,
  Personality,
  Severity,
  Stage,
  SystemActionState,
  SystemMetrics,
} from './types.js';

export type FleetErrorCode =
  | 'no_such_system'
  | 'no_such_erratum'
  | 'invalid_errata'
  | 'no_systems'
  | 'no_errata'
  | 'no_packages'
  | 'invalid_package'
  | 'no_such_action';

/** A domain error; each protocol layer turns it into its own fault shape. */
export class FleetError extends Error {
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    readonly subject?: number | string,
  ) {
    super(message);
    this.name = 'FleetError';
  }
}

export interface ErratumQuery {
  os?: Os;
  personality?: Personality;
  /** Currently relevant to at least one system of that stage (of the erratum's OS), or to that system id. */
  relevantTo?: Stage | number;
  /** The service a stop_service erratum stops. */
  service?: string;
  kernel?: boolean;
  rebootSuggested?: boolean;
  type?: AdvisoryType;
  severity?: Severity;
  /** Skip errata already in a Queued/Picked Up action on the systems checked by relevantTo. */
  unscheduled?: boolean;
  exclude?: Iterable<number>;
}

export interface ScheduleOptions {
  earliestMs?: number;
  /** UYUNI's onlyRelevant: fail on any non-relevant or already scheduled pair instead of skipping it. */
  onlyRelevant?: boolean;
  scheduler?: string;
}

export interface ApplyRecord {
  readonly systemId: number;
  readonly erratumId: number;
  readonly advisoryName: string;
  /** Successful applications. */
  applied: number;
  /** Failed attempts (fail_apply errata). */
  failed: number;
}

export interface FleetTruth {
  seed: number;
  version: number;
  distinctRelevantTest: number;
  groups: Record<
    string,
    { id: number; os: Os; stage: Stage; systemIds: number[]; relevantAdvisories: string[] }
  >;
  /** Every advisory currently relevant to a test system. */
  advisories: Record<
    string,
    {
      id: number;
      os: Os;
      type: AdvisoryType;
      severity?: Severity;
      cves: string[];
      personality: Personality;
      stopsService?: string;
      kernel: boolean;
      rebootSuggested: boolean;
      packages: number;
    }
  >;
}

export class Fleet {
  readonly options: ResolvedFleetOptions;
  readonly catalog: ErrataCatalog;
  readonly groups: readonly LabGroup[];
  readonly systems: readonly LabSystem[];
  private readonly systemsById = new Map<number, LabSystem>();
  private readonly groupsByName = new Map<string, LabGroup>();
  private readonly systemsByOsStage = new Map<string, LabSystem[]>();
  private readonly actions: ActionBook;
  private readonly applies = new Map<string, ApplyRecord>();
  private readonly outdatedMemo = new Map<number, { v: number; count: number }>();
  /** Reboots started outside UYUNI actions (salt system.reboot): system id → epoch ms it is back up. */
  private readonly directReboots = new Map<number, number>();
  private versionCounter = 0;

  constructor(opts: FleetOptions = {}) {
    this.options = resolveFleetOptions(opts);
    this.catalog = generateErrata(this.options.seed, this.options.errataPerOs);
    const { groups, systems } = generateSystems(this.options, this.catalog);
    this.groups = groups;
    this.systems = systems;
    for (const g of groups) this.groupsByName.set(g.name, g);
    for (const s of systems) {
      this.systemsById.set(s.id, s);
      const key = `${s.os}:${s.stage}`;
      const list = this.systemsByOsStage.get(key);
      if (list) list.push(s);
      else this.systemsByOsStage.set(key, [s]);
    }
    this.actions = new ActionBook(
      {
        isUp: (sid) => this.systemsById.get(sid)?.up ?? false,
        pickUp: (action, state, at) => this.onPickUp(action, state, at),
        complete: (action, state, at) => this.onComplete(action, state, at),
        changed: () => {
          this.versionCounter++;
        },
      },
      {
        pickupMs: this.options.actionPickupMs,
        completeMs: this.options.actionCompleteMs,
        rebootMs: this.options.rebootMs,
      },
    );
  }

  /** Increments on every mutation, including action progress. */
  get version(): number {
    return this.versionCounter;
  }

  now(): number {
    return this.options.clock();
  }

  /** Advances action progress (and direct reboots) to the clock's now. Cheap when nothing is due. */
  tick(): void {
    const now = this.now();
    if (this.directReboots.size > 0) {
      for (const [sid, dueMs] of this.directReboots) {
        if (dueMs > now) continue;
        this.directReboots.delete(sid);
        this.finishReboot(this.systemsById.get(sid) as LabSystem, dueMs);
      }
    }
    this.actions.tick(now);
  }

  // ---------------------------------------------------------------- lookups

  group(name: string): LabGroup | undefined {
    return this.groupsByName.get(name);
  }

  system(id: number): LabSystem | undefined {
    return this.systemsById.get(id);
  }

  requireSystem(id: number): LabSystem {
    const s = this.systemsById.get(id);
    if (!s) throw new FleetError('no_such_system', `No such system - sid = ${id}`, id);
    return s;
  }

  systemsOf(os: Os, stage: Stage): readonly LabSystem[] {
    return this.systemsByOsStage.get(`${os}:${stage}`) ?? [];
  }

  erratum(id: number): Erratum | undefined {
    return this.catalog.byId.get(id);
  }

  erratumByName(advisoryName: string): Erratum | undefined {
    return this.catalog.byName.get(advisoryName);
  }

  package(id: number): PackageBuild | undefined {
    return this.catalog.packages[id - FIRST_PACKAGE_ID];
  }

  packageByNevra(os: Os, n: Nevra): PackageBuild | undefined {
    return this.catalog.byNevra.get(nevraKey(os, n.name, n.epoch, n.version, n.release, n.arch));
  }

  /** All builds of a package family, oldest first (index = build number). */
  packageChain(os: Os, family: string): readonly PackageBuild[] {
    return this.catalog.chains.get(`${os}:${family}`) ?? [];
  }

  packagesOf(erratum: Erratum): PackageBuild[] {
    return erratum.packageIds.map((id) => this.package(id) as PackageBuild);
  }

  relevantErrata(systemId: number): Erratum[] {
    const sys = this.requireSystem(systemId);
    return sys.relevant.toArray().map((id) => this.catalog.byId.get(id) as Erratum);
  }

  isRelevant(systemId: number, erratumId: number): boolean {
    return this.systemsById.get(systemId)?.relevant.has(erratumId) ?? false;
  }

  /** Systems the erratum is currently relevant to. */
  affectedSystems(erratumId: number): LabSystem[] {
    const e = this.catalog.byId.get(erratumId);
    if (!e) return [];
    return [...this.systemsOf(e.os, 'test'), ...this.systemsOf(e.os, 'prod')].filter((s) => s.relevant.has(erratumId));
  }

  /** The installed build of every package family on the system. */
  installedPackages(systemId: number): PackageBuild[] {
    const sys = this.requireSystem(systemId);
    const baseline = this.baselineBuilds(sys);
    return this.catalog.families[sys.os].map((family) => this.installedBuildWith(sys, family, baseline));
  }

  installedBuild(systemId: number, family: string): PackageBuild {
    const sys = this.requireSystem(systemId);
    return this.installedBuildWith(sys, family, this.baselineBuilds(sys));
  }

  /** Distinct package families with an update among the system's relevant errata. */
  outdatedPackageCount(systemId: number): number {
    const sys = this.requireSystem(systemId);
    const memo = this.outdatedMemo.get(systemId);
    if (memo && memo.v === sys.stateVersion) return memo.count;
    const families = new Set<string>();
    for (const id of sys.relevant.toArray()) {
      for (const pid of (this.catalog.byId.get(id) as Erratum).packageIds) families.add((this.package(pid) as PackageBuild).family);
    }
    this.outdatedMemo.set(systemId, { v: sys.stateVersion, count: families.size });
    return families.size;
  }

  isScheduled(systemId: number, erratumId: number): boolean {
    return this.systemsById.get(systemId)?.pendingErrata.has(erratumId) ?? false;
  }

  action(id: number): LabAction | undefined {
    return this.actions.get(id);
  }

  requireAction(id: number): LabAction {
    const a = this.actions.get(id);
    if (!a) throw new FleetError('no_such_action', `Could not find action with id: ${id}`, id);
    return a;
  }

  allActions(): IterableIterator<LabAction> {
    return this.actions.all();
  }

  /** Actions touching a system, oldest first. */
  systemActions(systemId: number): LabAction[] {
    return this.actions.forSystem(systemId).map((id) => this.actions.get(id) as LabAction);
  }

  metrics(systemId: number, now = this.now()): SystemMetrics {
    const sys = this.requireSystem(systemId);
    const o = this.options;
    let cpu = sys.cpuBaseline;
    let mem = sys.memoryBaseline;
    if (sys.effects.some((e) => e.kind === 'cpu_spike')) cpu += o.cpuSpikePercent;
    for (const e of sys.effects) {
      if (e.kind === 'memory_leak') mem += o.memoryLeakStepPercent + (o.memoryLeakPercentPerSecond * Math.max(0, now - e.sinceMs)) / 1000;
    }
    return {
      up: sys.up,
      cpuPercent: Math.min(100, Math.round(cpu * 10) / 10),
      memoryPercent: Math.min(98, Math.round(mem * 10) / 10),
      bootTimeSec: sys.bootTimeSec,
      services: { ...sys.services },
    };
  }

  applyCount(systemId: number, erratumId: number): number {
    return this.applies.get(`${systemId}:${erratumId}`)?.applied ?? 0;
  }

  applyRecords(): ApplyRecord[] {
    return [...this.applies.values()].map((r) => ({ ...r }));
  }

  findErratum(q: ErratumQuery): Erratum | undefined {
    return this.findErrata(q, 1)[0];
  }

  findErrata(q: ErratumQuery, limit = Number.POSITIVE_INFINITY): Erratum[] {
    const exclude = new Set(q.exclude ?? []);
    const out: Erratum[] = [];
    const pool = q.os ? this.catalog.byOs[q.os] : this.catalog.errata;
    for (const e of pool) {
      if (out.length >= limit) break;
      if (exclude.has(e.id)) continue;
      if (q.personality !== undefined && e.personality !== q.personality) continue;
      if (q.service !== undefined && e.stopsService !== q.service) continue;
      if (q.kernel !== undefined && e.kernel !== q.kernel) continue;
      if (q.rebootSuggested !== undefined && e.rebootSuggested !== q.rebootSuggested) continue;
      if (q.type !== undefined && e.type !== q.type) continue;
      if (q.severity !== undefined && e.severity !== q.severity) continue;
      if (q.relevantTo !== undefined) {
        const candidates = typeof q.relevantTo === 'number' ? [this.systemsById.get(q.relevantTo)].filter((s) => s !== undefined) : this.systemsOf(e.os, q.relevantTo);
        const ok = candidates.some((s) => s.relevant.has(e.id) && !(q.unscheduled && s.pendingErrata.has(e.id)));
        if (!ok) continue;
      }
      out.push(e);
    }
    return out;
  }

  // ---------------------------------------------------------------- scheduling

  /**
   * system.scheduleApplyErrata semantics: systems receiving the identical errata set share one
   * action (Salt minions), so the result usually holds a single id.
   */
  scheduleApplyErrata(systemIds: readonly number[], erratumIds: readonly number[], opts: ScheduleOptions = {}): number[] {
    if (systemIds.length === 0) throw new FleetError('no_systems', 'No systems specified.');
    if (erratumIds.length === 0) throw new FleetError('no_errata', 'No errata to apply.');
    const onlyRelevant = opts.onlyRelevant ?? true;
    const systems = [...new Set(systemIds)].map((id) => this.requireSystem(id));
    const errata: Erratum[] = [];
    for (const id of new Set(erratumIds)) {
      const e = this.catalog.byId.get(id);
      // Like UYUNI: unknown ids fail only under onlyRelevant, otherwise they are skipped.
      if (e) errata.push(e);
      else if (onlyRelevant) throw new FleetError('invalid_errata', `Invalid errata id: ${id}`, id);
    }
    const bySet = new Map<string, { systems: number[]; errata: Erratum[] }>();
    for (const sys of systems) {
      const applicable = errata.filter((e) => sys.relevant.has(e.id) && !sys.pendingErrata.has(e.id));
      if (onlyRelevant && applicable.length !== errata.length) {
        const bad = errata.find((e) => !applicable.includes(e)) as Erratum;
        throw new FleetError('invalid_errata', `Invalid errata: ${bad.advisoryName} is not applicable to or already scheduled on system ${sys.id}`, bad.id);
      }
      if (applicable.length === 0) continue;
      const key = applicable.map((e) => e.id).sort((a, b) => a - b).join(',');
      const entry = bySet.get(key);
      if (entry) entry.systems.push(sys.id);
      else bySet.set(key, { systems: [sys.id], errata: applicable });
    }
    const now = this.now();
    const ids: number[] = [];
    for (const { systems: sids, errata: es } of bySet.values()) {
      const first = es[0] as Erratum;
      const action = this.actions.create(
        {
          kind: 'errata',
          typeLabel: 'errata.update',
          typeName: 'Patch Update',
          name: es.length === 1 ? `Patch Update: ${first.advisoryName} - ${first.synopsis}` : `Patch Update: ${first.advisoryName} and ${es.length - 1} more`,
          scheduler: opts.scheduler ?? 'admin',
          errataIds: es.map((e) => e.id),
          systemIds: sids,
          earliestMs: opts.earliestMs ?? now,
        },
        now,
      );
      for (const sid of sids) {
        const sys = this.systemsById.get(sid) as LabSystem;
        for (const e of es) sys.pendingErrata.add(e.id);
        sys.stateVersion++;
      }
      ids.push(action.id);
    }
    return ids;
  }

  scheduleReboot(systemId: number, opts: ScheduleOptions = {}): number {
    this.requireSystem(systemId);
    const now = this.now();
    const scheduler = opts.scheduler ?? 'admin';
    return this.actions.create(
      {
        kind: 'reboot',
        typeLabel: 'reboot.reboot',
        typeName: 'System reboot',
        name: `System reboot scheduled by ${scheduler}`,
        scheduler,
        systemIds: [systemId],
        earliestMs: opts.earliestMs ?? now,
      },
      now,
    ).id;
  }

  /** Installs exact builds (upgrade or downgrade — the rollback path). One action for all systems. */
  schedulePackageInstall(systemIds: readonly number[], packageIds: readonly number[], opts: ScheduleOptions = {}): number {
    if (systemIds.length === 0) throw new FleetError('no_systems', 'No systems specified.');
    if (packageIds.length === 0) throw new FleetError('no_packages', 'No packages to install.');
    const systems = [...new Set(systemIds)].map((id) => this.requireSystem(id));
    for (const pid of packageIds) {
      const pkg = this.package(pid);
      if (!pkg || systems.some((s) => s.os !== pkg.os)) throw new FleetError('invalid_package', `Invalid package: ${pid}`, pid);
    }
    return this.createPackageAction(systems.map((s) => s.id), [...new Set(packageIds)], opts);
  }

  schedulePackageInstallByNevra(systemIds: readonly number[], nevras: readonly Nevra[], opts: ScheduleOptions = {}): number {
    if (systemIds.length === 0) throw new FleetError('no_systems', 'No systems specified.');
    if (nevras.length === 0) throw new FleetError('no_packages', 'No packages to install.');
    const systems = [...new Set(systemIds)].map((id) => this.requireSystem(id));
    const ids = new Set<number>();
    for (const sys of systems) {
      for (const n of nevras) {
        const pkg = this.packageByNevra(sys.os, n);
        if (!pkg) {
          const label = `${n.name}-${n.epoch ? `${n.epoch}:` : ''}${n.version}-${n.release}.${n.arch}`;
          throw new FleetError('invalid_package', `Invalid package: ${label}`, label);
        }
        ids.add(pkg.id);
      }
    }
    return this.createPackageAction(systems.map((s) => s.id), [...ids], opts);
  }

  private createPackageAction(systemIds: number[], packageIds: number[], opts: ScheduleOptions): number {
    const now = this.now();
    const scheduler = opts.scheduler ?? 'admin';
    return this.actions.create(
      {
        kind: 'packages',
        typeLabel: 'packages.update',
        typeName: 'Package Install',
        name: `Package Install scheduled by ${scheduler}`,
        scheduler,
        packageIds,
        systemIds,
        earliestMs: opts.earliestMs ?? now,
      },
      now,
    ).id;
  }

  // ---------------------------------------------------------------- immediate mutations (also for Salt)

  /**
   * Sets exact package builds now; errata whose updates are undone become relevant again.
   * With `settleErrata`, relevant errata whose every package is now installed at (or above) its
   * build stop being relevant and take effect, as UYUNI would compute it from the package list
   * (salt pkg.install / snapper.undo use it; UYUNI's own package install keeps the old behaviour).
   */
  installPackagesNow(systemId: number, packageIds: readonly number[], opts: { settleErrata?: boolean } = {}): void {
    const sys = this.requireSystem(systemId);
    const builds = packageIds.map((id) => {
      const pkg = this.package(id);
      if (!pkg || pkg.os !== sys.os) throw new FleetError('invalid_package', `Invalid package: ${id}`, id);
      return pkg;
    });
    const now = this.now();
    this.installBuilds(sys, builds, now);
    if (opts.settleErrata) this.settleCoveredErrata(sys, now);
  }

  /**
   * A reboot not driven by a UYUNI action (salt system.reboot): the system goes down now and is
   * back after the fleet's rebootMs, or never when a reboot_hang erratum is installed.
   */
  rebootNow(systemId: number): void {
    const sys = this.requireSystem(systemId);
    if (!sys.up) return;
    sys.up = false;
    if (sys.hangOnReboot) sys.hung = true;
    else this.directReboots.set(systemId, this.now() + this.options.rebootMs);
    this.bump(sys);
  }

  setServiceState(systemId: number, service: string, running: boolean): void {
    const sys = this.requireSystem(systemId);
    if (!(service in sys.services)) return;
    sys.services[service] = running;
    this.bump(sys);
  }

  /** Power-cycles a system whose reboot hung: it comes back, the stuck reboot action fails. */
  recoverSystem(systemId: number): void {
    const sys = this.requireSystem(systemId);
    const now = this.now();
    for (const action of this.systemActions(systemId)) {
      const st = action.systems.get(systemId);
      if (st?.stuck) this.actions.fail(action.id, systemId, 'System did not come back after reboot; recovered by power cycle.', now);
    }
    this.directReboots.delete(systemId);
    sys.hung = false;
    sys.hangOnReboot = false;
    sys.up = true;
    sys.bootTimeSec = Math.floor(now / 1000);
    this.bump(sys);
    this.actions.unblock(systemId, now);
  }

  // ---------------------------------------------------------------- views for tests and the control API

  truth(): FleetTruth {
    const groups: FleetTruth['groups'] = {};
    const advisories: FleetTruth['advisories'] = {};
    let distinctRelevantTest = 0;
    for (const g of this.groups) {
      const ids = new Set<number>();
      for (const sid of g.systemIds) for (const id of (this.systemsById.get(sid) as LabSystem).relevant.toArray()) ids.add(id);
      const sorted = [...ids].sort((a, b) => a - b).map((id) => this.catalog.byId.get(id) as Erratum);
      groups[g.name] = { id: g.id, os: g.os, stage: g.stage, systemIds: [...g.systemIds], relevantAdvisories: sorted.map((e) => e.advisoryName) };
      if (g.stage !== 'test') continue;
      distinctRelevantTest += sorted.length; // errata are per-OS, so test groups never share one
      for (const e of sorted) {
        advisories[e.advisoryName] = {
          id: e.id,
          os: e.os,
          type: e.type,
          ...(e.severity ? { severity: e.severity } : {}),
          cves: [...e.cves],
          personality: e.personality,
          ...(e.stopsService ? { stopsService: e.stopsService } : {}),
          kernel: e.kernel,
          rebootSuggested: e.rebootSuggested,
          packages: e.packageIds.length,
        };
      }
    }
    return { seed: this.options.seed, version: this.version, distinctRelevantTest, groups, advisories };
  }

  /** Canonical dump of everything generated from the seed (for determinism checks). */
  describe(): unknown {
    const { clock: _clock, ...options } = this.options;
    return {
      options,
      groups: this.groups,
      systems: this.systems.map((s) => ({
        id: s.id, name: s.name, os: s.os, osRelease: s.osRelease, group: s.group, stage: s.stage, ip: s.ip,
        minionId: s.minionId, machineId: s.machineId, registeredMs: s.registeredMs, btrfs: s.btrfs,
        cpuBaseline: s.cpuBaseline, memoryBaseline: s.memoryBaseline, bootTimeSec: s.bootTimeSec,
        rebootNeeded: s.rebootNeeded, relevant: Array.from(s.baseRelevant),
      })),
      errata: this.catalog.errata,
      packages: this.catalog.packages,
    };
  }

  // ---------------------------------------------------------------- internals

  private bump(sys?: LabSystem): void {
    this.versionCounter++;
    if (sys) sys.stateVersion++;
  }

  /**
   * Installed build per family before any change: just below the oldest relevant update of that
   * family, or the newest build when nothing relevant touches it.
   */
  private baselineBuilds(sys: LabSystem): Map<string, number> {
    const lowest = new Map<string, number>();
    for (const id of sys.baseRelevant) {
      for (const pid of (this.catalog.byId.get(id) as Erratum).packageIds) {
        const pkg = this.package(pid) as PackageBuild;
        const cur = lowest.get(pkg.family);
        if (cur === undefined || pkg.build < cur) lowest.set(pkg.family, pkg.build);
      }
    }
    return lowest;
  }

  private installedBuildWith(sys: LabSystem, family: string, lowestRelevant: Map<string, number>): PackageBuild {
    const override = sys.installedOverrides.get(family);
    if (override !== undefined) return this.package(override) as PackageBuild;
    const chain = this.packageChain(sys.os, family);
    const lowest = lowestRelevant.get(family);
    const build = lowest === undefined ? chain.length - 1 : lowest - 1;
    return chain[Math.max(0, build)] as PackageBuild;
  }

  private applyErratum(sys: LabSystem, e: Erratum, at: number): void {
    const baseline = this.baselineBuilds(sys);
    for (const pkg of this.packagesOf(e)) {
      const cur = this.installedBuildWith(sys, pkg.family, baseline);
      if (pkg.build > cur.build) sys.installedOverrides.set(pkg.family, pkg.id);
    }
    this.takeEffect(sys, e, at);
    this.record(sys.id, e).applied++;
    this.bump(sys);
  }

  /** The erratum is installed: no longer relevant, and its fault personality takes hold. */
  private takeEffect(sys: LabSystem, e: Erratum, at: number): void {
    sys.relevant.remove(e.id);
    if (e.rebootSuggested) sys.rebootNeeded = true;
    switch (e.personality) {
      case 'stop_service':
        if (e.stopsService) {
          sys.services[e.stopsService] = false;
          sys.effects.push({ kind: 'stop_service', erratumId: e.id, sinceMs: at, service: e.stopsService });
        }
        break;
      case 'cpu_spike':
      case 'memory_leak':
        sys.effects.push({ kind: e.personality, erratumId: e.id, sinceMs: at });
        break;
      case 'reboot_hang':
        sys.hangOnReboot = true;
        break;
      default:
        break;
    }
  }

  /** Relevant errata whose packages are all installed at or above their builds are no longer relevant. */
  private settleCoveredErrata(sys: LabSystem, at: number): void {
    const baseline = this.baselineBuilds(sys);
    let changed = false;
    for (const id of sys.relevant.toArray()) {
      const e = this.catalog.byId.get(id) as Erratum;
      if (sys.pendingErrata.has(id)) continue;
      const covered = this.packagesOf(e).every((p) => this.installedBuildWith(sys, p.family, baseline).build >= p.build);
      if (!covered) continue;
      this.takeEffect(sys, e, at);
      changed = true;
    }
    if (changed) this.bump(sys);
  }

  private installBuilds(sys: LabSystem, builds: readonly PackageBuild[], _at: number): void {
    const baseline = this.baselineBuilds(sys);
    for (const b of builds) sys.installedOverrides.set(b.family, b.id);
    // An applied erratum whose package went back below its build is no longer installed.
    for (const id of sys.baseRelevant) {
      if (sys.relevant.has(id)) continue;
      const e = this.catalog.byId.get(id) as Erratum;
      const undone = this.packagesOf(e).some((p) => this.installedBuildWith(sys, p.family, baseline).build < p.build);
      if (!undone) continue;
      sys.relevant.restore(id);
      if (e.rebootSuggested) sys.rebootNeeded = true;
      for (let i = sys.effects.length - 1; i >= 0; i--) {
        const eff = sys.effects[i];
        if (eff?.erratumId !== id) continue;
        sys.effects.splice(i, 1);
        if (eff.kind === 'stop_service' && eff.service) sys.services[eff.service] = true;
      }
    }
    sys.hangOnReboot = sys.baseRelevant.some((id) => !sys.relevant.has(id) && this.catalog.byId.get(id)?.personality === 'reboot_hang');
    this.bump(sys);
  }

  private record(systemId: number, e: Erratum): ApplyRecord {
    const key = `${systemId}:${e.id}`;
    let r = this.applies.get(key);
    if (!r) {
      r = { systemId, erratumId: e.id, advisoryName: e.advisoryName, applied: 0, failed: 0 };
      this.applies.set(key, r);
    }
    return r;
  }

  private onPickUp(action: LabAction, state: SystemActionState, _at: number): 'ok' | 'stuck' {
    if (action.kind !== 'reboot') return 'ok';
    const sys = this.systemsById.get(state.systemId) as LabSystem;
    sys.up = false;
    if (sys.hangOnReboot) {
      sys.hung = true;
      this.bump(sys);
      return 'stuck';
    }
    this.bump(sys);
    return 'ok';
  }

  private onComplete(action: LabAction, state: SystemActionState, at: number): void {
    const sys = this.systemsById.get(state.systemId) as LabSystem;
    sys.lastCheckinMs = at;
    if (action.kind === 'errata') {
      const errata = action.errataIds.map((id) => this.catalog.byId.get(id) as Erratum);
      for (const e of errata) sys.pendingErrata.delete(e.id);
      const failing = errata.find((e) => e.personality === 'fail_apply');
      if (failing) {
        state.status = 'Failed';
        state.resultCode = 1;
        state.resultMsg = applyFailureMessage(sys.os, failing, this.packagesOf(failing));
        for (const e of errata) this.record(sys.id, e).failed++;
        this.bump(sys);
        return;
      }
      for (const e of errata) this.applyErratum(sys, e, at);
      state.status = 'Completed';
      state.resultCode = 0;
      const pkgs = errata.reduce((n, e) => n + e.packageIds.length, 0);
      state.resultMsg = `Successfully applied ${errata.map((e) => e.advisoryName).join(', ')} (${pkgs} package${pkgs === 1 ? '' : 's'} updated)`;
      return;
    }
    if (action.kind === 'packages') {
      const builds = action.packageIds.map((id) => this.package(id) as PackageBuild).filter((p) => p.os === sys.os);
      this.installBuilds(sys, builds, at);
      state.status = 'Completed';
      state.resultCode = 0;
      state.resultMsg = `Successfully installed ${builds.map((b) => `${b.name}-${b.version}-${b.release}`).join(', ')}`;
      return;
    }
    // reboot
    state.status = 'Completed';
    state.resultCode = 0;
    state.resultMsg = 'Reboot completed.';
    this.finishReboot(sys, at);
  }

  private finishReboot(sys: LabSystem, at: number): void {
    sys.up = true;
    sys.bootTimeSec = Math.floor(at / 1000);
    sys.rebootNeeded = false;
    for (let i = 0; i < sys.effects.length; i++) {
      const eff = sys.effects[i];
      // A reboot frees leaked memory; the leak starts over.
      if (eff?.kind === 'memory_leak') sys.effects[i] = { ...eff, sinceMs: at };
    }
    this.bump(sys);
    this.actions.unblock(sys.id, at);
  }
}

function applyFailureMessage(os: Os, e: Erratum, pkgs: PackageBuild[]): string {
  const first = pkgs[0];
  const nvr = first ? `${first.name}-${first.version}-${first.release}` : e.source;
  if (os === 'ubuntu') {
    return `Failed to apply patch ${e.advisoryName}: E: Sub-process /usr/bin/dpkg returned an error code (1)\nErrors were encountered while processing:\n ${first?.name ?? e.source}`;
  }
  return `Failed to apply patch ${e.advisoryName}: Error: Transaction test error: file /usr/share/doc/${e.source} conflicts between attempted installs of ${nvr}`;
}

export function generateFleet(opts: FleetOptions = {}): Fleet {
  return new Fleet(opts);
}

