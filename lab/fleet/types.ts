/**
 * The lab fleet's domain vocabulary. Protocol-agnostic on purpose: the UYUNI XML-RPC server,
 * the lab salt-api and the per-system node-exporter endpoints all read and mutate this one model.
 */
import type { RelevantSet } from './relevant-set.js';

export type Os = 'ubuntu' | 'rhel';
export type Stage = 'test' | 'prod';
export type AdvisoryType = 'Security Advisory' | 'Bug Fix Advisory' | 'Product Enhancement Advisory';
export type Severity = 'Critical' | 'Important' | 'Moderate' | 'Low';
export type AdvisoryStatus = 'final' | 'stable';

/** What happens to a system when an erratum is applied — the lab's seeded failure modes. */
export type Personality = 'none' | 'fail_apply' | 'stop_service' | 'cpu_spike' | 'memory_leak' | 'reboot_hang';
export const PERSONALITIES: readonly Personality[] = [
  'none',
  'fail_apply',
  'stop_service',
  'cpu_spike',
  'memory_leak',
  'reboot_hang',
];

export interface LabGroup {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly orgId: number;
  readonly os: Os;
  readonly stage: Stage;
  readonly systemIds: readonly number[];
}

/** One build of one binary package. Builds of a family form the version chain used for upgrades and downgrades. */
export interface PackageBuild {
  readonly id: number;
  /** Chain key: packages that replace each other (kernel ABI packages change name, not family). */
  readonly family: string;
  readonly name: string;
  readonly epoch: string;
  readonly version: string;
  readonly release: string;
  /** UYUNI arch label: x86_64 / noarch / amd64-deb / all-deb. */
  readonly arch: string;
  readonly os: Os;
  readonly source: string;
  /**
   * 0 = the baseline build every system starts from; n = shipped by the n-th erratum of the source;
   * -1 = the kernel before build 0 (install-only kernels only), still installed beside it.
   */
  readonly build: number;
  readonly sizeBytes: number;
  readonly summary: string;
  readonly configFiles: readonly string[];
  /** Number of runtime dependencies — lets a scorer weigh blast radius from the package list. */
  readonly requires: number;
}

export interface Erratum {
  readonly id: number;
  readonly advisoryName: string;
  readonly os: Os;
  readonly type: AdvisoryType;
  readonly status: AdvisoryStatus;
  readonly severity?: Severity;
  readonly synopsis: string;
  readonly topic: string;
  readonly description: string;
  readonly solution: string;
  readonly references: string;
  readonly product: string;
  readonly errataFrom: string;
  readonly vendorAdvisory: string;
  /** YYYY-MM-DD */
  readonly issueDate: string;
  /** YYYY-MM-DD */
  readonly updateDate: string;
  /** Epoch ms of the last modification (errata.getDetails `last_modified_date`). */
  readonly lastModifiedMs: number;
  readonly cves: readonly string[];
  readonly packageIds: readonly number[];
  readonly source: string;
  readonly kernel: boolean;
  readonly rebootSuggested: boolean;
  readonly restartSuggested: boolean;
  readonly configFiles: readonly string[];
  readonly personality: Personality;
  /** For `stop_service`: the critical service the update stops. */
  readonly stopsService?: string;
}

export type EffectKind = 'stop_service' | 'cpu_spike' | 'memory_leak';
export interface AppliedEffect {
  readonly kind: EffectKind;
  readonly erratumId: number;
  readonly sinceMs: number;
  readonly service?: string;
  /** An interaction's effect: gone as soon as any of these errata is no longer installed. */
  readonly together?: readonly number[];
}

export interface LabSystem {
  readonly id: number;
  readonly name: string;
  readonly os: Os;
  readonly osRelease: string;
  readonly group: string;
  readonly stage: Stage;
  /** Loopback address, unique per system; node-exporter for this system listens on it. */
  readonly ip: string;
  readonly minionId: string;
  readonly machineId: string;
  readonly registeredMs: number;
  readonly btrfs: boolean;
  readonly cpuBaseline: number;
  readonly memoryBaseline: number;
  readonly criticalServices: readonly string[];
  readonly baseChannel: string;
  /**
   * Subscribed channels that carry module metadata (RHEL 8/9 AppStream). UYUNI refuses errata and package
   * actions on such a system unless the call passes allowModules=true (fault 2107).
   */
  readonly modularChannels: readonly string[];
  /** Sorted erratum ids relevant at generation time; installed versions derive from it. */
  readonly baseRelevant: Int32Array;
  // ---- mutable state ----
  bootTimeSec: number;
  lastCheckinMs: number;
  rebootNeeded: boolean;
  /** False while rebooting or after a hung reboot. */
  up: boolean;
  /** The next reboot never comes back: its boot default is a reboot_hang kernel (or a reboot_hangs fault is armed). */
  hangOnReboot: boolean;
  hung: boolean;
  services: Record<string, boolean>;
  readonly relevant: RelevantSet;
  /** family → installed package build ids (oldest first, empty = not installed), only for families changed after generation. */
  readonly installedOverrides: Map<string, readonly number[]>;
  /** Errata in a Queued/Picked Up errata action on this system (scheduleApplyErrata's "already scheduled"). */
  readonly pendingErrata: Set<number>;
  readonly effects: AppliedEffect[];
  /** Bumped on every change to this system; memo key for derived values. */
  stateVersion: number;
}

export type ActionStatus = 'Queued' | 'Picked Up' | 'Completed' | 'Failed';
export type ActionKind = 'errata' | 'packages' | 'reboot';

export interface SystemActionState {
  readonly systemId: number;
  status: ActionStatus;
  pickupDueMs: number;
  completeDueMs: number;
  pickedUpMs?: number;
  completedMs?: number;
  resultMsg?: string;
  resultCode?: number;
  /** Waiting for the system to come back up before it can be picked up. */
  blocked: boolean;
  /** A hung reboot: stays Picked Up for ever. */
  stuck: boolean;
}

export interface LabAction {
  readonly id: number;
  readonly kind: ActionKind;
  /** UYUNI action type label, e.g. errata.update. */
  readonly typeLabel: string;
  /** UYUNI action type name, e.g. Patch Update. */
  readonly typeName: string;
  readonly name: string;
  readonly scheduler: string;
  readonly createdMs: number;
  readonly earliestMs: number;
  readonly errataIds: readonly number[];
  readonly packageIds: readonly number[];
  readonly systems: Map<number, SystemActionState>;
  modifiedMs: number;
}

export interface InstalledPackage {
  readonly build: PackageBuild;
}

export interface SystemMetrics {
  readonly up: boolean;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly bootTimeSec: number;
  readonly services: Readonly<Record<string, boolean>>;
}

export interface Nevra {
  readonly name: string;
  readonly epoch: string;
  readonly version: string;
  readonly release: string;
  readonly arch: string;
}
