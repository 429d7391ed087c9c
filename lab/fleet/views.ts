/** Plain-JSON views of fleet state for lab control APIs and test assertions. */
import type { Fleet } from './fleet.js';
import { kernelReleaseOf } from './kernel.js';
import type { Erratum, LabAction, LabSystem } from './types.js';

export function erratumView(fleet: Fleet, e: Erratum) {
  return {
    id: e.id,
    advisoryName: e.advisoryName,
    os: e.os,
    type: e.type,
    ...(e.severity ? { severity: e.severity } : {}),
    synopsis: e.synopsis,
    issueDate: e.issueDate,
    cves: [...e.cves],
    personality: e.personality,
    ...(e.stopsService ? { stopsService: e.stopsService } : {}),
    kernel: e.kernel,
    rebootSuggested: e.rebootSuggested,
    build: fleet.erratumBuild(e),
    configFiles: [...e.configFiles],
    packages: fleet.packagesOf(e).map((p) => ({ id: p.id, name: p.name, epoch: p.epoch, version: p.version, release: p.release, arch: p.arch })),
  };
}

export function systemView(fleet: Fleet, s: LabSystem) {
  const m = fleet.metrics(s.id);
  return {
    id: s.id,
    name: s.name,
    os: s.os,
    osRelease: s.osRelease,
    group: s.group,
    stage: s.stage,
    ip: s.ip,
    minionId: s.minionId,
    btrfs: s.btrfs,
    modularChannels: [...s.modularChannels],
    up: s.up,
    hung: s.hung,
    hangOnReboot: s.hangOnReboot,
    rebootNeeded: s.rebootNeeded,
    bootTimeSec: s.bootTimeSec,
    services: { ...s.services },
    cpuPercent: m.cpuPercent,
    memoryPercent: m.memoryPercent,
    relevantCount: s.relevant.size,
    pendingErrata: [...s.pendingErrata],
    effects: s.effects.map((e) => ({ ...e })),
    ...kernelView(fleet, s),
    brokenServices: fleet.brokenUnits(s.id),
  };
}

function kernelView(fleet: Fleet, s: LabSystem) {
  const k = fleet.kernel(s.id);
  return {
    runningKernel: kernelReleaseOf(k.running),
    bootDefault: k.bootDefault ? kernelReleaseOf(k.bootDefault) : null,
    kernels: k.installed.map(kernelReleaseOf),
  };
}

export function actionView(fleet: Fleet, a: LabAction) {
  return {
    id: a.id,
    kind: a.kind,
    type: a.typeName,
    name: a.name,
    scheduler: a.scheduler,
    createdMs: a.createdMs,
    earliestMs: a.earliestMs,
    errata: a.errataIds.map((id) => fleet.erratum(id)?.advisoryName ?? String(id)),
    packageIds: [...a.packageIds],
    systems: [...a.systems.values()].map((st) => ({
      systemId: st.systemId,
      status: st.status,
      pickedUpMs: st.pickedUpMs,
      completedMs: st.completedMs,
      resultMsg: st.resultMsg,
      resultCode: st.resultCode,
    })),
  };
}
