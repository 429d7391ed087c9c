// Wire structs → typed results (types.ts). One function per struct shape of the reference's §3.
import type { WireReader } from './wire.js';
import type { XmlRpcStruct, XmlRpcValue } from './values.js';
import type {
  ActionSystem,
  ScheduledAction,
  ErrataDetails,
  ErrataOverview,
  ErrataPackage,
  EventDetails,
  EventInfo,
  MaintenanceCalendar,
  MaintenanceSchedule,
  SystemDetails,
  SystemErrata,
  SystemEvent,
  SystemGroup,
  SystemNetwork,
  SystemOverview,
} from './types.js';

export function toSystemGroup(r: WireReader, s: XmlRpcStruct): SystemGroup {
  return {
    id: r.reqInt(s, 'id'),
    name: r.reqString(s, 'name'),
    description: r.optString(s, 'description') ?? '',
    systemCount: r.reqInt(s, 'system_count'),
    orgId: r.reqInt(s, 'org_id'),
  };
}

export function toSystemDetails(r: WireReader, s: XmlRpcStruct): SystemDetails {
  return {
    id: r.reqInt(s, 'id'),
    profileName: r.reqString(s, 'profile_name'),
    hostname: r.optString(s, 'hostname'),
    machineId: r.optString(s, 'machine_id'),
    minionId: r.optString(s, 'minion_id'),
    baseEntitlement: r.optString(s, 'base_entitlement'),
    addonEntitlements: r.optStrings(s, 'addon_entitlements'),
    autoUpdate: r.optBoolean(s, 'auto_update'),
    description: r.optString(s, 'description'),
    release: r.optString(s, 'release'),
    lastBoot: r.optDate(s, 'last_boot'),
    osaStatus: r.optString(s, 'osa_status'),
    lockStatus: r.optBoolean(s, 'lock_status'),
    virtualization: r.optString(s, 'virtualization'),
    contactMethod: r.optString(s, 'contact_method'),
  };
}

export function toSystemOverview(r: WireReader, s: XmlRpcStruct): SystemOverview {
  return {
    id: r.reqInt(s, 'id'),
    name: r.reqString(s, 'name'),
    lastCheckin: r.optDate(s, 'last_checkin'),
    created: r.optDate(s, 'created'),
    lastBoot: r.optDate(s, 'last_boot'),
    extraPkgCount: r.optInt(s, 'extra_pkg_count') ?? 0,
    outdatedPkgCount: r.optInt(s, 'outdated_pkg_count') ?? 0,
  };
}

export function toErrataOverview(r: WireReader, s: XmlRpcStruct): ErrataOverview {
  return {
    id: r.reqInt(s, 'id'),
    advisoryName: r.reqString(s, 'advisory_name'),
    advisoryType: r.reqString(s, 'advisory_type'),
    advisoryStatus: r.optString(s, 'advisory_status') ?? '',
    advisorySynopsis: r.optString(s, 'advisory_synopsis') ?? '',
    issueDate: r.optDate(s, 'issue_date'),
    updateDate: r.optDate(s, 'update_date'),
    reboot: r.optBoolean(s, 'reboot'),
    reload: r.optBoolean(s, 'reload'),
  };
}

export function toSystemErrata(r: WireReader, s: XmlRpcStruct): SystemErrata {
  return {
    systemId: r.reqInt(s, 'system_id'),
    errata: r.structs(s.errata, 'errata').map((e) => toErrataOverview(r, e)),
  };
}

export function toSystemNetwork(r: WireReader, s: XmlRpcStruct): SystemNetwork {
  return {
    ip: r.optString(s, 'ip') ?? '',
    ip6: r.optString(s, 'ip6') ?? '',
    hostname: r.optString(s, 'hostname') ?? '',
  };
}

export function toErrataDetails(r: WireReader, s: XmlRpcStruct): ErrataDetails {
  return {
    id: r.reqInt(s, 'id'),
    issueDate: r.optDate(s, 'issue_date'),
    updateDate: r.optDate(s, 'update_date'),
    lastModifiedDate: r.optDate(s, 'last_modified_date'),
    release: r.optInt(s, 'release') ?? 1,
    advisoryStatus: r.optString(s, 'advisory_status') ?? '',
    type: r.reqString(s, 'type'),
    severity: r.optString(s, 'severity'),
    synopsis: r.optString(s, 'synopsis') ?? '',
    description: r.optString(s, 'description') ?? '',
    topic: r.optString(s, 'topic') ?? '',
    solution: r.optString(s, 'solution') ?? '',
    references: r.optString(s, 'references') ?? '',
    notes: r.optString(s, 'notes') ?? '',
    product: r.optString(s, 'product') ?? '',
    errataFrom: r.optString(s, 'errataFrom') ?? '',
    vendorAdvisory: r.optString(s, 'vendor_advisory') ?? '',
    rebootSuggested: r.optBoolean(s, 'reboot_suggested') ?? false,
    restartSuggested: r.optBoolean(s, 'restart_suggested') ?? false,
  };
}

