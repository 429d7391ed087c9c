/** Public surface of the lab fleet model. */
export { Fleet, FleetError, generateFleet } from './fleet.js';
export type {
  ApplyRecord,
  ErratumEffectOnPackages,
  ErratumQuery,
  FleetErrorCode,
  FleetTruth,
  InstallResult,
  InventoryState,
  KernelView,
  RemoveTarget,
  ScheduleOptions,
} from './fleet.js';
export { INSTALLONLY_LIMIT, OS_SPECS, OSES, archLabel } from './catalog.js';
export type { FamilyInfo } from './errata.js';
export type { RemoveRefusal } from './inventory.js';
export { HOST_FAULT_KINDS } from './host-faults.js';
export type { ErratumFaultInput, ErratumFaultRule } from './errata-faults.js';
export type { HostFaultInput, HostFaultKind, HostFaultRule } from './host-faults.js';
export { blsEntryPath, grubMenuEntry, kernelReleaseOf, vmlinuzPath } from './kernel.js';
export type { OsSpec, SourceSpec } from './catalog.js';
export { DEFAULT_SEED, FLEET_DEFAULTS, MAX_ERRATA, MAX_SYSTEMS, SCALES, resolveFleetOptions } from './options.js';
export type { FleetOptions, ResolvedFleetOptions, ScaleName } from './options.js';
export { FIRST_ERRATUM_ID, FIRST_PACKAGE_ID } from './errata.js';
export { FIRST_GROUP_ID, FIRST_SYSTEM_ID, GENESIS_MS, groupName, loopbackAddress } from './systems.js';
export { FIRST_ACTION_ID } from './actions.js';
export { manualClock } from './clock.js';
export type { ManualClock } from './clock.js';
export { PERSONALITIES } from './types.js';
export type * from './types.js';
export { actionView, erratumView, systemView } from './views.js';
export { cpuCount, kernelRelease, memTotalBytes, osFacts, packageVersionString, shortHostname } from './facts.js';
export type { OsFacts } from './facts.js';
