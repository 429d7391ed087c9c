/**
 * Generates the advisories of both distributions, their package builds and their fault
 * personalities. Errata objects are created once and shared by every system they are relevant to.
 */
import { archLabel, familyOf, OS_SPECS, OSES, shipsAt, type SourceSpec } from './catalog.js';
import { createRng, hash32, type Rng } from './prng.js';
import { advisoryTexts } from './texts.js';
import type { AdvisoryType, Erratum, Os, PackageBuild, Personality, Severity } from './types.js';

export const FIRST_ERRATUM_ID = 5001;
export const FIRST_PACKAGE_ID = 200001;

const FIRST_DAY_MS = Date.UTC(2022, 0, 4);
const LAST_DAY_MS = Date.UTC(2025, 5, 27);
const DAY_MS = 86_400_000;

export interface ErrataCatalog {
  /** Ascending by id. */
  readonly errata: readonly Erratum[];
  readonly byId: ReadonlyMap<number, Erratum>;
  readonly byName: ReadonlyMap<string, Erratum>;
  readonly byOs: Readonly<Record<Os, readonly Erratum[]>>;
  /** Indexed by id - FIRST_PACKAGE_ID. */
  readonly packages: readonly PackageBuild[];
  /** `${os}:${family}` → builds ordered by build number. */
  readonly chains: ReadonlyMap<string, readonly PackageBuild[]>;
  /** Families of each OS (every system has each installed at some build). */
  readonly families: Readonly<Record<Os, readonly string[]>>;
  /** `${os}:${name}:${epoch}:${version}:${release}:${arch}` → build. */
  readonly byNevra: ReadonlyMap<string, PackageBuild>;
  /** `${os}:${family}` → how the family installs, upgrades and goes away. */
  readonly familyInfo: ReadonlyMap<string, FamilyInfo>;
  /** `${os}:${source}` → families of the source (every binary that ever shipped). */
  readonly sourceFamilies: ReadonlyMap<string, readonly string[]>;
  /** `${os}:${source}` → newest build number. */
  readonly newestBuild: ReadonlyMap<string, number>;
  /** The family whose builds are the boot entries (kernel-core / linux-image-…-generic). */
  readonly kernelImageFamily: Readonly<Record<Os, string>>;
  /** Kernel builds (of the kernel image family) that a reboot_hang erratum ships, per OS. */
  readonly hangingKernelBuilds: Readonly<Record<Os, ReadonlySet<number>>>;
}

export interface FamilyInfo {
  readonly os: Os;
  readonly family: string;
  readonly source: string;
  /** Several builds installed side by side: RHEL installonlypkgs and Ubuntu's ABI-named kernel packages. */
  readonly multi: boolean;
  /** dnf installonly_limit applies (RHEL install-only packages). */
  readonly installOnly: boolean;
  readonly bootImage: boolean;
  /** Families of the same source and build this one depends on. */
  readonly dependsOn: readonly string[];
  readonly sinceBuild: number;
  readonly untilBuild?: number;
  /** Family whose build >= untilBuild obsoletes (replaces) this one. */
  readonly obsoletedBy?: string;
  /** Family whose builds from sinceBuild on pull this one in (weak dependency). */
  readonly pulledInBy?: string;
}

interface Draft {
  os: Os;
  dayMs: number;
  spec: SourceSpec;
  build: number;
  type: AdvisoryType;
  severity?: Severity;
  cveCount: number;
  personality: Personality;
  stopsService?: string;
  advisoryName: string;
  updateDayMs: number;
  modifiedSecond: number;
  cves: string[];
}

export function nevraKey(os: Os, name: string, epoch: string, version: string, release: string, arch: string): string {
  return `${os}:${name}:${epoch}:${version}:${release}:${arch}`;
}

