/** Fleet generation and behaviour knobs, with the seed benchmark as the default. */

export interface FleetOptions {
  seed?: number;
  /** Systems in each of test-ubuntu-2404 and test-rhel9. */
  testSystemsPerOs?: number;
  /** Systems in each of prod-ubuntu-2404 and prod-rhel9. */
  prodSystemsPerOs?: number;
  /** Per OS, instead of prodSystemsPerOs (a fleet of one OS: `{ rhel: 10000, ubuntu: 0 }`). */
  prodSystemsByOs?: { ubuntu?: number; rhel?: number };
  /**
   * Production groups per OS: 1 = prod-ubuntu-2404 / prod-rhel9; more = prod-rhel9-web, prod-rhel9-db, … (roles
   * in ROLES order), the systems dealt round-robin.
   */
  prodGroupsPerOs?: number;
  /**
   * Per OS, this many clean errata (no fault, no reboot, not a kernel; the lowest ids) are relevant to every
   * production system: the fleet-wide patch a rollout at scale deploys.
   */
  fleetWideErrata?: number;
  /**
   * Percent of production systems on which an errata action fails (chosen from the seed per system and
   * action: a batched action then has per-system outcomes, some Failed with a message).
   */
  applyFailPercent?: number;
  /** Errata generated per OS (the fleet holds twice this many). */
  errataPerOs?: number;
  /** Relevant errata per system. The default 317 × 2 test systems gives the seed's 634. */
  relevantPerSystem?: number;
  /** Share of a production system's relevant errata drawn from the test systems' errata. */
  prodOverlap?: number;
  /** Queued → Picked Up delay. */
  actionPickupMs?: number;
  /** Picked Up → Completed/Failed delay. */
  actionCompleteMs?: number;
  /** Picked Up → back up for a reboot action. */
  rebootMs?: number;
  cpuSpikePercent?: number;
  /** Immediate memory jump when a memory_leak erratum lands. */
  memoryLeakStepPercent?: number;
  /** Further climb per second afterwards. */
  memoryLeakPercentPerSecond?: number;
  /**
   * RHEL systems are subscribed to the AppStream channel with its module metadata, as every RHEL 8/9 is in
   * the field (so UYUNI refuses them without allowModules). Default true.
   */
  modularAppStream?: boolean;
  /**
   * UYUNI maintenance schedules: 'none' (default: every system may be patched at any time) or 'mixed' (some
   * production systems with none, some nightly, some in a window now; lab/fleet/maintenance.ts). Tests define
   * their own through POST /lab/maintenance/windows.
   */
  maintenance?: 'none' | 'mixed';
  /** Time source (epoch ms). Inject a manual clock in tests. */
  clock?: () => number;
}

export type ResolvedFleetOptions = Required<FleetOptions>;

export const DEFAULT_SEED = 20240514;

export const FLEET_DEFAULTS: Omit<ResolvedFleetOptions, 'clock'> = {
  seed: DEFAULT_SEED,
  testSystemsPerOs: 1,
  prodSystemsPerOs: 10,
  prodSystemsByOs: {},
  prodGroupsPerOs: 1,
  fleetWideErrata: 0,
  applyFailPercent: 0,
  errataPerOs: 400,
  relevantPerSystem: 317,
  prodOverlap: 0.7,
  actionPickupMs: 200,
  actionCompleteMs: 800,
  rebootMs: 1000,
  cpuSpikePercent: 40,
  memoryLeakStepPercent: 10,
  memoryLeakPercentPerSecond: 1,
  modularAppStream: true,
  maintenance: 'none',
};

/** 10,000 production systems of one OS beside a few test systems (bench/rollout). */
export const MAX_SYSTEMS = 10_100;
export const MAX_ERRATA = 5_000;

/** Named scales for the CLI and benchmarks. Errata counts are fleet totals (both OSes). */
export type ScaleName = 'seed' | 'large' | 'max';
export const SCALES: Record<ScaleName, FleetOptions> = {
  seed: {},
  large: { testSystemsPerOs: 10, prodSystemsPerOs: 990, errataPerOs: 1500, relevantPerSystem: 300 },
  max: { testSystemsPerOs: 25, prodSystemsPerOs: 4975, errataPerOs: 2500, relevantPerSystem: 300, prodGroupsPerOs: 5, fleetWideErrata: 2, applyFailPercent: 0.5 },
};

/** Production group roles, in the order groups are made (prodGroupsPerOs > 1). */
export const ROLES = ['web', 'db', 'app', 'cache', 'batch', 'mail', 'proxy', 'ldap', 'ci', 'mon'] as const;

export function resolveFleetOptions(opts: FleetOptions = {}): ResolvedFleetOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as FleetOptions;
  const resolved: ResolvedFleetOptions = { ...FLEET_DEFAULTS, clock: Date.now, ...defined };
  const prod = (os: 'ubuntu' | 'rhel') => resolved.prodSystemsByOs[os] ?? resolved.prodSystemsPerOs;
  const systems = 2 * resolved.testSystemsPerOs + prod('ubuntu') + prod('rhel');
  if (!Number.isInteger(resolved.prodGroupsPerOs) || resolved.prodGroupsPerOs < 1 || resolved.prodGroupsPerOs > ROLES.length) throw new RangeError(`prodGroupsPerOs must be an integer from 1 to ${ROLES.length}`);
  if (resolved.applyFailPercent < 0 || resolved.applyFailPercent > 100) throw new RangeError('applyFailPercent must be from 0 to 100');
  if (resolved.fleetWideErrata < 0) throw new RangeError('fleetWideErrata must not be negative');
  if (resolved.testSystemsPerOs < 1) throw new RangeError('testSystemsPerOs must be at least 1');
  if (resolved.prodSystemsPerOs < 0) throw new RangeError('prodSystemsPerOs must not be negative');
  if (systems > MAX_SYSTEMS) throw new RangeError(`at most ${MAX_SYSTEMS} systems (asked for ${systems})`);
  if (resolved.errataPerOs < 20) throw new RangeError('errataPerOs must be at least 20');
  if (2 * resolved.errataPerOs > MAX_ERRATA) throw new RangeError(`at most ${MAX_ERRATA} errata in total`);
  if (resolved.relevantPerSystem < 1 || resolved.relevantPerSystem > resolved.errataPerOs) {
    throw new RangeError('relevantPerSystem must be between 1 and errataPerOs');
  }
  return resolved;
}
