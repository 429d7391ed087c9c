/**
 * Groups and systems, each with its own loopback address and its own relevant-errata set.
 * Test systems always carry a few errata of every fault personality, so a test can ask for
 * "an erratum that stops a service on rhel" at every scale.
 */
import { OS_SPECS, OSES } from './catalog.js';
import type { ErrataCatalog } from './errata.js';
import { ROLES, type ResolvedFleetOptions } from './options.js';
import { createRng, sampleDistinct, stableHex, type Rng } from './prng.js';
import { RelevantSet } from './relevant-set.js';
import type { LabGroup, LabSystem, Os, Personality, Stage } from './types.js';

export const FIRST_SYSTEM_ID = 1000010000;
export const FIRST_GROUP_ID = 11;
/** The fleet's "now" at generation: boot and check-in times are anchored here, not to the wall clock. */
export const GENESIS_MS = Date.UTC(2025, 6, 1);
const DAY_MS = 86_400_000;

/** Fault kinds every test system carries, and how many of each. */
const FORCED_PER_KIND = 3;

export function groupName(stage: Stage, os: Os): string {
  return `${stage}-${OS_SPECS[os].groupSuffix}`;
}

/**
 * i-th loopback address, skipping 127.0.0.1 (the host's own) and the .0/.255 octets that some
 * tools treat specially: 127.0.0.2, 127.0.0.3, ... 127.0.0.255 is never used.
 */
export function loopbackAddress(index: number): string {
  const pos = index + 1;
  const hi = Math.floor(pos / 254);
  const lo = (pos % 254) + 1;
  if (hi > 255) throw new RangeError('loopback address space exhausted');
  return `127.0.${hi}.${lo}`;
}

export interface GeneratedSystems {
  readonly groups: LabGroup[];
  readonly systems: LabSystem[];
}

export function generateSystems(opts: ResolvedFleetOptions, catalog: ErrataCatalog): GeneratedSystems {
  const layout: { stage: Stage; os: Os; count: number }[] = [
    { stage: 'test', os: 'ubuntu', count: opts.testSystemsPerOs },
    { stage: 'test', os: 'rhel', count: opts.testSystemsPerOs },
    { stage: 'prod', os: 'ubuntu', count: opts.prodSystemsByOs.ubuntu ?? opts.prodSystemsPerOs },
    { stage: 'prod', os: 'rhel', count: opts.prodSystemsByOs.rhel ?? opts.prodSystemsPerOs },
  ];
  // The fleet-wide errata: the lowest-id clean ones of each OS, relevant to every production system.
  const fleetWide = new Map<Os, number[]>(
    OSES.map((os) => [os, catalog.byOs[os].filter((e) => e.personality === 'none' && !e.rebootSuggested && !e.kernel).map((e) => e.id).sort((a, b) => a - b).slice(0, opts.fleetWideErrata)]),
  );
  const pools = new Map<Os, Int32Array>();
  const scratch = new Map<Os, Int32Array>();
  const forced = new Map<Os, number[]>();
  for (const os of OSES) {
    const ids = Int32Array.from(catalog.byOs[os].map((e) => e.id));
    pools.set(os, ids);
    scratch.set(os, new Int32Array(ids.length));
    forced.set(os, forcedErrata(createRng(opts.seed, `forced:${os}`), catalog, os).slice(0, opts.relevantPerSystem));
  }
  const testUnion = new Map<Os, Set<number>>(OSES.map((os) => [os, new Set<number>()]));

  const groups: LabGroup[] = [];
  const systems: LabSystem[] = [];
  layout.forEach(({ stage, os, count }, g) => {
    const spec = OS_SPECS[os];
    const name = groupName(stage, os);
    const rng = createRng(opts.seed, `systems:${name}`);
    const pool = pools.get(os) as Int32Array;
    const buf = scratch.get(os) as Int32Array;
    const union = testUnion.get(os) as Set<number>;
    const unionIds = stage === 'prod' ? Int32Array.from(union) : undefined;
    const unionBuf = unionIds ? new Int32Array(unionIds.length) : undefined;
    const width = stage === 'test' ? Math.max(2, String(count).length) : Math.max(3, String(count).length);
    // Production systems dealt round-robin into the role groups (prodGroupsPerOs > 1): prod-rhel9-web, -db, …
    const roles = stage === 'prod' ? opts.prodGroupsPerOs : 1;
    const roleGroup = (i: number) => (roles > 1 ? `${name}-${ROLES[i % roles]}` : name);
    const systemIds: number[][] = Array.from({ length: roles }, () => []);
    for (let i = 0; i < count; i++) {
      const id = FIRST_SYSTEM_ID + systems.length;
      const host = `${stage}-${os === 'ubuntu' ? 'ubuntu' : 'rhel9'}-${String(i + 1).padStart(width, '0')}.lab.example`;
      let relevant: number[];
      if (stage === 'test') {
        // The fleet-wide errata too, so the sync caches them and they can be queued like any other.
        const must = [...new Set([...(forced.get(os) as number[]), ...(fleetWide.get(os) as number[])])].slice(0, opts.relevantPerSystem);
        relevant = [...must, ...sampleDistinct(rng, pool, opts.relevantPerSystem - must.length, new Set(must), buf)];
        for (const e of relevant) union.add(e);
      } else {
        const wide = fleetWide.get(os) as number[];
        const fromTest = sampleDistinct(rng, unionIds as Int32Array, Math.max(0, Math.round(opts.relevantPerSystem * opts.prodOverlap) - wide.length), new Set(wide), unionBuf as Int32Array);
        const taken = [...wide, ...fromTest];
        relevant = [...taken, ...sampleDistinct(rng, pool, Math.max(0, opts.relevantPerSystem - taken.length), new Set(taken), buf)];
      }
      const baseRelevant = Int32Array.from(relevant).sort();
      systems.push(
        makeSystem(rng, { id, host, os, stage, group: roleGroup(i), index: i, ip: loopbackAddress(systems.length), baseRelevant, spec, modular: opts.modularAppStream }),
      );
      (systemIds[roles > 1 ? i % roles : 0] as number[]).push(id);
    }
    for (let r = 0; r < roles; r++) {
      groups.push({
        id: FIRST_GROUP_ID + g + (r === 0 ? 0 : 100 * r),
        name: roles > 1 ? `${name}-${ROLES[r]}` : name,
        description: `${spec.label} ${stage === 'test' ? 'test' : 'production'} systems${roles > 1 ? ` (${ROLES[r]})` : ''}`,
        orgId: 1,
        os,
        stage,
        systemIds: systemIds[r] as number[],
      });
    }
  });
  return { groups, systems };
}

