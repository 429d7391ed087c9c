import { describe, expect, it } from 'vitest';
import { packageTraits } from '../../../domain/package-traits.js';

// Each rule of domain/package-traits.ts, by package name, with the expected lists written out.
const traits = (...names: string[]) => packageTraits(names.map((name) => ({ name, size: 1000 })));

describe('package traits', () => {
  it.each([
    'kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-extra', 'kernel-rt-core', 'kernel-uek', 'kernel-64k-core',
    'linux-image-6.8.0-45-generic', 'linux-modules-6.8.0-45-generic', 'linux-generic', 'linux-aws',
  ])('%s is a kernel package and needs a reboot', (name) => {
    const t = traits(name);
    expect(t.kernelPackages).toEqual([name]);
    expect(t.rebootPackages).toEqual([name]);
  });

  it.each(['kernelshark', 'kernel-headers-doc', 'linux-libc-dev', 'linux-tools-common'])('%s is not a kernel package', (name) => {
    expect(traits(name).kernelPackages).toEqual([]);
  });

  it.each([
    'glibc', 'libc6', 'libc-bin', 'systemd', 'systemd-libs', 'systemd-udev', 'udev', 'libsystemd0', 'libudev1',
    'dbus', 'dbus-daemon', 'dbus-broker', 'libdbus-1-3', 'linux-firmware', 'microcode_ctl', 'intel-microcode', 'amd64-microcode',
    'openssl-libs', 'libssl3', 'libssl3t64', 'gnutls', 'libgnutls30', 'libgnutls30t64',
  ])('%s needs a reboot but is no kernel', (name) => {
    const t = traits(name);
    expect(t.rebootPackages).toEqual([name]);
    expect(t.kernelPackages).toEqual([]);
  });

  it.each(['systemd-container', 'glibc-langpack-en', 'openssl', 'libssl-dev', 'dbus-x11'])('%s needs no reboot', (name) => {
    expect(traits(name).rebootPackages).toEqual([]);
  });

  it.each([
    'openssh', 'openssh-server', 'openssh-clients', 'ssh', 'openssh-client',
    'nginx', 'nginx-core', 'httpd', 'apache2', 'haproxy', 'squid', 'varnish',
    'postfix', 'exim4', 'sendmail', 'dovecot', 'dovecot-core',
    'bind', 'bind9', 'named', 'dnsmasq', 'unbound', 'chrony', 'ntp', 'ntpsec',
    'sudo', 'pam', 'libpam-modules', 'sssd', 'krb5-libs', 'openldap', 'openldap-servers', 'slapd',
    'rsyslog', 'cron', 'cronie', 'logrotate', 'audit', 'auditd',
    'postgresql', 'postgresql16', 'postgresql16-server', 'mysql-server', 'mariadb-server', 'redis', 'redis-server', 'memcached',
    'samba', 'nfs-utils', 'nfs-kernel-server', 'vsftpd', 'tomcat', 'tomcat9',
    'firewalld', 'iptables', 'nftables', 'ufw', 'NetworkManager', 'network-manager', 'netplan.io',
  ])('%s ships configuration files', (name) => {
    const t = traits(name);
    expect(t.configPackages).toEqual([name]);
    expect(t.rebootPackages).toEqual([]);
  });

  it.each(['cronutils', 'libnginx-mod-http', 'sudo-ldap-doc', 'netplan', 'postgresql-client'])('%s ships no configuration rule', (name) => {
    expect(traits(name).configPackages).toEqual([]);
  });

  it('counts distinct names, sorted, and sums only finite positive sizes', () => {
    const t = packageTraits([
      { name: 'systemd', size: 2000 }, { name: 'cron', size: 500 }, { name: 'systemd', size: 2000 },
      { name: 'libfoo', size: -5 }, { name: 'libbar', size: Number.NaN }, { name: 'kernel', size: 0 },
    ]);
    expect(t.packageCount).toBe(5);
    expect(t.totalSizeBytes).toBe(4500);
    expect(t.rebootPackages).toEqual(['kernel', 'systemd']);
    expect(t.configPackages).toEqual(['cron']);
    expect(t.kernelPackages).toEqual(['kernel']);
  });
});