export function toErrataPackage(r: WireReader, s: XmlRpcStruct): ErrataPackage {
  return {
    id: r.reqInt(s, 'id'),
    name: r.reqString(s, 'name'),
    epoch: (r.optString(s, 'epoch') ?? '').trim(),
    version: r.reqString(s, 'version'),
    release: r.reqString(s, 'release'),
    archLabel: r.reqString(s, 'arch_label'),
    providingChannels: r.optStrings(s, 'providing_channels'),
    buildHost: r.optString(s, 'build_host'),
    description: r.optString(s, 'description'),
    checksum: r.optString(s, 'checksum'),
    checksumType: r.optString(s, 'checksum_type'),
    vendor: r.optString(s, 'vendor'),
    summary: r.optString(s, 'summary'),
    cookie: r.optString(s, 'cookie'),
    license: r.optString(s, 'license'),
    path: r.optString(s, 'path'),
    file: r.optString(s, 'file'),
    buildDate: r.optString(s, 'build_date'),
    lastModifiedDate: r.optString(s, 'last_modified_date'),
    partOfRetractedPatch: r.optBoolean(s, 'part_of_retracted_patch') ?? false,
    size: r.optInt(s, 'size'),
    payloadSize: r.optInt(s, 'payload_size'),
  };
}

function toEventInfo(r: WireReader, value: XmlRpcValue | undefined): EventInfo[] {
  if (value === undefined || value === null) return [];
  return r.structs(value, 'additional_info').map((s) => ({
    detail: r.optString(s, 'detail') ?? '',
    result: r.optString(s, 'result') ?? '',
  }));
}

export function toEventDetails(r: WireReader, s: XmlRpcStruct): EventDetails {
  return {
    id: r.reqInt(s, 'id'),
    historyType: r.optString(s, 'history_type') ?? 'History Event',
    status: r.reqString(s, 'status'),
    summary: r.optString(s, 'summary') ?? '',
    created: r.optDate(s, 'created'),
    pickedUp: r.optDate(s, 'picked_up'),
    completed: r.optDate(s, 'completed'),
    earliestAction: r.optDate(s, 'earliest_action'),
    resultMsg: r.optString(s, 'result_msg'),
    resultCode: r.optInt(s, 'result_code'),
    additionalInfo: toEventInfo(r, s.additional_info),
  };
}

/** Prefers the dateTime member, falls back to its string twin (`created_date` / `created`). */
function eitherDate(r: WireReader, s: XmlRpcStruct, dateMember: string, textMember: string): Date | null {
  return r.optDate(s, dateMember) ?? r.optDate(s, textMember);
}

export function toSystemEvent(r: WireReader, s: XmlRpcStruct): SystemEvent {
  return {
    id: r.reqInt(s, 'id'),
    name: r.optString(s, 'name') ?? '',
    actionType: r.reqString(s, 'action_type'),
    version: typeof s.version === 'number' ? String(s.version) : r.optString(s, 'version'),
    failedCount: r.optInt(s, 'failed_count') ?? 0,
    successfulCount: r.optInt(s, 'successful_count') ?? 0,
    earliestAction: r.optDate(s, 'earliest_action'),
    archived: r.optBoolean(s, 'archived') ?? false,
    schedulerUser: r.optString(s, 'scheduler_user'),
    prerequisite: r.optInt(s, 'prerequisite'),
    created: eitherDate(r, s, 'created_date', 'created'),
    modified: eitherDate(r, s, 'modified_date', 'modified'),
    pickedUp: eitherDate(r, s, 'pickup_date', 'pickup_time'),
    completed: eitherDate(r, s, 'completed_date', 'completion_time'),
    resultMsg: r.optString(s, 'result_msg'),
    additionalInfo: toEventInfo(r, s.additional_info),
  };
}

export function toScheduledAction(r: WireReader, s: XmlRpcStruct): ScheduledAction {
  return {
    id: r.reqInt(s, 'id'),
    name: r.optString(s, 'name') ?? '',
    type: r.optString(s, 'type') ?? '',
    scheduler: r.optString(s, 'scheduler'),
    earliest: r.optDate(s, 'earliest'),
    completedSystems: r.optInt(s, 'completedSystems') ?? 0,
    failedSystems: r.optInt(s, 'failedSystems') ?? 0,
    inProgressSystems: r.optInt(s, 'inProgressSystems') ?? 0,
  };
}

export function toActionSystem(r: WireReader, s: XmlRpcStruct): ActionSystem {
  return {
    serverId: r.reqInt(s, 'server_id'),
    serverName: r.optString(s, 'server_name') ?? '',
    baseChannel: r.optString(s, 'base_channel'),
    timestamp: r.optDate(s, 'timestamp'),
    message: r.optString(s, 'message'),
  };
}

export function toMaintenanceSchedule(r: WireReader, s: XmlRpcStruct): MaintenanceSchedule {
  const type = r.reqString(s, 'type').toLowerCase();
  return {
    id: r.reqInt(s, 'id'),
    name: r.reqString(s, 'name'),
    // UYUNI's ScheduleType enum serializes as SINGLE / MULTI on some versions: read case-insensitively.
    type: type === 'multi' ? 'multi' : 'single',
    calendar: r.optString(s, 'calendar'),
  };
}

export function toMaintenanceCalendar(r: WireReader, s: XmlRpcStruct): MaintenanceCalendar {
  return { id: r.reqInt(s, 'id'), label: r.reqString(s, 'label'), ical: r.optString(s, 'ical') ?? '', url: r.optString(s, 'url') };
}
