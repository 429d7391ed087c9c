/**
 * Host facts derived from a system, shared by every protocol view (Salt grains, node_exporter
 * series) so they agree: CPU count, memory size, running kernel, OS naming.
 */
import type { Fleet } from './fleet.js';
import { kernelReleaseOf } from './kernel.js';
import { hash32 } from './prng.js';
import type { LabSystem, PackageBuild } from './types.js';

const GIB = 1024 ** 3;

/** 2 or 4 CPUs, stable per host. */
export function cpuCount(sys: LabSystem): number {
  return hash32(`cpus:${sys.name}`) % 2 === 0 ? 2 : 4;
}

/** 4, 8 or 16 GiB less the kernel's reserved share, stable per host (MemTotal is never a round number). */
export function memTotalBytes(sys: LabSystem): number {
  const gib = [4, 8, 16][hash32(`mem:${sys.name}`) % 3] as number;
  return Math.round(gib * GIB * 0.972) - (hash32(`memres:${sys.name}`) % 4096) * 1024;
}

export function shortHostname(sys: LabSystem): string {
  return sys.name.split('.')[0] ?? sys.name;
}

/** Debian/Ubuntu version strings carry the epoch when there is one; RPM only a non-zero epoch. */
export function packageVersionString(p: PackageBuild): string {
  const epoch = p.epoch && p.epoch !== '0' ? `${p.epoch}:` : '';
  return `${epoch}${p.version}-${p.release}`;
}

/** `uname -r`: the RUNNING kernel, which changes only when a reboot boots another one. */
export function kernelRelease(fleet: Fleet, sys: LabSystem): string {
  return kernelReleaseOf(fleet.kernel(sys.id).running);
}

export interface OsFacts {
  os: string;
  osFamily: string;
  osRelease: string;
  osMajorRelease: number;
  osFinger: string;
  osCodename: string;
  osFullName: string;
  kernelVersion: string;
}

export function osFacts(sys: LabSystem): OsFacts {
  if (sys.os === 'ubuntu') {
    return {
      os: 'Ubuntu',
      osFamily: 'Debian',
      osRelease: sys.osRelease,
      osMajorRelease: Number.parseInt(sys.osRelease, 10),
      osFinger: `Ubuntu-${sys.osRelease}`,
      osCodename: 'noble',
      osFullName: 'Ubuntu',
      kernelVersion: '#31-Ubuntu SMP PREEMPT_DYNAMIC Sat Apr 20 00:40:06 UTC 2024',
    };
  }
  return {
    os: 'RedHat',
    osFamily: 'RedHat',
    osRelease: sys.osRelease,
    osMajorRelease: Number.parseInt(sys.osRelease, 10),
    osFinger: `Red Hat Enterprise Linux-${sys.osRelease.split('.')[0] ?? sys.osRelease}`,
    osCodename: 'Plow',
    osFullName: 'Red Hat Enterprise Linux',
    kernelVersion: '#1 SMP PREEMPT_DYNAMIC Thu Apr 4 20:45:27 EDT 2024',
  };
}
