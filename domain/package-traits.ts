// What a package list tells about the risk of applying it. UYUNI's errata.listPackages gives names,
// versions, archs and sizes, not file lists, so these are name-based rules; they are documented in the
// README ("How the Success Score reads a patch") and each rule says why.

export interface PackageRef {
  name: string;
  size: number;
}

/** The running kernel and its modules: a new one only takes effect after a reboot and can fail to boot. */
const KERNEL = [
  /^kernel(-core|-modules(-core|-extra)?|-rt(-core)?|-uek(-core)?|-debug(-core)?|-64k(-core)?)?$/,
  /^linux-(image|modules|modules-extra|headers|generic|virtual|kvm|aws|azure|gcp|oracle|lowlatency)(-|$)/,
];

/**
 * Packages after whose update the system needs a reboot: the kernel, plus the set that dnf's
 * needs-restarting -r and Ubuntu's update-notifier (reboot-required) treat as boot-critical.
 */
const REBOOT = [
  ...KERNEL,
  /^(glibc|libc6|libc-bin)$/,
  /^(systemd|systemd-libs|systemd-udev|udev|libsystemd0|libudev1)$/,
  /^(dbus|dbus-daemon|dbus-broker|libdbus-1-3)$/,
  /^linux-firmware$/,
  /^(microcode_ctl|intel-microcode|amd64-microcode)$/,
  /^(openssl-libs|libssl3|libssl3t64|gnutls|libgnutls30|libgnutls30t64)$/,
];

/**
 * Daemons and tools that ship configuration files under /etc: their update can rewrite or conflict with
 * local changes (dpkg conffile prompts, .rpmnew files) and restart the service.
 */
const CONFIG = [
  /^(openssh|openssh-server|openssh-clients|ssh|openssh-client)$/,
  /^(nginx|nginx-core|nginx-common|httpd|httpd-core|apache2|apache2-bin|haproxy|squid|varnish)$/,
  /^(postfix|exim4|exim4-base|sendmail|dovecot(-core)?)$/,
  /^(bind|bind9|named|dnsmasq|unbound|chrony|ntp|ntpsec)$/,
  /^(sudo|pam|libpam-modules|sssd|sssd-common|krb5-libs|krb5-config|openldap(-servers)?|slapd)$/,
  /^(rsyslog|cron|cronie|logrotate|audit|auditd)$/,
  /^(postgresql(\d+)?(-server)?|mysql-server|mariadb-server|redis|redis-server|memcached)$/,
  /^(samba|samba-common|nfs-utils|nfs-kernel-server|vsftpd|tomcat\d*)$/,
  /^(firewalld|iptables|nftables|ufw|NetworkManager|network-manager|netplan\.io)$/,
];

const matches = (rules: RegExp[], name: string) => rules.some((r) => r.test(name));

export interface PackageTraits {
  kernelPackages: string[];
  rebootPackages: string[];
  configPackages: string[];
  /** Distinct binary package names in the erratum. */
  packageCount: number;
  totalSizeBytes: number;
}

export function packageTraits(packages: readonly PackageRef[]): PackageTraits {
  const names = [...new Set(packages.map((p) => p.name))].sort();
  return {
    kernelPackages: names.filter((n) => matches(KERNEL, n)),
    rebootPackages: names.filter((n) => matches(REBOOT, n)),
    configPackages: names.filter((n) => matches(CONFIG, n)),
    packageCount: names.length,
    totalSizeBytes: packages.reduce((sum, p) => sum + (Number.isFinite(p.size) && p.size > 0 ? p.size : 0), 0),
  };
}
