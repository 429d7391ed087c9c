// Typed results of the UyuniClient methods. Naming is camelCase throughout (wire names in the
// comments where they differ in more than case). Date-like fields are `Date` instants, normalized
// from whatever shape the method emits (see uyuni-date.ts); members Uyuni omits when null are
// `null` here. Shapes follow the reference's §3 tables.

/** systemgroup.listAllGroups */
export interface SystemGroup {
  id: number;
  name: string;
  description: string;
  /** system_count */
  systemCount: number;
  orgId: number;
}

/** systemgroup.listSystems (= system.getDetails): no IP and no last check-in here. */
export interface SystemDetails {
  id: number;
  profileName: string;
  hostname: string | null;
  machineId: string | null;
  minionId: string | null;
  /** salt_entitled | enterprise_entitled | … */
  baseEntitlement: string | null;
  addonEntitlements: string[];
  autoUpdate: boolean | null;
  description: string | null;
  /** OS release */
  release: string | null;
  lastBoot: Date | null;
  osaStatus: string | null;
  lockStatus: boolean | null;
  virtualization: string | null;
  /** default | ssh-push | … */
  contactMethod: string | null;
}

/** systemgroup.listSystemsMinimal, errata.listAffectedSystems */
export interface SystemOverview {
  id: number;
  name: string;
  lastCheckin: Date | null;
  created: Date | null;
  lastBoot: Date | null;
  extraPkgCount: number;
  outdatedPkgCount: number;
}

/** system.getRelevantErrata: no severity and no CVEs (use getErrataDetails / listCves). */
export interface ErrataOverview {
  /** The errata id scheduleApplyErrata takes. */
  id: number;
  advisoryName: string;
  /** Security Advisory | Bug Fix Advisory | Product Enhancement Advisory */
  advisoryType: string;
  /** final | stable | testing | retracted */
  advisoryStatus: string;
  advisorySynopsis: string;
  issueDate: Date | null;
  updateDate: Date | null;
  /** Newer servers only: reboot suggested. */
  reboot: boolean | null;
  /** Newer servers only: package-manager restart suggested. */
  reload: boolean | null;
}

/** system.getRelevantErrata with an int[]: system_id arrives as a string. */
export interface SystemErrata {
  systemId: number;
  errata: ErrataOverview[];
}

/** system.getNetwork: empty strings when unknown. */
export interface SystemNetwork {
  ip: string;
  ip6: string;
  hostname: string;
}

/** errata.getDetails */
export interface ErrataDetails {
  id: number;
  /** Locale short date on the wire (`5/10/24`). */
  issueDate: Date | null;
  updateDate: Date | null;
  /** java.sql.Timestamp text on the wire. */
  lastModifiedDate: Date | null;
  /** Advisory revision. */
  release: number;
  advisoryStatus: string;
  /** Advisory type (wire key `type`). */
  type: string;
  /** Critical | Important | Moderate | Low; only for security errata that have one. */
  severity: string | null;
  synopsis: string;
  description: string;
  topic: string;
  solution: string;
  references: string;
  notes: string;
  product: string;
  errataFrom: string;
  /** URL or ''. */
  vendorAdvisory: string;
  rebootSuggested: boolean;
  restartSuggested: boolean;
}

/** errata.listPackages */
export interface ErrataPackage {
  id: number;
  name: string;
  /** '' when the package has none (the form schedulePackageInstallByNevra wants). */
  epoch: string;
  version: string;
  release: string;
  archLabel: string;
  providingChannels: string[];
  buildHost: string | null;
  description: string | null;
  checksum: string | null;
  checksumType: string | null;
  vendor: string | null;
  summary: string | null;
  cookie: string | null;
  license: string | null;
  path: string | null;
  file: string | null;
  /** Verbatim: its format is locale-dependent and undocumented. */
  buildDate: string | null;
  /** Verbatim, as buildDate. */
  lastModifiedDate: string | null;
  partOfRetractedPatch: boolean;
  /** Bytes; a string on the wire. */
  size: number | null;
  payloadSize: number | null;
}

/** Input of schedulePackageInstallByNevra. */
export interface PackageNevra {
  name: string;
  /** '' or omitted when none. */
  epoch?: string;
  version: string;
  release: string;
  /** Arch label: x86_64, noarch, aarch64, amd64-deb, … */
  arch: string;
}

/** Options of the scheduling calls that take UYUNI's `allowModules` (reference §3.4). */
export interface ScheduleOptions {
  /**
   * Schedule even when a target is subscribed to a modular channel (every RHEL 8/9 with AppStream); without
   * it UYUNI refuses with fault 2107 (UyuniModulesNotAllowedError). Default: the client's `allowModules`.
   */
  allowModules?: boolean;
}

export interface ScheduleApplyErrataOptions extends ScheduleOptions {
  /** Default true: every errata must be applicable and not yet scheduled, else fault 2600. */
  onlyRelevant?: boolean;
}

export interface EventInfo {
  detail: string;
  result: string;
}

/** system.getEventDetails: the per-system state of an action. */
export interface EventDetails {
  id: number;
  historyType: string;
  /** Queued | Picked Up | Completed | Failed */
  status: string;
  summary: string;
  created: Date | null;
  pickedUp: Date | null;
  completed: Date | null;
  earliestAction: Date | null;
  resultMsg: string | null;
  resultCode: number | null;
  additionalInfo: EventInfo[];
}

/** system.listSystemEvents: no per-system status (infer from completed / resultMsg). */
export interface SystemEvent {
  /** Action id. */
  id: number;
  name: string;
  /** e.g. Patch Update, System reboot */
  actionType: string;
  version: string | null;
  /** Action-wide counters, not this system's. */
  failedCount: number;
  successfulCount: number;
  earliestAction: Date | null;
  archived: boolean;
  schedulerUser: string | null;
  prerequisite: number | null;
  created: Date | null;
  modified: Date | null;
  pickedUp: Date | null;
  completed: Date | null;
  resultMsg: string | null;
  additionalInfo: EventInfo[];
}

/** schedule.listCompletedSystems / listFailedSystems / listInProgressSystems */
/** An org-wide action (schedule.listAllActions and friends, uyuni-api.md §3.5). */
export interface ScheduledAction {
  id: number;
  name: string;
  /** The action type's name, e.g. "Patch Update", "System reboot". */
  type: string;
  scheduler: string | null;
  earliest: Date | null;
  completedSystems: number;
  failedSystems: number;
  inProgressSystems: number;
}

export interface ActionSystem {
  serverId: number;
  serverName: string;
  baseChannel: string | null;
  timestamp: Date | null;
  /** The system's result message (e.g. Salt state error text). */
  message: string | null;
}

/**
 * maintenance.getScheduleDetails (uyuni-api.md §3.8, MaintenanceHandler): `single` = every event of the calendar
 * is a window; `multi` = only the events whose SUMMARY is the schedule's name. `calendar` is the calendar label
 * (absent when the schedule has none).
 */
export interface MaintenanceSchedule {
  id: number;
  name: string;
  type: 'single' | 'multi';
  calendar: string | null;
}

/** maintenance.getCalendarDetails: the iCal text (RFC 5545), and the URL it was fetched from, if any. */
export interface MaintenanceCalendar {
  id: number;
  label: string;
  ical: string;
  url: string | null;
}