function forcedErrata(rng: Rng, catalog: ErrataCatalog, os: Os): number[] {
  const errata = catalog.byOs[os];
  const out: number[] = [];
  const takeSome = (ids: number[], n: number): void => {
    const pool = [...ids];
    for (let k = 0; k < n && pool.length > 0; k++) out.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0] as number);
  };
  const kinds: Personality[] = ['fail_apply', 'cpu_spike', 'memory_leak', 'reboot_hang'];
  for (const kind of kinds) takeSome(errata.filter((e) => e.personality === kind).map((e) => e.id), FORCED_PER_KIND);
  for (const svc of OS_SPECS[os].criticalServices) {
    takeSome(errata.filter((e) => e.personality === 'stop_service' && e.stopsService === svc).map((e) => e.id), 1);
  }
  return out;
}

interface SystemSeed {
  id: number;
  host: string;
  os: Os;
  stage: Stage;
  group: string;
  index: number;
  ip: string;
  baseRelevant: Int32Array;
  spec: (typeof OS_SPECS)[Os];
  modular: boolean;
}

function makeSystem(rng: Rng, s: SystemSeed): LabSystem {
  const round1 = (x: number) => Math.round(x * 10) / 10;
  // Half the test systems have a btrfs root (snapper available), alternating so both OSes get some.
  const btrfs = s.stage === 'test' ? (s.index + (s.os === 'rhel' ? 1 : 0)) % 2 === 0 : rng.chance(0.25);
  const bootTimeSec = Math.floor((GENESIS_MS - rng.int(1, 60) * DAY_MS - rng.int(0, 86_399) * 1000) / 1000);
  return {
    id: s.id,
    name: s.host,
    os: s.os,
    osRelease: s.spec.release,
    group: s.group,
    stage: s.stage,
    ip: s.ip,
    minionId: s.host,
    machineId: stableHex(`machine:${s.host}`, 32),
    registeredMs: GENESIS_MS - rng.int(100, 700) * DAY_MS,
    btrfs,
    cpuBaseline: round1(5 + rng.next() * 30),
    memoryBaseline: round1(20 + rng.next() * 40),
    criticalServices: s.spec.criticalServices,
    baseChannel: s.spec.baseChannel,
    modularChannels: s.modular ? s.spec.modularChannels : [],
    baseRelevant: s.baseRelevant,
    bootTimeSec,
    lastCheckinMs: GENESIS_MS - rng.int(30, 3600) * 1000,
    rebootNeeded: s.stage === 'prod' && rng.chance(0.1),
    up: true,
    hangOnReboot: false,
    hung: false,
    services: Object.fromEntries(s.spec.criticalServices.map((svc) => [svc, true])),
    relevant: new RelevantSet(s.baseRelevant),
    installedOverrides: new Map(),
    pendingErrata: new Set(),
    effects: [],
    stateVersion: 0,
  };
}