export function generateErrata(seed: number, errataPerOs: number): ErrataCatalog {
  const drafts: Draft[] = [];
  const usedCves = new Set<string>();
  for (const os of OSES) {
    const rng = createRng(seed, `errata:${os}`);
    const osDrafts = draftOs(rng, os, errataPerOs);
    assignPersonalities(createRng(seed, `personality:${os}`), osDrafts, errataPerOs);
    nameAdvisories(createRng(seed, `names:${os}`), os, osDrafts);
    assignCves(createRng(seed, `cves:${os}`), osDrafts, usedCves);
    drafts.push(...osDrafts);
  }
  // Interleave both distributions by date, as one UYUNI server would number them.
  drafts.sort((a, b) => a.dayMs - b.dayMs || (a.os < b.os ? -1 : a.os > b.os ? 1 : 0) || a.build - b.build);
  return materialize(drafts);
}

function draftOs(rng: Rng, os: Os, count: number): Draft[] {
  const spec = OS_SPECS[os];
  // The first drafts cover the sources the fault personalities and tests rely on.
  const required = [
    ...spec.sources.filter((s) => s.kernel),
    ...spec.criticalServices.map((svc) => spec.sources.find((s) => s.service === svc)).filter((s) => s !== undefined),
    ...spec.sources.filter((s) => s.source === 'openssl'),
  ];
  const span = (LAST_DAY_MS - FIRST_DAY_MS) / DAY_MS;
  const step = span / count;
  const builds = new Map<string, number>();
  const drafts: Draft[] = [];
  const requiredSlots = new Map<number, SourceSpec>();
  // Spread the required sources over the timeline instead of bunching them at the start.
  required.forEach((s, i) => requiredSlots.set(Math.floor(((i + 0.5) * count) / required.length), s));
  for (let i = 0; i < count; i++) {
    const dayMs = FIRST_DAY_MS + Math.floor(i * step + rng.next() * step) * DAY_MS;
    const forced = requiredSlots.get(i);
    const source = forced ?? rng.weighted(spec.sources, (s) => s.weight);
    const build = (builds.get(source.source) ?? 0) + 1;
    builds.set(source.source, build);
    const type: AdvisoryType = forced ? 'Security Advisory' : advisoryType(rng, os, source);
    const severity = type === 'Security Advisory' && os === 'rhel' ? severityFor(rng, source) : undefined;
    drafts.push({
      os,
      dayMs,
      spec: source,
      build,
      type,
      ...(severity ? { severity } : {}),
      cveCount: type === 'Security Advisory' ? cveCount(rng, source) : 0,
      personality: 'none',
      advisoryName: '',
      updateDayMs: dayMs + (rng.chance(0.6) ? 0 : rng.int(1, 30)) * DAY_MS,
      modifiedSecond: rng.int(0, 86_399),
      cves: [],
    });
  }
  return drafts;
}

function advisoryType(rng: Rng, os: Os, source: SourceSpec): AdvisoryType {
  if (os === 'ubuntu') return 'Security Advisory'; // USNs are security notices only
  if (source.nonSecurity) return rng.chance(0.7) ? 'Bug Fix Advisory' : 'Product Enhancement Advisory';
  const roll = rng.next();
  if (roll < 0.62) return 'Security Advisory';
  return roll < 0.9 ? 'Bug Fix Advisory' : 'Product Enhancement Advisory';
}

function severityFor(rng: Rng, source: SourceSpec): Severity {
  const table: [Severity, number][] = source.kernel
    ? [['Critical', 5], ['Important', 70], ['Moderate', 20], ['Low', 5]]
    : [['Critical', 8], ['Important', 42], ['Moderate', 38], ['Low', 12]];
  return rng.weighted(table, ([, w]) => w)[0];
}

function cveCount(rng: Rng, source: SourceSpec): number {
  const table: [number, number][] = source.kernel
    ? [[1, 10], [2, 20], [3, 25], [4, 20], [5, 25]]
    : [[1, 45], [2, 25], [3, 15], [4, 8], [5, 7]];
  return rng.weighted(table, ([, w]) => w)[0];
}

/**
 * Seeds the failure modes. Only security errata get one, so "the riskiest security update" is
 * also where the lab hides trouble; every kind exists on both OSes at every scale.
 */
