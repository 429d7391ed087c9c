/**
 * The lab's single source of truth: who exists, what is installed, which errata apply, what
 * each action did. Pure and synchronous; the protocol servers (UYUNI XML-RPC, salt-api,
 * node-exporter) are thin views over it. Every mutation bumps `version` (response caches key on it).
 */
import { hash32 } from './prng.js';
import { LabMaintenance } from './maintenance.js';
import { ActionBook } from './actions.js';
import { FIRST_PACKAGE_ID, generateErrata, nevraKey, type ErrataCatalog, type FamilyInfo } from './errata.js';
import { ErrataFaults, type ErratumFaultInput, type ErratumFaultRule } from './errata-faults.js';
import { HostFaults, type HostFaultInput, type HostFaultRule } from './host-faults.js';
import { erratumBuild, familyInfo, Inventory, packageAt, Transaction, type RemoveRefusal } from './inventory.js';
import { packageVersionString } from './facts.js';
import { kernelReleaseOf } from './kernel.js';
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
  | 'no_such_action'
  | 'install_failed'
  | 'invalid_fault'
  | 'retracted_errata'
  | 'not_in_maintenance';

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
  /**
   * Applying it installs a package that was not installed (a new dependency; new kernel builds do not
   * count), on a system where it is relevant when relevantTo is given, else by the catalog.
   */
  adds?: boolean;
  /** Applying it removes a package (Obsoletes / Replaces+Conflicts), judged like `adds`. */
  removes?: boolean;
  exclude?: Iterable<number>;
}

/** What applying an erratum does to one system's packages. */
export interface ErratumEffectOnPackages {
  /** Names of packages newly installed that are not kernels. */
  readonly adds: readonly string[];
  /** Names of packages it removes. */
  readonly removes: readonly string[];
  /** New kernel builds installed beside the running one. */
  readonly kernels: readonly string[];
}

/** Kernels of a system: the running one, the one the next boot starts, every one installed (newest first). */
export interface KernelView {
  readonly running: PackageBuild;
  readonly bootDefault: PackageBuild | undefined;
  /** The explicitly saved default (grubby --set-default / grub-set-default); undefined = the newest. */
  readonly saved: PackageBuild | undefined;
  readonly installed: readonly PackageBuild[];
}

/** A system's whole package state as snapper sees /: every family's builds (empty = absent) and the saved boot entry. */
export interface InventoryState {
  readonly families: ReadonlyMap<string, readonly number[]>;
  readonly savedKernel: number | undefined;
}

interface KernelState {
  /** Build number of the running kernel (of the kernel image family). */
  running: number;
  /** Saved boot default build; undefined = newest installed (GRUB's first entry). */
  saved: number | undefined;
}

export interface InstallResult {
  /** Names a downgrade_sticks fault left at their newer version. */
  readonly stuck: readonly string[];
}

export interface RemoveTarget {
  readonly family: string;
  /** One build of a multi-version family; all builds when absent. */
  readonly build?: PackageBuild;
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
  private readonly kernels = new Map<number, KernelState>();
  /** Units a service_stays_down fault broke: they stay stopped whatever starts them. */
  private readonly brokenServices = new Map<number, Set<string>>();
  readonly hostFaults = new HostFaults();
  readonly errataFaults = new ErrataFaults();
  private versionCounter = 0;
  /** Errata retracted by their vendor (POST /lab/errata/<name>/retract): advisory_status "retracted". */
  private readonly retracted = new Set<number>();
  /** UYUNI maintenance schedules and calendars (issue 15). */
  readonly maintenance: LabMaintenance;
  /** Every errata action refused outside a maintenance window (fault 1334), in order: what tests prove never happened. */
  readonly maintenanceRefusals: { systemIds: number[]; erratumIds: number[]; earliestMs: number; atMs: number }[] = [];

