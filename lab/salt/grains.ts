/**
 * `grains.items` of a simulated minion, in the shape and naming of Salt's core grains on
 * Ubuntu 24.04 and RHEL 9 (reference/salt-api.md §1.8): ipv4 includes 127.0.0.1 on purpose.
 */
import { cpuCount, kernelRelease, memTotalBytes, osFacts, shortHostname, type Fleet, type LabSystem } from '../fleet/index.js';

export const SALT_VERSION = '3006.9';

export function grainsOf(fleet: Fleet, sys: LabSystem): Record<string, unknown> {
  const f = osFacts(sys);
  const host = shortHostname(sys);
  const domain = sys.name.slice(host.length + 1);
  const release = f.osRelease.split('.').map((x) => Number(x));
  return {
    id: sys.minionId,
    host,
    nodename: host,
    localhost: host,
    fqdn: sys.name,
    domain,
    fqdns: [sys.name],
    fqdn_ip4: [sys.ip],
    fqdn_ip6: [],
    ipv4: ['127.0.0.1', sys.ip],
    ipv6: ['::1'],
    ip4_interfaces: { lo: ['127.0.0.1'], eth0: [sys.ip] },
    ip_interfaces: { lo: ['127.0.0.1', '::1'], eth0: [sys.ip] },
    hwaddr_interfaces: { lo: '00:00:00:00:00:00', eth0: `52:54:00:${sys.machineId.slice(0, 2)}:${sys.machineId.slice(2, 4)}:${sys.machineId.slice(4, 6)}` },
    kernel: 'Linux',
    kernelrelease: kernelRelease(fleet, sys),
    kernelversion: f.kernelVersion,
    os: f.os,
    os_family: f.osFamily,
    osfullname: f.osFullName,
    osrelease: f.osRelease,
    osrelease_info: release,
    osmajorrelease: f.osMajorRelease,
    osfinger: f.osFinger,
    oscodename: f.osCodename,
    osarch: sys.os === 'ubuntu' ? 'amd64' : 'x86_64',
    cpuarch: 'x86_64',
    num_cpus: cpuCount(sys),
    cpu_model: 'Intel Xeon Processor (Icelake)',
    mem_total: Math.round(memTotalBytes(sys) / 1024 / 1024),
    swap_total: 2047,
    machine_id: sys.machineId,
    uuid: `${sys.machineId.slice(0, 8)}-${sys.machineId.slice(8, 12)}-${sys.machineId.slice(12, 16)}-${sys.machineId.slice(16, 20)}-${sys.machineId.slice(20, 32)}`,
    virtual: 'kvm',
    init: 'systemd',
    systemd: { version: sys.os === 'ubuntu' ? '255' : '252', features: '+PAM +AUDIT +SELINUX -APPARMOR +IMA +SMACK +SECCOMP' },
    selinux: sys.os === 'rhel' ? { enabled: true, enforced: 'Enforcing' } : { enabled: false, enforced: 'Disabled' },
    saltversion: SALT_VERSION,
    saltversioninfo: SALT_VERSION.split('.').map((x) => Number(x)),
    pythonversion: [3, 10, 14, 'final', 0],
    master: 'salt',
    path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    shell: '/bin/sh',
    locale_info: { defaultlanguage: 'en_US', defaultencoding: 'UTF-8', detectedencoding: 'utf-8', timezone: 'UTC' },
    gpus: [{ model: 'Virtio 1.0 GPU', vendor: 'unknown' }],
    // Not a real core grain: lets tests and people see which lab system a minion is.
    lab_system_id: sys.id,
    lab_btrfs: sys.btrfs,
  };
}