function assignPersonalities(rng: Rng, drafts: Draft[], count: number): void {
  const spec = OS_SPECS[drafts[0]?.os ?? 'ubuntu'];
  const security = drafts.filter((d) => d.type === 'Security Advisory');
  const take = (candidates: Draft[], n: number, personality: Personality, service?: string): void => {
    const pool = candidates.filter((d) => d.personality === 'none');
    for (let k = 0; k < n && pool.length > 0; k++) {
      const idx = Math.floor(rng.next() * pool.length);
      const d = pool.splice(idx, 1)[0] as Draft;
      d.personality = personality;
      if (service) d.stopsService = service;
    }
  };
  take(security.filter((d) => d.spec.kernel), Math.max(1, Math.round(count * 0.01)), 'reboot_hang');
  for (const svc of spec.criticalServices) {
    const own = security.filter((d) => d.spec.service === svc);
    const n = Math.max(1, Math.round(count * 0.005));
    take(own.length > 0 ? own : security.filter((d) => !d.spec.kernel), n, 'stop_service', svc);
  }
  const plain = security.filter((d) => !d.spec.kernel);
  const n = Math.max(2, Math.round(count * 0.015));
  take(plain, n, 'fail_apply');
  take(plain, n, 'cpu_spike');
  take(plain, n, 'memory_leak');
}

function nameAdvisories(rng: Rng, os: Os, drafts: Draft[]): void {
  if (os === 'ubuntu') {
    const avg = Math.max(1, Math.floor(2400 / drafts.length));
    let usn = 5800;
    let suffix = 1;
    drafts.forEach((d, i) => {
      if (i > 0 && rng.chance(0.08)) suffix += 1; // a follow-up notice (USN-NNNN-2) of the previous one
      else {
        usn += i === 0 ? 0 : rng.int(1, 2 * avg - 1);
        suffix = 1;
      }
      d.advisoryName = `USN-${usn}-${suffix}`;
    });
    return;
  }
  const perYear = drafts.length / 3.5;
  const avg = Math.max(1, Math.floor(9000 / perYear));
  const counters = new Map<number, number>();
  for (const d of drafts) {
    const year = new Date(d.dayMs).getUTCFullYear();
    const next = (counters.get(year) ?? rng.int(100, 300)) + rng.int(1, 2 * avg - 1);
    counters.set(year, next);
    const prefix = d.type === 'Security Advisory' ? 'RHSA' : d.type === 'Bug Fix Advisory' ? 'RHBA' : 'RHEA';
    d.advisoryName = `${prefix}-${year}:${String(next).padStart(4, '0')}`;
  }
}

function assignCves(rng: Rng, drafts: Draft[], used: Set<string>): void {
  for (const d of drafts) {
    const year = new Date(d.dayMs).getUTCFullYear();
    for (let k = 0; k < d.cveCount; k++) {
      let cve: string;
      do {
        const y = rng.chance(0.7) ? year : year - 1;
        cve = `CVE-${y}-${rng.int(10000, 52999)}`;
      } while (used.has(cve));
      used.add(cve);
      d.cves.push(cve);
    }
  }
}