  constructor(opts: FleetOptions = {}) {
    this.options = resolveFleetOptions(opts);
    this.catalog = generateErrata(this.options.seed, this.options.errataPerOs);
    const { groups, systems } = generateSystems(this.options, this.catalog);
    this.groups = groups;
    this.systems = systems;
    this.maintenance = new LabMaintenance(this.options.clock);
    if (this.options.maintenance === 'mixed') {
      this.maintenance.seedMixed(groups.filter((g) => g.stage === 'prod').map((g) => g.systemIds), this.options.clock());
    }
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

  /**
   * All builds of a package family, oldest first. The index is the build number except for binaries
   * introduced later (`sinceBuild`); use packageAt for a given build.
   */
  packageChain(os: Os, family: string): readonly PackageBuild[] {
    return this.catalog.chains.get(`${os}:${family}`) ?? [];
  }

  /** The family's build with that number, or undefined when the source did not ship the binary then. */
  packageAt(os: Os, family: string, build: number): PackageBuild | undefined {
    return packageAt(this.catalog, os, family, build);
  }

  familyInfo(os: Os, family: string): FamilyInfo {
    return familyInfo(this.catalog, os, family);
  }

  /** Build number the erratum ships. */
  erratumBuild(e: Erratum): number {
    return erratumBuild(this.catalog, e);
  }

  packagesOf(erratum: Erratum): PackageBuild[] {
    return erratum.packageIds.map((id) => this.package(id) as PackageBuild);
  }

  relevantErrata(systemId: number): Erratum[] {
    const sys = this.requireSystem(systemId);
    // UYUNI leaves a retracted patch's packages out of the "needs update" cache: it is relevant to nobody.
    const all = sys.relevant.toArray();
    return (this.retracted.size ? all.filter((id) => !this.retracted.has(id)) : all).map((id) => this.catalog.byId.get(id) as Erratum);
  }

  /** The vendor retracted it (advisory_status "retracted"); scheduling it fails with fault 2602 from now on. */
  retract(erratumId: number): Erratum {
    const e = this.catalog.byId.get(erratumId);
    if (!e) throw new FleetError('no_such_erratum', `No such erratum: ${erratumId}`, erratumId);
    if (!this.retracted.has(erratumId)) {
      this.retracted.add(erratumId);
      this.bump();
    }
    return e;
  }

  /** How many errata were retracted (the lab's cache of errata metadata keys on it). */
  get retractions(): number {
    return this.retracted.size;
  }

  isRetracted(erratumId: number): boolean {
    return this.retracted.has(erratumId);
  }

  /** advisory_status as UYUNI shows it now. */
  advisoryStatus(e: Erratum): string {
    return this.retracted.has(e.id) ? 'retracted' : e.status;
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

  /** Every installed build on the system (several for kernels; none for a removed package), family by family. */
  installedPackages(systemId: number): PackageBuild[] {
    return new Inventory(this.catalog, this.requireSystem(systemId)).all();
  }

  /** Installed builds of one family, oldest first. */
  installedBuilds(systemId: number, family: string): readonly PackageBuild[] {
    return new Inventory(this.catalog, this.requireSystem(systemId)).builds(family);
  }

  /** The newest installed build of a family; throws when nothing of it is installed. */
  installedBuild(systemId: number, family: string): PackageBuild {
    const b = new Inventory(this.catalog, this.requireSystem(systemId)).newest(family);
    if (!b) throw new FleetError('invalid_package', `${family} is not installed on system ${systemId}`, family);
    return b;
  }

  /** Running kernel, boot default and installed kernels. */
  kernel(systemId: number): KernelView {
    const sys = this.requireSystem(systemId);
    const inv = new Inventory(this.catalog, sys);
    const k = this.kernelState(sys, inv);
    const family = this.catalog.kernelImageFamily[sys.os];
    const installed = [...inv.builds(family)].reverse();
    const def = this.bootDefaultBuild(sys, inv);
    const saved = k.saved === undefined ? undefined : installed.find((b) => b.build === k.saved);
    return {
      running: this.packageAt(sys.os, family, k.running) as PackageBuild,
      bootDefault: def === undefined ? undefined : installed.find((b) => b.build === def),
      saved,
      installed,
    };
  }

  /**
   * The ground truth tests compare against: every installed package name with its versions (oldest
   * build first), the running kernel and the boot default as `uname -r` strings.
   */
  packageTruth(systemId: number): { packages: Record<string, string[]>; runningKernel: string; bootDefault: string | null; kernels: string[] } {
    const packages: Record<string, string[]> = {};
    for (const p of this.installedPackages(systemId)) (packages[p.name] ??= []).push(packageVersionString(p));
    const k = this.kernel(systemId);
    return {
      packages,
      runningKernel: kernelReleaseOf(k.running),
      bootDefault: k.bootDefault ? kernelReleaseOf(k.bootDefault) : null,
      kernels: k.installed.map(kernelReleaseOf),
    };
  }

  /** What applying the erratum would do to the system's packages now. */
  erratumEffectOnPackages(systemId: number, erratumId: number): ErratumEffectOnPackages {
    const sys = this.requireSystem(systemId);
    const e = this.catalog.byId.get(erratumId);
    if (!e || e.os !== sys.os) throw new FleetError('no_such_erratum', `No such erratum ${erratumId} for system ${systemId}`, erratumId);
    const inv = new Inventory(this.catalog, sys);
    const tx = this.erratumTransaction(sys, e, inv);
    const adds: string[] = [];
    const removes: string[] = [];
    const kernels: string[] = [];
    for (const [family, after] of tx.changes()) {
      const before = inv.builds(family);
      const info = this.familyInfo(sys.os, family);
      if (info.multi) {
        for (const b of after) if (!before.some((x) => x.id === b.id)) kernels.push(b.name);
      } else if (before.length === 0 && after[0]) adds.push(after[0].name);
      else if (after.length === 0 && before[0]) removes.push(before[0].name);
    }
    return { adds, removes, kernels };
  }

  /** The whole package state, as a snapper snapshot records it. */
  inventoryState(systemId: number): InventoryState {
    const sys = this.requireSystem(systemId);
    const inv = new Inventory(this.catalog, sys);
    const families = new Map<string, readonly number[]>();
    for (const family of this.catalog.families[sys.os]) families.set(family, inv.builds(family).map((b) => b.id));
    return { families, savedKernel: this.kernelState(sys, inv).saved };
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
      const wantsPackages = q.adds !== undefined || q.removes !== undefined;
      const packagesMatch = (sid: number): boolean => {
        if (!wantsPackages) return true;
        const fx = this.erratumEffectOnPackages(sid, e.id);
        return (q.adds === undefined || q.adds === fx.adds.length > 0) && (q.removes === undefined || q.removes === fx.removes.length > 0);
      };
      if (q.relevantTo !== undefined) {
        const candidates = typeof q.relevantTo === 'number' ? [this.systemsById.get(q.relevantTo)].filter((s) => s !== undefined) : this.systemsOf(e.os, q.relevantTo);
        const ok = candidates.some((s) => s.os === e.os && s.relevant.has(e.id) && !(q.unscheduled && s.pendingErrata.has(e.id)) && packagesMatch(s.id));
        if (!ok) continue;
      } else if (wantsPackages) {
        const fx = this.catalogChanges(e);
        if ((q.adds !== undefined && q.adds !== fx.adds) || (q.removes !== undefined && q.removes !== fx.removes)) continue;
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
    // RetractedErrataException (2602) before relevance: the message names the retracted ids.
    const retracted = errata.filter((e) => this.retracted.has(e.id));
    if (retracted.length) throw new FleetError('retracted_errata', retracted.map((e) => e.id).join(','), retracted[0]?.id);
    // NotInMaintenanceModeException (1334): `earliest` outside a target's maintenance window.
    const earliest = opts.earliestMs ?? this.now();
    const closed = this.maintenance.notMatching(systems.map((s) => s.id), earliest);
    if (closed.length) this.maintenanceRefusals.push({ systemIds: systems.map((s) => s.id), erratumIds: errata.map((e) => e.id), earliestMs: earliest, atMs: this.now() });
    if (closed.length) throw new FleetError('not_in_maintenance', `Schedules '${closed.join(',')}' are not matching date ${new Date(earliest).toString()} `, closed.join(','));
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
   * One package-manager install run (salt pkg.install, UYUNI's package install): each build installed as
   * dnf/apt would, with dependencies, obsoletes and installonly_limit. Host faults apply: install_fails
   * throws FleetError('install_failed') with the tool's error line and changes nothing; downgrade_sticks
   * leaves that package at its newer version and says nothing; service_stays_down fires after a downgrade.
   */
  installPackages(systemId: number, builds: readonly PackageBuild[]): InstallResult {
    const sys = this.requireSystem(systemId);
    if (builds.length === 0) return { stuck: [] };
    if (this.hostFaults.fire('install_fails', sys.id)) {
      this.bump(sys);
      throw new FleetError('install_failed', notInRepoMessage(sys.os, builds[0] as PackageBuild), (builds[0] as PackageBuild).name);
    }
    const inv = new Inventory(this.catalog, sys);
    const tx = new Transaction(inv, this.kernelState(sys, inv).running);
    const stuck: string[] = [];
    for (const b of builds) {
      const newest = tx.newest(b.family);
      const downgrade = !this.familyInfo(sys.os, b.family).multi && newest !== undefined && newest.build > b.build;
      if (downgrade && this.hostFaults.fire('downgrade_sticks', sys.id, (r) => r.package === b.name)) {
        stuck.push(b.name);
        continue;
      }
      tx.install(b);
    }
    this.commit(sys, tx.changes(), inv, { rollback: tx.rollback || stuck.length > 0 });
    return { stuck };
  }

  /**
   * One package-manager remove run. Refuses (changes nothing, returns the reasons) what dnf and apt
   * refuse: removing the running kernel.
   */
  removePackages(systemId: number, targets: readonly RemoveTarget[]): { refused: readonly RemoveRefusal[] } {
    const sys = this.requireSystem(systemId);
    const inv = new Inventory(this.catalog, sys);
    const tx = new Transaction(inv, this.kernelState(sys, inv).running);
    for (const t of targets) tx.remove(t.family, t.build);
    if (tx.refusals.length > 0) return { refused: tx.refusals };
    this.commit(sys, tx.changes(), inv, { rollback: tx.rollback });
    return { refused: [] };
  }

  /**
   * Puts families back to recorded builds and the saved boot entry back (snapper undochange): the running
   * kernel stays. Counts as a rollback for service_stays_down.
   */
  restoreInventory(systemId: number, families: ReadonlyMap<string, readonly number[]>, savedKernel: number | undefined | 'keep'): void {
    const sys = this.requireSystem(systemId);
    const inv = new Inventory(this.catalog, sys);
    const changes = new Map<string, readonly PackageBuild[]>();
    for (const [family, ids] of families) changes.set(family, ids.map((id) => this.requirePackageOf(sys, id)));
    if (savedKernel !== 'keep') this.kernelState(sys, inv).saved = savedKernel;
    this.commit(sys, changes, inv, { rollback: true, keepSaved: true });
  }

  /**
   * grubby --set-default / grub-set-default: the next boot starts that kernel (a build number of the
   * kernel image family), or the newest one with undefined. Returns false for a kernel that is not installed.
   */
  setBootDefault(systemId: number, kernelBuild: number | undefined): boolean {
    const sys = this.requireSystem(systemId);
    const inv = new Inventory(this.catalog, sys);
    if (kernelBuild !== undefined && !inv.builds(this.catalog.kernelImageFamily[sys.os]).some((b) => b.build === kernelBuild)) return false;
    this.kernelState(sys, inv).saved = kernelBuild;
    sys.hangOnReboot = this.wouldHang(sys, inv);
    this.bump(sys);
    return true;
  }

  /**
   * A reboot not driven by a UYUNI action (salt system.reboot): the system goes down now and is
   * back after the fleet's rebootMs on its boot default kernel, or never when that kernel hangs.
   */
  rebootNow(systemId: number): void {
    const sys = this.requireSystem(systemId);
    if (!sys.up) return;
    if (!this.startReboot(sys)) this.directReboots.set(systemId, this.now() + this.options.rebootMs);
    this.bump(sys);
  }

  /** service.start/stop/restart; a unit broken by service_stays_down does not start (returns false). */
  setServiceState(systemId: number, service: string, running: boolean): boolean {
    const sys = this.requireSystem(systemId);
    if (!(service in sys.services)) return false;
    if (running && this.brokenServices.get(systemId)?.has(service)) {
      sys.services[service] = false;
      this.bump(sys);
      return false;
    }
    sys.services[service] = running;
    this.bump(sys);
    return true;
  }

  /**
   * Power-cycles a system whose reboot hung: it comes back, the stuck reboot action fails. It boots its
   * default kernel when that one boots, else the kernel it ran before (picked in the boot menu).
   */
  recoverSystem(systemId: number): void {
    const sys = this.requireSystem(systemId);
    const now = this.now();
    for (const action of this.systemActions(systemId)) {
      const st = action.systems.get(systemId);
      if (st?.stuck) this.actions.fail(action.id, systemId, 'System did not come back after reboot; recovered by power cycle.', now);
    }
    this.directReboots.delete(systemId);
    const inv = new Inventory(this.catalog, sys);
    const target = this.bootDefaultBuild(sys, inv);
    if (target !== undefined && !this.catalog.hangingKernelBuilds[sys.os].has(target)) this.kernelState(sys, inv).running = target;
    sys.hung = false;
    sys.up = true;
    sys.bootTimeSec = Math.floor(now / 1000);
    sys.hangOnReboot = this.wouldHang(sys, inv);
    this.bump(sys);
    this.actions.unblock(systemId, now);
  }

  // ---------------------------------------------------------------- host faults

  /** Arms a host fault; FleetError('invalid_fault') names what is wrong with it. */
  addHostFault(input: HostFaultInput): HostFaultRule {
    const sys = this.system(input.systemId);
    if (!sys) throw new FleetError('invalid_fault', `systemId: no such system ${input.systemId}`, 'systemId');
    if (input.kind === 'downgrade_sticks' && !input.package) throw new FleetError('invalid_fault', 'package: required for downgrade_sticks', 'package');
    if (input.kind === 'service_stays_down' && (!input.service || !(input.service in sys.services))) {
      throw new FleetError('invalid_fault', `service: one of ${Object.keys(sys.services).join(', ')} is required for service_stays_down`, 'service');
    }
    const rule = this.hostFaults.add(input);
    sys.hangOnReboot = this.wouldHang(sys);
    this.bump(sys);
    return rule;
  }

  /** Disarms every host fault and repairs the units they broke; returns how many rules there were. */
  /** Arms an erratum fault (lab/fleet/errata-faults.ts); ids must be errata of the catalogue. */
  addErratumFault(input: ErratumFaultInput): ErratumFaultRule {
    const ids = input.kind === 'interaction' ? input.errataIds : [input.erratumId];
    for (const id of ids) if (!this.catalog.byId.has(id)) throw new FleetError('invalid_fault', `erratum ${id} does not exist`);
    if (input.kind === 'interaction' && new Set(ids).size < 2) throw new FleetError('invalid_fault', 'an interaction needs at least two distinct errata');
    if (input.kind === 'flaky' && !(Number.isInteger(input.every) && input.every >= 1)) throw new FleetError('invalid_fault', 'every must be an integer ≥ 1');
    return this.errataFaults.add(input);
  }

  clearErratumFaults(): number {
    return this.errataFaults.clear();
  }

  clearHostFaults(): number {
    const armed = new Set(this.hostFaults.list().map((r) => r.systemId));
    const n = this.hostFaults.clear();
    for (const sid of new Set([...armed, ...this.brokenServices.keys()])) {
      const sys = this.systemsById.get(sid) as LabSystem;
      this.brokenServices.delete(sid);
      sys.hangOnReboot = this.wouldHang(sys);
      this.bump(sys);
    }
    this.bump();
    return n;
  }

  /** Units a service_stays_down fault broke on the system. */
  brokenUnits(systemId: number): string[] {
    return [...(this.brokenServices.get(systemId) ?? [])];
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

  private requirePackageOf(sys: LabSystem, id: number): PackageBuild {
    const pkg = this.package(id);
    if (!pkg || pkg.os !== sys.os) throw new FleetError('invalid_package', `Invalid package: ${id}`, id);
    return pkg;
  }

  /** Lazily: generated systems run their newest kernel, and it is the boot default. */
  private kernelState(sys: LabSystem, inv: Inventory = new Inventory(this.catalog, sys)): KernelState {
    let k = this.kernels.get(sys.id);
    if (!k) {
      k = { running: inv.baselineBuildOf(this.kernelSource(sys.os)), saved: undefined };
      this.kernels.set(sys.id, k);
    }
    return k;
  }

  private kernelSource(os: Os): string {
    return this.familyInfo(os, this.catalog.kernelImageFamily[os]).source;
  }

  /** The kernel build the next boot starts: the saved entry while it is installed, else the newest. */
  private bootDefaultBuild(sys: LabSystem, inv: Inventory = new Inventory(this.catalog, sys)): number | undefined {
    const images = inv.builds(this.catalog.kernelImageFamily[sys.os]);
    const saved = this.kernelState(sys, inv).saved;
    if (saved !== undefined && images.some((b) => b.build === saved)) return saved;
    return images[images.length - 1]?.build;
  }

  /** The next reboot would not come back: no kernel to boot, a kernel that hangs, or an armed reboot_hangs fault. */
  private wouldHang(sys: LabSystem, inv: Inventory = new Inventory(this.catalog, sys)): boolean {
    const target = this.bootDefaultBuild(sys, inv);
    return target === undefined || this.catalog.hangingKernelBuilds[sys.os].has(target) || this.hostFaults.armed('reboot_hangs', sys.id).length > 0;
  }

  /** Takes the system down for a reboot; returns true when it hangs (never comes back by itself). */
  private startReboot(sys: LabSystem): boolean {
    sys.up = false;
    const fault = this.hostFaults.fire('reboot_hangs', sys.id);
    const hang = fault !== undefined || sys.hangOnReboot || this.wouldHang(sys);
    if (hang) sys.hung = true;
    sys.hangOnReboot = this.wouldHang(sys);
    return hang;
  }

  /** The UYUNI errata action's run: every package of the erratum installed or upgraded, never downgraded. */
  private erratumTransaction(sys: LabSystem, e: Erratum, inv: Inventory): Transaction {
    const tx = new Transaction(inv, this.kernelState(sys, inv).running);
    for (const p of this.packagesOf(e)) {
      const newest = tx.newest(p.family);
      if (this.familyInfo(sys.os, p.family).multi || newest === undefined || newest.build < p.build) tx.install(p);
    }
    return tx;
  }

  /** Whether the erratum, by the catalog alone, ships a newly introduced binary / drops one. */
  private catalogChanges(e: Erratum): { adds: boolean; removes: boolean } {
    const build = this.erratumBuild(e);
    let adds = false;
    let removes = false;
    for (const family of this.catalog.sourceFamilies.get(`${e.os}:${e.source}`) ?? []) {
      const info = this.familyInfo(e.os, family);
      if (!info.multi && info.sinceBuild > 0 && build >= info.sinceBuild) adds = true;
      if (info.untilBuild !== undefined && build >= info.untilBuild) removes = true;
    }
    return { adds, removes };
  }

  /**
   * Writes a transaction's result, moves the saved boot entry as the boot loader would (a newly
   * installed newer kernel becomes the default; a removed default falls back to the newest), then
   * lets relevance and fault personalities follow the packages.
   */
  private commit(sys: LabSystem, changes: ReadonlyMap<string, readonly PackageBuild[]>, inv: Inventory, opts: { rollback: boolean; keepSaved?: boolean; at?: number }): void {
    const imageFamily = this.catalog.kernelImageFamily[sys.os];
    const k = this.kernelState(sys, inv);
    const defaultBefore = this.bootDefaultBuild(sys, inv);
    const imagesBefore = inv.builds(imageFamily).map((b) => b.build);
    for (const [family, list] of changes) sys.installedOverrides.set(family, list.map((b) => b.id));
    const images = changes.get(imageFamily);
    if (images && !opts.keepSaved) {
      const added = images.map((b) => b.build).filter((b) => !imagesBefore.includes(b));
      const newest = added.length > 0 ? Math.max(...added) : undefined;
      // RHEL's kernel-install makes a new kernel the saved default; Ubuntu's GRUB boots the first (newest) entry.
      if (newest !== undefined && (defaultBefore === undefined || newest > defaultBefore)) k.saved = sys.os === 'rhel' ? newest : undefined;
    }
    if (k.saved !== undefined && !new Inventory(this.catalog, sys).builds(imageFamily).some((b) => b.build === k.saved)) k.saved = undefined;
    this.settle(sys, opts.at ?? this.now());
    if (opts.rollback) {
      const fault = this.hostFaults.fire('service_stays_down', sys.id);
      if (fault?.service) {
        let units = this.brokenServices.get(sys.id);
        if (!units) {
          units = new Set();
          this.brokenServices.set(sys.id, units);
        }
        units.add(fault.service);
        sys.services[fault.service] = false;
      }
    }
    this.bump(sys);
  }

  /**
   * Relevance follows the installed packages: an erratum of the system's set is relevant while one of
   * its packages has no installed build at or above the erratum's (the newest counts for kernels; a
   * package another one obsoleted counts as updated). An erratum that stops being relevant takes
   * effect (its personality) when its own builds are what got installed; one that becomes relevant
   * again loses its effects. Errata in a pending action wait for it.
   */
  private settle(sys: LabSystem, at: number): void {
    const inv = new Inventory(this.catalog, sys);
    for (const id of sys.baseRelevant) {
      const e = this.catalog.byId.get(id) as Erratum;
      const open = this.uncovered(sys, e, inv);
      const was = sys.relevant.has(id);
      if (open && !was) {
        sys.relevant.restore(id);
        if (e.rebootSuggested) sys.rebootNeeded = true;
        this.undoEffects(sys, id);
      } else if (!open && was && !sys.pendingErrata.has(id)) {
        sys.relevant.remove(id);
        if (this.packagesOf(e).some((p) => inv.builds(p.family).some((b) => b.id === p.id))) this.takeEffect(sys, e, at);
      }
    }
    sys.hangOnReboot = this.wouldHang(sys, inv);
  }

  private uncovered(sys: LabSystem, e: Erratum, inv: Inventory): boolean {
    for (const p of this.packagesOf(e)) {
      const newest = inv.newest(p.family);
      if (newest && newest.build >= p.build) continue;
      const info = this.familyInfo(sys.os, p.family);
      if (info.obsoletedBy !== undefined && info.untilBuild !== undefined) {
        const by = inv.newest(info.obsoletedBy);
        if (by && by.build >= info.untilBuild) continue;
      }
      return true;
    }
    return false;
  }

  private undoEffects(sys: LabSystem, erratumId: number): void {
    for (let i = sys.effects.length - 1; i >= 0; i--) {
      const eff = sys.effects[i];
      if (eff?.erratumId !== erratumId && !eff?.together?.includes(erratumId)) continue;
      sys.effects.splice(i, 1);
      if (eff.kind === 'stop_service' && eff.service && !this.brokenServices.get(sys.id)?.has(eff.service)) sys.services[eff.service] = true;
    }
  }

  private applyErratum(sys: LabSystem, e: Erratum, at: number): void {
    const inv = new Inventory(this.catalog, sys);
    const tx = this.erratumTransaction(sys, e, inv);
    this.commit(sys, tx.changes(), inv, { rollback: false, at });
    this.record(sys.id, e).applied++;
    this.bump(sys);
  }

  /** The erratum is installed: its fault personality takes hold. */
  private takeEffect(sys: LabSystem, e: Erratum, at: number): void {
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
      default:
        // reboot_hang lives in the kernel it ships: booting that kernel hangs (see wouldHang).
        break;
    }
    if (this.errataFaults.flakyInstall(e.id)) sys.effects.push({ kind: 'cpu_spike', erratumId: e.id, sinceMs: at });
    for (const group of this.errataFaults.interactionsOf(e.id)) {
      const installed = (id: number) => id === e.id || (sys.baseRelevant.includes(id) && !sys.relevant.has(id) && !sys.pendingErrata.has(id));
      if (group.every(installed)) {
        this.errataFaults.markInteraction(group);
        sys.effects.push({ kind: 'cpu_spike', erratumId: e.id, sinceMs: at, together: group });
      }
    }
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
    const hang = this.startReboot(sys);
    this.bump(sys);
    return hang ? 'stuck' : 'ok';
  }

  private onComplete(action: LabAction, state: SystemActionState, at: number): void {
    const sys = this.systemsById.get(state.systemId) as LabSystem;
    sys.lastCheckinMs = at;
    if (action.kind === 'errata') {
      const errata = action.errataIds.map((id) => this.catalog.byId.get(id) as Erratum);
      for (const e of errata) sys.pendingErrata.delete(e.id);
      // applyFailPercent: a production system's action fails on its own (chosen from the seed, the system and
      // the action), so one batched action ends Completed on some systems and Failed on others.
      const unlucky = sys.stage === 'prod' && this.options.applyFailPercent > 0
        && (hash32(`${this.options.seed}:apply:${sys.id}:${action.id}`) % 10_000) < this.options.applyFailPercent * 100;
      const failing = errata.find((e) => e.personality === 'fail_apply') ?? (unlucky ? errata[0] : undefined);
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
      try {
        this.installPackages(sys.id, builds);
      } catch (err) {
        if (!(err instanceof FleetError)) throw err;
        state.status = 'Failed';
        state.resultCode = 1;
        state.resultMsg = `Failed to install packages: ${err.message}`;
        return;
      }
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
    const target = this.bootDefaultBuild(sys);
    if (target !== undefined) this.kernelState(sys).running = target;
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

/** What apt / dnf say when the pinned version is no longer in any repository. */
function notInRepoMessage(os: Os, p: PackageBuild): string {
  return os === 'ubuntu' ? `E: Version '${packageVersionString(p)}' for '${p.name}' was not found` : `Error: Unable to find a match: ${p.name}-${p.version}-${p.release}`;
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

