/**
 * UYUNI's struct shapes (reference/uyuni-api.md §3), field names and wire types exactly as its
 * serializers emit them. Dates are Date objects (→ dateTime); date-like strings stay strings.
 * Absent optional members are left undefined and omitted on the wire.
 */
import { stableHex } from '../fleet/prng.js';
import { OS_SPECS, type Erratum, type Fleet, type LabAction, type LabGroup, type LabSystem, type PackageBuild, type SystemActionState } from '../fleet/index.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** java.sql.Timestamp#toString: `2024-05-12 09:01:02.0`. */
export function javaTimestamp(ms: number): string {
  const d = new Date(ms);
  const frac = d.getUTCMilliseconds();
  const fraction = frac === 0 ? '0' : pad(frac, 3).replace(/0+$/, '');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fraction}`;
}

/** en_US short date (`M/d/yy`), as errata.getDetails formats issue/update dates. */
export function localeShortDate(isoDay: string): string {
  const [y, m, d] = isoDay.split('-');
  return `${Number(m)}/${Number(d)}/${(y ?? '').slice(2)}`;
}

export function groupStruct(g: LabGroup) {
  return { id: g.id, name: g.name, description: g.description, system_count: g.systemIds.length, org_id: g.orgId };
}

export function errataOverview(e: Erratum) {
  return {
    id: e.id,
    issue_date: e.issueDate,
    date: e.updateDate,
    update_date: e.updateDate,
    advisory_synopsis: e.synopsis,
    advisory_type: e.type,
    advisory_status: e.status,
    advisory_name: e.advisoryName,
    reboot: e.rebootSuggested,
    reload: e.restartSuggested,
  };
}

export function errataDetails(e: Erratum, advisoryStatus: string = e.status) {
  return {
    id: e.id,
    issue_date: localeShortDate(e.issueDate),
    update_date: localeShortDate(e.updateDate),
    last_modified_date: javaTimestamp(e.lastModifiedMs),
    release: 1,
    advisory_status: advisoryStatus,
    vendor_advisory: e.vendorAdvisory,
    product: e.product,
    errataFrom: e.errataFrom,
    solution: e.solution,
    description: e.description,
    synopsis: e.synopsis,
    topic: e.topic,
    references: e.references,
    notes: '',
    type: e.type,
    severity: e.severity,
    reboot_suggested: e.rebootSuggested,
    restart_suggested: e.restartSuggested,
  };
}

const LICENSES: Readonly<Record<string, string>> = {
  kernel: 'GPL-2.0-only', linux: 'GPL-2.0-only', openssl: 'Apache-2.0', openssh: 'BSD-2-Clause', nginx: 'BSD-2-Clause',
  httpd: 'Apache-2.0', curl: 'curl', glibc: 'LGPL-2.1-or-later', systemd: 'LGPL-2.1-or-later', sudo: 'ISC',
};

export function packageStruct(p: PackageBuild, channel: string, builtMs: number) {
  const checksum = stableHex(`pkg:${p.os}:${p.name}:${p.epoch}:${p.version}:${p.release}:${p.arch}`, 64);
  const debArch = p.arch === 'all-deb' ? 'all' : 'amd64';
  const file = p.os === 'ubuntu' ? `${p.name}_${p.version}-${p.release}_${debArch}.deb` : `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`;
  const buildHost = p.os === 'ubuntu' ? 'lcy02-amd64-051' : 'x86-64-01.build.eng.rdu2.redhat.com';
  const config = p.configFiles.length > 0 ? `\n\nConfiguration files:\n${p.configFiles.join('\n')}` : '';
  return {
    id: p.id,
    name: p.name,
    epoch: p.epoch,
    version: p.version,
    release: p.release,
    arch_label: p.arch,
    providing_channels: [channel],
    build_host: buildHost,
    description: `${p.summary}.${config}\n\nRequires: ${p.requires} package${p.requires === 1 ? '' : 's'}.`,
    checksum,
    checksum_type: 'sha256',
    vendor: p.os === 'ubuntu' ? 'Ubuntu' : 'Red Hat, Inc.',
    summary: p.summary,
    cookie: `${buildHost} ${Math.floor(builtMs / 1000)}`,
    license: LICENSES[p.source] ?? 'GPL-2.0-or-later',
    path: `packages/1/${checksum.slice(0, 3)}/${p.name}/${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}/${p.arch}/${checksum}/${file}`,
    file,
    build_date: javaTimestamp(builtMs),
    last_modified_date: javaTimestamp(builtMs + 3_600_000),
    part_of_retracted_patch: false,
    size: String(p.sizeBytes),
    payload_size: String(Math.round(p.sizeBytes * 0.93)),
  };
}

/** Which channel an erratum's packages come from. */
export function channelOf(e: Erratum): string {
  const spec = OS_SPECS[e.os].sources.find((s) => s.source === e.source);
  return spec?.channel ?? OS_SPECS[e.os].baseChannel;
}

export function serverDetails(s: LabSystem) {
  return {
    id: s.id,
    profile_name: s.name,
    machine_id: s.machineId,
    hostname: s.name,
    minion_id: s.minionId,
    base_entitlement: 'salt_entitled',
    addon_entitlements: [] as string[],
    auto_update: false,
    description: `Initial Registration Parameters:\nOS: ${s.os === 'ubuntu' ? 'Ubuntu' : 'RedHat'}\nRelease: ${s.osRelease}\nCPU Arch: x86_64`,
    address1: '',
    address2: '',
    city: '',
    state: '',
    country: '',
    building: '',
    room: '',
    rack: '',
    release: s.osRelease,
    last_boot: new Date(s.bootTimeSec * 1000),
    osa_status: 'unknown',
    lock_status: false,
    virtualization: 'KVM/QEMU',
    contact_method: 'default',
  };
}

export function systemOverview(s: LabSystem, fleet: Fleet) {
  return {
    id: s.id,
    name: s.name,
    last_checkin: new Date(s.lastCheckinMs),
    created: new Date(s.registeredMs),
    last_boot: new Date(s.bootTimeSec * 1000),
    extra_pkg_count: 0,
    outdated_pkg_count: fleet.outdatedPackageCount(s.id),
  };
}

export function installedPackageStruct(p: PackageBuild, installedMs: number | undefined) {
  return {
    package_id: p.id,
    name: p.name,
    epoch: p.epoch === '' ? ' ' : p.epoch,
    version: p.version,
    release: p.release,
    arch: p.arch,
    installtime: installedMs === undefined ? undefined : new Date(installedMs),
    retracted: false,
  };
}

function counts(a: LabAction) {
  let completed = 0;
  let failed = 0;
  let inProgress = 0;
  for (const st of a.systems.values()) {
    if (st.status === 'Completed') completed++;
    else if (st.status === 'Failed') failed++;
    else inProgress++;
  }
  return { completed, failed, inProgress };
}

export function scheduleAction(a: LabAction) {
  const c = counts(a);
  return {
    id: a.id,
    name: a.name,
    type: a.typeName,
    scheduler: a.scheduler,
    earliest: new Date(a.earliestMs),
    completedSystems: c.completed,
    failedSystems: c.failed,
    inProgressSystems: c.inProgress,
  };
}

export function scheduleSystem(s: LabSystem, st: SystemActionState, a: LabAction) {
  return {
    server_id: s.id,
    server_name: s.name,
    base_channel: s.baseChannel,
    timestamp: new Date(st.completedMs ?? st.pickedUpMs ?? a.createdMs),
    message: st.resultMsg,
  };
}

export function systemEvent(a: LabAction, st: SystemActionState) {
  const c = counts(a);
  return {
    id: a.id,
    name: a.name,
    action_type: a.typeName,
    version: '2',
    failed_count: c.failed,
    successful_count: c.completed,
    earliest_action: javaTimestamp(a.earliestMs),
    archived: 0,
    scheduler_user: a.scheduler,
    created: javaTimestamp(a.createdMs),
    created_date: new Date(a.createdMs),
    modified: javaTimestamp(a.modifiedMs),
    modified_date: new Date(a.modifiedMs),
    pickup_time: st.pickedUpMs === undefined ? undefined : javaTimestamp(st.pickedUpMs),
    pickup_date: st.pickedUpMs === undefined ? undefined : new Date(st.pickedUpMs),
    completion_time: st.completedMs === undefined ? undefined : javaTimestamp(st.completedMs),
    completed_date: st.completedMs === undefined ? undefined : new Date(st.completedMs),
    result_msg: st.resultMsg,
  };
}

export function eventDetails(a: LabAction, st: SystemActionState) {
  return {
    id: a.id,
    history_type: a.typeName,
    status: st.status,
    summary: a.name,
    created: new Date(a.createdMs),
    picked_up: st.pickedUpMs === undefined ? undefined : new Date(st.pickedUpMs),
    completed: st.completedMs === undefined ? undefined : new Date(st.completedMs),
    earliest_action: new Date(a.earliestMs),
    result_msg: st.resultMsg,
    result_code: st.resultCode,
  };
}