function materialize(drafts: Draft[]): ErrataCatalog {
  const packages: PackageBuild[] = [];
  const chains = new Map<string, PackageBuild[]>();
  const byNevra = new Map<string, PackageBuild>();
  const families: Record<Os, string[]> = { ubuntu: [], rhel: [] };
  const familyInfo = new Map<string, FamilyInfo>();
  const sourceFamilies = new Map<string, string[]>();
  const newestBuild = new Map<string, number>();
  const kernelImageFamily: Record<Os, string> = { ubuntu: '', rhel: '' };
  const hangingKernelBuilds: Record<Os, Set<number>> = { ubuntu: new Set(), rhel: new Set() };

  const addBuild = (os: Os, spec: SourceSpec, bin: SourceSpec['binaries'][number], build: number): PackageBuild => {
    const family = familyOf(bin.name);
    const abi = String(31 + 2 * build);
    const name = bin.name.replace('{abi}', abi);
    const sizeJitter = 0.9 + (hash32(`${os}:${family}:${build}`) % 2000) / 10_000;
    const pkg: PackageBuild = {
      id: FIRST_PACKAGE_ID + packages.length,
      family,
      name,
      epoch: spec.epoch ?? '',
      version: spec.version,
      release: spec.release(build),
      arch: archLabel(os, bin.noarch),
      os,
      source: spec.source,
      build,
      sizeBytes: Math.round(bin.sizeKb * 1024 * sizeJitter),
      summary: spec.summary,
      configFiles: bin.configFiles ?? [],
      requires: bin.requires ?? 1,
    };
    packages.push(pkg);
    const key = `${os}:${family}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = [];
      chains.set(key, chain);
      families[os].push(family);
      familyInfo.set(key, {
        os,
        family,
        source: spec.source,
        multi: (bin.installOnly ?? false) || bin.name.includes('{abi}'),
        installOnly: bin.installOnly ?? false,
        bootImage: bin.bootImage ?? false,
        dependsOn: (bin.dependsOn ?? []).map(familyOf),
        sinceBuild: bin.sinceBuild ?? 0,
        ...(bin.untilBuild !== undefined ? { untilBuild: bin.untilBuild } : {}),
        ...(bin.obsoletedBy !== undefined ? { obsoletedBy: familyOf(bin.obsoletedBy) } : {}),
        ...(bin.pulledInBy !== undefined ? { pulledInBy: familyOf(bin.pulledInBy) } : {}),
      });
      const skey = `${os}:${spec.source}`;
      const list = sourceFamilies.get(skey);
      if (list) list.push(family);
      else sourceFamilies.set(skey, [family]);
      if (bin.bootImage) kernelImageFamily[os] = family;
    }
    newestBuild.set(`${os}:${spec.source}`, Math.max(build, newestBuild.get(`${os}:${spec.source}`) ?? 0));
    chain.push(pkg);
    byNevra.set(nevraKey(os, pkg.name, pkg.epoch, pkg.version, pkg.release, pkg.arch), pkg);
    return pkg;
  };

  // Baselines first: build 0 of every binary is what a freshly generated system has installed. Kernels
  // installed side by side also have build -1, the kernel before: a system keeps it beside its own.
  for (const os of OSES) {
    for (const spec of OS_SPECS[os].sources) {
      for (const bin of spec.binaries) {
        if (bin.installOnly || bin.name.includes('{abi}')) addBuild(os, spec, bin, -1);
        if (shipsAt(bin, 0)) addBuild(os, spec, bin, 0);
      }
    }
  }

  const errata: Erratum[] = [];
  const byId = new Map<number, Erratum>();
  const byName = new Map<string, Erratum>();
  const byOs: Record<Os, Erratum[]> = { ubuntu: [], rhel: [] };
  drafts.forEach((d, i) => {
    const builds = d.spec.binaries.filter((bin) => shipsAt(bin, d.build)).map((bin) => addBuild(d.os, d.spec, bin, d.build));
    if (d.personality === 'reboot_hang' && d.spec.kernel) hangingKernelBuilds[d.os].add(d.build);
    const id = FIRST_ERRATUM_ID + i;
    const texts = advisoryTexts(d.os, d.spec, d.type, d.severity, d.cves, d.advisoryName, d.build);
    const erratum: Erratum = {
      id,
      advisoryName: d.advisoryName,
      os: d.os,
      type: d.type,
      status: d.os === 'ubuntu' ? 'stable' : 'final',
      ...(d.severity ? { severity: d.severity } : {}),
      ...texts,
      issueDate: isoDay(d.dayMs),
      updateDate: isoDay(d.updateDayMs),
      lastModifiedMs: d.updateDayMs + d.modifiedSecond * 1000,
      cves: d.cves,
      packageIds: builds.map((b) => b.id),
      source: d.spec.source,
      kernel: d.spec.kernel ?? false,
      rebootSuggested: d.spec.reboot ?? false,
      restartSuggested: d.spec.restart ?? false,
      configFiles: builds.flatMap((b) => b.configFiles),
      personality: d.personality,
      ...(d.stopsService ? { stopsService: d.stopsService } : {}),
    };
    errata.push(erratum);
    byId.set(id, erratum);
    byName.set(erratum.advisoryName, erratum);
    byOs[d.os].push(erratum);
  });
  return { errata, byId, byName, byOs, packages, chains, families, byNevra, familyInfo, sourceFamilies, newestBuild, kernelImageFamily, hangingKernelBuilds };
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
