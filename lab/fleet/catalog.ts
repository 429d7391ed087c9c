/**
 * What the simulated distributions ship: source packages, their binary packages and how their
 * versions move. Pure data; errata generation walks it to build version chains.
 */
import type { Os } from './types.js';

export interface BinarySpec {
  /** Binary package name; `{abi}` is replaced for kernels whose package names carry the ABI. */
  readonly name: string;
  readonly noarch?: boolean;
  /** Typical size in KiB. */
  readonly sizeKb: number;
  readonly configFiles?: readonly string[];
  readonly requires?: number;
  /**
   * dnf `installonlypkgs` (RHEL kernels): a new build installs beside the old ones, up to
   * installonly_limit. Ubuntu's kernels get the same side-by-side behaviour from their ABI-named
   * packages (`{abi}` in the name), which apt never removes on its own.
   */
  readonly installOnly?: boolean;
  /** The package that owns /boot/vmlinuz-<kernelrelease>: its builds are the boot entries. */
  readonly bootImage?: boolean;
  /** Binaries of the same source and build this one Requires/Depends on (pulled in together, removed together). */
  readonly dependsOn?: readonly string[];
  /** First build shipping this binary: a new dependency the erratum of that build installs. */
  readonly sinceBuild?: number;
  /** First build no longer shipping it (RPM Obsoletes / deb Replaces+Conflicts by `obsoletedBy` of that build). */
  readonly untilBuild?: number;
  readonly obsoletedBy?: string;
  /**
   * Binary of the same source whose builds from `sinceBuild` on pull this one in (a weak dependency:
   * deb Recommends / RPM Recommends, installed with it, removable on its own).
   */
  readonly pulledInBy?: string;
}

export interface SourceSpec {
  readonly source: string;
  /** How often the source gets an update, relative to the others. */
  readonly weight: number;
  /** Display name in Ubuntu notice titles ("OpenSSL vulnerabilities"). */
  readonly title: string;
  readonly summary: string;
  readonly epoch?: string;
  readonly version: string;
  /** Release of build n (n = 0 is the baseline). */
  readonly release: (build: number) => string;
  readonly binaries: readonly BinarySpec[];
  readonly kernel?: boolean;
  /** Needs a reboot even though it isn't the kernel (microcode, firmware). */
  readonly reboot?: boolean;
  /** Package-manager update: UYUNI's restart_suggested. */
  readonly restart?: boolean;
  /** The critical service this source provides (what a stop_service erratum of it stops). */
  readonly service?: string;
  readonly channel: string;
  /** Only shipped as bug fix / enhancement advisories on RHEL. */
  readonly nonSecurity?: boolean;
}

export interface OsSpec {
  readonly os: Os;
  readonly release: string;
  readonly groupSuffix: string;
  readonly label: string;
  readonly criticalServices: readonly string[];
  readonly baseChannel: string;
  /** Child channels with module metadata (AppStream) a system of this OS is subscribed to. */
  readonly modularChannels: readonly string[];
  readonly sources: readonly SourceSpec[];
}

const ubuntuRelease = (base: string) => (n: number) => (n === 0 ? base : `${base}.${n}`);
const rhelRelease = (start: number, dist = 'el9') => (n: number) => `${start + n}.${dist}`;

const UBUNTU_SOURCES: readonly SourceSpec[] = [
  {
    source: 'linux', weight: 8, title: 'Linux kernel', summary: 'Linux kernel image', version: '6.8.0',
    release: (n) => `${31 + 2 * n}.${31 + 2 * n}`, kernel: true, reboot: true, channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'linux-image-6.8.0-{abi}-generic', sizeKb: 14_800, requires: 3, bootImage: true, dependsOn: ['linux-modules-6.8.0-{abi}-generic'] },
      { name: 'linux-modules-6.8.0-{abi}-generic', sizeKb: 38_500, requires: 1 },
      { name: 'linux-headers-6.8.0-{abi}', noarch: true, sizeKb: 13_900, requires: 1 },
      { name: 'linux-headers-6.8.0-{abi}-generic', sizeKb: 3_600, requires: 2, dependsOn: ['linux-headers-6.8.0-{abi}'] },
    ],
  },
  {
    source: 'openssl', weight: 5, title: 'OpenSSL', summary: 'Secure Sockets Layer toolkit', version: '3.0.13',
    release: ubuntuRelease('0ubuntu3'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'libssl3t64', sizeKb: 1_900, requires: 1 }, { name: 'openssl', sizeKb: 1_000, requires: 2, configFiles: ['/etc/ssl/openssl.cnf'] },
      // The legacy provider split out of libssl3t64: a new dependency from build 3 on.
      { name: 'openssl-provider-legacy', sizeKb: 140, requires: 1, sinceBuild: 3, pulledInBy: 'libssl3t64' },
    ],
  },
  {
    source: 'openssh', weight: 3, title: 'OpenSSH', summary: 'secure shell (SSH) server', epoch: '1', version: '9.6p1',
    release: ubuntuRelease('3ubuntu13'), service: 'ssh', channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'openssh-server', sizeKb: 510, requires: 9, configFiles: ['/etc/ssh/sshd_config', '/etc/default/ssh', '/etc/pam.d/sshd'] },
      { name: 'openssh-client', sizeKb: 905, requires: 6, configFiles: ['/etc/ssh/ssh_config'] },
      { name: 'openssh-sftp-server', sizeKb: 37, requires: 2 },
    ],
  },
  {
    source: 'nginx', weight: 3, title: 'nginx', summary: 'small, powerful, scalable web/proxy server', version: '1.24.0',
    release: ubuntuRelease('2ubuntu7'), service: 'nginx', channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'nginx', sizeKb: 520, requires: 5 },
      { name: 'nginx-common', noarch: true, sizeKb: 31, requires: 1, configFiles: ['/etc/nginx/nginx.conf', '/etc/nginx/sites-available/default', '/etc/logrotate.d/nginx'] },
    ],
  },
  {
    source: 'cron', weight: 1, title: 'Cron', summary: 'process scheduling daemon', version: '3.0pl1',
    release: ubuntuRelease('184ubuntu2'), service: 'cron', channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'cron', sizeKb: 85, requires: 4, configFiles: ['/etc/default/cron', '/etc/init.d/cron'] },
      { name: 'cron-daemon-common', noarch: true, sizeKb: 14, requires: 1, configFiles: ['/etc/crontab'] },
    ],
  },
  {
    source: 'curl', weight: 4, title: 'curl', summary: 'command line tool for transferring data with URL syntax', version: '8.5.0',
    release: ubuntuRelease('2ubuntu10'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'curl', sizeKb: 227, requires: 2 }, { name: 'libcurl4t64', sizeKb: 341, requires: 11 },
      // Dropped at build 3: libcurl4t64 of that build Replaces and Conflicts with it, so the update removes it.
      { name: 'libcurl3t64-gnutls', sizeKb: 333, requires: 11, untilBuild: 3, obsoletedBy: 'libcurl4t64' },
    ],
  },
  {
    source: 'glibc', weight: 3, title: 'GNU C Library', summary: 'GNU C Library: Shared libraries', version: '2.39',
    release: ubuntuRelease('0ubuntu8'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libc6', sizeKb: 3_200, requires: 1 }, { name: 'libc-bin', sizeKb: 660, requires: 1, configFiles: ['/etc/ld.so.conf'] }, { name: 'locales', noarch: true, sizeKb: 4_200, requires: 2, configFiles: ['/etc/locale.gen'] }],
  },
  {
    source: 'systemd', weight: 3, title: 'systemd', summary: 'system and service manager', version: '255.4',
    release: ubuntuRelease('1ubuntu8'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'systemd', sizeKb: 3_500, requires: 8, configFiles: ['/etc/systemd/system.conf', '/etc/systemd/journald.conf'] },
      { name: 'libsystemd0', sizeKb: 430, requires: 3 }, { name: 'libudev1', sizeKb: 176, requires: 1 },
      { name: 'udev', sizeKb: 1_870, requires: 5, configFiles: ['/etc/udev/udev.conf'] }, { name: 'systemd-sysv', sizeKb: 11, requires: 1 },
    ],
  },
  {
    source: 'sudo', weight: 2, title: 'Sudo', summary: 'Provide limited super user privileges to specific users', version: '1.9.15p5',
    release: ubuntuRelease('3ubuntu5'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'sudo', sizeKb: 947, requires: 3, configFiles: ['/etc/sudoers', '/etc/pam.d/sudo'] }],
  },
  {
    source: 'bind9', weight: 2, title: 'Bind', summary: 'Internet Domain Name Server', epoch: '1', version: '9.18.28',
    release: ubuntuRelease('0ubuntu0.24.04'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'bind9-libs', sizeKb: 1_260, requires: 9 }, { name: 'bind9-host', sizeKb: 50, requires: 2 }, { name: 'bind9-dnsutils', sizeKb: 156, requires: 3 }],
  },
  {
    source: 'python3.12', weight: 3, title: 'Python', summary: 'Interactive high-level object-oriented language', version: '3.12.3',
    release: ubuntuRelease('1ubuntu0'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'python3.12', sizeKb: 651, requires: 4 }, { name: 'python3.12-minimal', sizeKb: 2_330, requires: 3 },
      { name: 'libpython3.12-stdlib', sizeKb: 2_060, requires: 6 }, { name: 'libpython3.12-minimal', sizeKb: 834, requires: 2 },
    ],
  },
  {
    source: 'libxml2', weight: 2, title: 'libxml2', summary: 'GNOME XML library', version: '2.9.14+dfsg',
    release: ubuntuRelease('1.3ubuntu3'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libxml2', sizeKb: 763, requires: 3 }],
  },
  {
    source: 'vim', weight: 2, title: 'Vim', summary: 'Vi IMproved - enhanced vi editor', epoch: '2', version: '9.1.0016',
    release: ubuntuRelease('1ubuntu7'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [
      { name: 'vim', sizeKb: 1_880, requires: 4 }, { name: 'vim-common', noarch: true, sizeKb: 385, requires: 1, configFiles: ['/etc/vim/vimrc'] },
      { name: 'vim-runtime', noarch: true, sizeKb: 7_200, requires: 1 }, { name: 'vim-tiny', sizeKb: 805, requires: 2 }, { name: 'xxd', sizeKb: 63, requires: 1 },
    ],
  },
  {
    source: 'git', weight: 2, title: 'Git', summary: 'fast, scalable, distributed revision control system', epoch: '1', version: '2.43.0',
    release: ubuntuRelease('1ubuntu7'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'git', sizeKb: 3_680, requires: 6 }, { name: 'git-man', noarch: true, sizeKb: 1_100, requires: 1 }],
  },
  {
    source: 'tar', weight: 1, title: 'GNU tar', summary: 'GNU version of the tar archiving utility', version: '1.35+dfsg',
    release: ubuntuRelease('3build1'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'tar', sizeKb: 1_010, requires: 1 }],
  },
  {
    source: 'gnupg2', weight: 1, title: 'GnuPG', summary: 'GNU privacy guard', version: '2.4.4',
    release: ubuntuRelease('2ubuntu17'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'gnupg', noarch: true, sizeKb: 360, requires: 7 }, { name: 'gpg', sizeKb: 565, requires: 5 }, { name: 'gpgv', sizeKb: 158, requires: 3 }, { name: 'dirmngr', sizeKb: 323, requires: 6 }, { name: 'gpg-agent', sizeKb: 227, requires: 4 }],
  },
  {
    source: 'expat', weight: 1, title: 'Expat', summary: 'XML parsing C library', version: '2.6.1',
    release: ubuntuRelease('2build1'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libexpat1', sizeKb: 88, requires: 1 }],
  },
  {
    source: 'sqlite3', weight: 1, title: 'SQLite', summary: 'SQLite 3 shared library', version: '3.45.1',
    release: ubuntuRelease('1ubuntu2'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libsqlite3-0', sizeKb: 701, requires: 1 }],
  },
  {
    source: 'krb5', weight: 2, title: 'Kerberos', summary: 'MIT Kerberos runtime libraries', version: '1.20.1',
    release: ubuntuRelease('6ubuntu2'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libkrb5-3', sizeKb: 348, requires: 4 }, { name: 'libgssapi-krb5-2', sizeKb: 143, requires: 4 }, { name: 'libk5crypto3', sizeKb: 81, requires: 2 }, { name: 'libkrb5support0', sizeKb: 34, requires: 1 }],
  },
  {
    source: 'apt', weight: 1, title: 'APT', summary: 'commandline package manager', version: '2.7.14',
    release: ubuntuRelease('2ubuntu0'), restart: true, channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'apt', sizeKb: 1_380, requires: 6, configFiles: ['/etc/apt/apt.conf.d/01autoremove'] }, { name: 'libapt-pkg6.0t64', sizeKb: 985, requires: 7 }],
  },
  {
    source: 'nss', weight: 1, title: 'NSS', summary: 'Network Security Service libraries', epoch: '2', version: '3.98',
    release: ubuntuRelease('1build1'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libnss3', sizeKb: 1_400, requires: 3 }],
  },
  {
    source: 'less', weight: 1, title: 'less', summary: 'pager program similar to more', version: '590',
    release: ubuntuRelease('2ubuntu2'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'less', sizeKb: 142, requires: 2 }],
  },
  {
    source: 'rsync', weight: 1, title: 'rsync', summary: 'fast, versatile, remote (and local) file-copying tool', version: '3.2.7',
    release: ubuntuRelease('1ubuntu1'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'rsync', sizeKb: 436, requires: 6, configFiles: ['/etc/default/rsync'] }],
  },
  {
    source: 'intel-microcode', weight: 1, title: 'Intel Microcode', summary: 'Processor microcode firmware for Intel CPUs', version: '3.20240514.0ubuntu0.24.04',
    release: ubuntuRelease('1'), reboot: true, channel: 'ubuntu-2404-amd64-restricted-security',
    binaries: [{ name: 'intel-microcode', sizeKb: 9_800, requires: 2, configFiles: ['/etc/default/intel-microcode'] }],
  },
  {
    source: 'linux-firmware', weight: 1, title: 'Linux firmware', summary: 'Firmware for Linux kernel drivers', version: '20240318.git3b128b60',
    release: ubuntuRelease('0ubuntu2'), reboot: true, channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'linux-firmware', noarch: true, sizeKb: 265_000, requires: 1 }],
  },
  {
    source: 'libssh', weight: 1, title: 'libssh', summary: 'tiny C SSH library', version: '0.10.6',
    release: ubuntuRelease('2build2'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libssh-4', sizeKb: 190, requires: 3 }],
  },
  {
    source: 'openldap', weight: 1, title: 'OpenLDAP', summary: 'OpenLDAP libraries', version: '2.6.7+dfsg',
    release: ubuntuRelease('1~exp1ubuntu8'), channel: 'ubuntu-2404-amd64-main-security',
    binaries: [{ name: 'libldap2', sizeKb: 194, requires: 4, configFiles: ['/etc/ldap/ldap.conf'] }],
  },
];

const RHEL_SOURCES: readonly SourceSpec[] = [
  {
    source: 'kernel', weight: 8, title: 'kernel', summary: 'The Linux kernel', version: '5.14.0',
    release: (n) => `427.${13 + 3 * n}.1.el9_4`, kernel: true, reboot: true, channel: 'rhel9-baseos-x86_64',
    binaries: [
      { name: 'kernel', sizeKb: 5_100, requires: 4, installOnly: true, dependsOn: ['kernel-core', 'kernel-modules'] },
      { name: 'kernel-core', sizeKb: 18_900, requires: 6, installOnly: true, bootImage: true, dependsOn: ['kernel-modules-core'] },
      { name: 'kernel-modules', sizeKb: 37_800, requires: 2, installOnly: true, dependsOn: ['kernel-core'] },
      { name: 'kernel-modules-core', sizeKb: 32_400, requires: 2, installOnly: true, dependsOn: ['kernel-core'] },
      { name: 'kernel-tools', sizeKb: 5_300, requires: 5 }, { name: 'kernel-tools-libs', sizeKb: 5_050, requires: 1 },
    ],
  },
  {
    source: 'openssl', weight: 5, title: 'openssl', summary: 'Utilities from the general purpose cryptography library with TLS implementation', epoch: '1', version: '3.0.7',
    release: rhelRelease(27), channel: 'rhel9-baseos-x86_64',
    binaries: [
      { name: 'openssl', sizeKb: 1_230, requires: 4 }, { name: 'openssl-libs', sizeKb: 2_250, requires: 3, configFiles: ['/etc/pki/tls/openssl.cnf'] },
      // The FIPS provider split out of openssl-libs: a new dependency from build 3 on.
      { name: 'openssl-fips-provider-so', sizeKb: 2_100, requires: 1, sinceBuild: 3, pulledInBy: 'openssl-libs' },
    ],
  },
  {
    source: 'openssh', weight: 3, title: 'openssh', summary: 'An open source implementation of SSH protocol version 2', version: '8.7p1',
    release: rhelRelease(38), service: 'sshd', channel: 'rhel9-baseos-x86_64',
    binaries: [
      { name: 'openssh', sizeKb: 470, requires: 5 },
      { name: 'openssh-server', sizeKb: 460, requires: 12, configFiles: ['/etc/ssh/sshd_config', '/etc/sysconfig/sshd', '/etc/pam.d/sshd'] },
      { name: 'openssh-clients', sizeKb: 710, requires: 8, configFiles: ['/etc/ssh/ssh_config'] },
      // Folded into openssh-server at build 3 (Obsoletes: openssh-keycat), so that update removes it.
      { name: 'openssh-keycat', sizeKb: 30, requires: 2, untilBuild: 3, obsoletedBy: 'openssh-server' },
    ],
  },
  {
    source: 'httpd', weight: 3, title: 'httpd', summary: 'Apache HTTP Server', version: '2.4.57',
    release: rhelRelease(8), service: 'httpd', channel: 'rhel9-appstream-x86_64',
    binaries: [
      { name: 'httpd', sizeKb: 48, requires: 7 }, { name: 'httpd-core', sizeKb: 1_480, requires: 9, configFiles: ['/etc/httpd/conf/httpd.conf', '/etc/httpd/conf/magic'] },
      { name: 'httpd-tools', sizeKb: 82, requires: 3 }, { name: 'httpd-filesystem', noarch: true, sizeKb: 14, requires: 1 },
      { name: 'mod_ssl', sizeKb: 110, requires: 5, configFiles: ['/etc/httpd/conf.d/ssl.conf'] },
    ],
  },
  {
    source: 'cronie', weight: 1, title: 'cronie', summary: 'Cron daemon for executing programs at set times', version: '1.5.7',
    release: rhelRelease(11), service: 'crond', channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'cronie', sizeKb: 118, requires: 6, configFiles: ['/etc/sysconfig/crond', '/etc/pam.d/crond'] }, { name: 'cronie-anacron', sizeKb: 33, requires: 2, configFiles: ['/etc/anacrontab'] }],
  },
  {
    source: 'curl', weight: 4, title: 'curl', summary: 'A utility for getting files from remote servers', version: '7.76.1',
    release: rhelRelease(29), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'curl', sizeKb: 300, requires: 3 }, { name: 'libcurl', sizeKb: 290, requires: 10 }],
  },
  {
    source: 'glibc', weight: 3, title: 'glibc', summary: 'The GNU libc libraries', version: '2.34',
    release: rhelRelease(100), channel: 'rhel9-baseos-x86_64',
    binaries: [
      { name: 'glibc', sizeKb: 2_000, requires: 3, configFiles: ['/etc/ld.so.conf', '/etc/nsswitch.conf'] }, { name: 'glibc-common', sizeKb: 310, requires: 2 },
      { name: 'glibc-minimal-langpack', sizeKb: 20, requires: 1 }, { name: 'glibc-langpack-en', sizeKb: 680, requires: 1 },
    ],
  },
  {
    source: 'systemd', weight: 3, title: 'systemd', summary: 'System and Service Manager', version: '252',
    release: rhelRelease(32), channel: 'rhel9-baseos-x86_64',
    binaries: [
      { name: 'systemd', sizeKb: 4_300, requires: 14, configFiles: ['/etc/systemd/system.conf', '/etc/systemd/journald.conf'] },
      { name: 'systemd-libs', sizeKb: 690, requires: 4 }, { name: 'systemd-pam', sizeKb: 280, requires: 2 },
      { name: 'systemd-udev', sizeKb: 2_100, requires: 6, configFiles: ['/etc/udev/udev.conf'] }, { name: 'systemd-rpm-macros', noarch: true, sizeKb: 33, requires: 1 },
    ],
  },
  {
    source: 'sudo', weight: 2, title: 'sudo', summary: 'Allows restricted root access for specified users', version: '1.9.5p2',
    release: rhelRelease(10), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'sudo', sizeKb: 1_000, requires: 5, configFiles: ['/etc/sudoers', '/etc/sudo.conf'] }],
  },
  {
    source: 'bind', weight: 2, title: 'bind', summary: 'The Berkeley Internet Name Domain (BIND) DNS (Domain Name System) server', epoch: '32', version: '9.16.23',
    release: rhelRelease(18), channel: 'rhel9-appstream-x86_64',
    binaries: [{ name: 'bind-libs', sizeKb: 1_300, requires: 8 }, { name: 'bind-utils', sizeKb: 210, requires: 4 }, { name: 'bind-license', noarch: true, sizeKb: 13, requires: 0 }],
  },
  {
    source: 'python3.9', weight: 3, title: 'python3.9', summary: 'Version 3.9 of the Python interpreter', version: '3.9.18',
    release: rhelRelease(3), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'python3', sizeKb: 27, requires: 2 }, { name: 'python3-libs', sizeKb: 8_100, requires: 12 }],
  },
  {
    source: 'libxml2', weight: 2, title: 'libxml2', summary: 'Library providing XML and HTML support', version: '2.9.13',
    release: rhelRelease(6), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'libxml2', sizeKb: 750, requires: 3 }, { name: 'python3-libxml2', sizeKb: 230, requires: 2 }],
  },
  {
    source: 'vim', weight: 2, title: 'vim', summary: 'The VIM editor', epoch: '2', version: '8.2.2637',
    release: rhelRelease(20), channel: 'rhel9-appstream-x86_64',
    binaries: [
      { name: 'vim-minimal', sizeKb: 700, requires: 2, configFiles: ['/etc/virc'] }, { name: 'vim-enhanced', sizeKb: 1_800, requires: 4 },
      { name: 'vim-common', sizeKb: 7_300, requires: 2, configFiles: ['/etc/vimrc'] }, { name: 'vim-filesystem', noarch: true, sizeKb: 20, requires: 0 },
    ],
  },
  {
    source: 'git', weight: 2, title: 'git', summary: 'Fast Version Control System', version: '2.43.0',
    release: rhelRelease(1), channel: 'rhel9-appstream-x86_64',
    binaries: [{ name: 'git', sizeKb: 52, requires: 4 }, { name: 'git-core', sizeKb: 4_500, requires: 7 }, { name: 'git-core-doc', noarch: true, sizeKb: 2_900, requires: 1 }, { name: 'perl-Git', noarch: true, sizeKb: 38, requires: 3 }],
  },
  {
    source: 'tar', weight: 1, title: 'tar', summary: 'GNU file archiving program', epoch: '2', version: '1.34',
    release: rhelRelease(6), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'tar', sizeKb: 890, requires: 2 }],
  },
  {
    source: 'gnupg2', weight: 1, title: 'gnupg2', summary: 'Utility for secure communication and data storage', version: '2.3.3',
    release: rhelRelease(4), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'gnupg2', sizeKb: 2_600, requires: 9 }],
  },
  {
    source: 'expat', weight: 1, title: 'expat', summary: 'An XML parser library', version: '2.5.0',
    release: rhelRelease(2), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'expat', sizeKb: 115, requires: 1 }],
  },
  {
    source: 'sqlite', weight: 1, title: 'sqlite', summary: 'Shared library for the sqlite3 embeddable SQL database engine', version: '3.34.1',
    release: rhelRelease(7), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'sqlite-libs', sizeKb: 630, requires: 1 }],
  },
  {
    source: 'krb5', weight: 2, title: 'krb5', summary: 'The non-admin shared libraries used by Kerberos 5', version: '1.21.1',
    release: rhelRelease(1), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'krb5-libs', sizeKb: 760, requires: 6, configFiles: ['/etc/krb5.conf'] }, { name: 'krb5-workstation', sizeKb: 500, requires: 5 }],
  },
  {
    source: 'dnf', weight: 1, title: 'dnf', summary: 'Package manager', version: '4.14.0',
    release: rhelRelease(9), restart: true, channel: 'rhel9-baseos-x86_64', nonSecurity: true,
    binaries: [
      { name: 'dnf', noarch: true, sizeKb: 480, requires: 3 }, { name: 'dnf-data', noarch: true, sizeKb: 40, requires: 1, configFiles: ['/etc/dnf/dnf.conf'] },
      { name: 'python3-dnf', noarch: true, sizeKb: 460, requires: 6 }, { name: 'yum', noarch: true, sizeKb: 90, requires: 1 },
    ],
  },
  {
    source: 'tzdata', weight: 2, title: 'tzdata', summary: 'Timezone data', version: '2024a',
    release: rhelRelease(1), channel: 'rhel9-baseos-x86_64', nonSecurity: true,
    binaries: [{ name: 'tzdata', noarch: true, sizeKb: 840, requires: 0 }],
  },
  {
    source: 'nss', weight: 1, title: 'nss', summary: 'Network Security Services', version: '3.90.0',
    release: rhelRelease(6), channel: 'rhel9-appstream-x86_64',
    binaries: [{ name: 'nss', sizeKb: 710, requires: 5 }, { name: 'nss-util', sizeKb: 90, requires: 2 }, { name: 'nss-softokn', sizeKb: 420, requires: 3 }, { name: 'nss-sysinit', sizeKb: 19, requires: 2 }],
  },
  {
    source: 'less', weight: 1, title: 'less', summary: 'A text file browser similar to more, but better', version: '590',
    release: rhelRelease(4), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'less', sizeKb: 170, requires: 2 }],
  },
  {
    source: 'rsync', weight: 1, title: 'rsync', summary: 'A program for synchronizing files over a network', version: '3.2.3',
    release: rhelRelease(19), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'rsync', sizeKb: 410, requires: 5 }],
  },
  {
    source: 'microcode_ctl', weight: 1, title: 'microcode_ctl', summary: 'CPU microcode updates for Intel x86 processors', epoch: '4', version: '20230808',
    release: (n) => `${2 + n}.20240531.1.el9_4`, reboot: true, channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'microcode_ctl', noarch: true, sizeKb: 8_900, requires: 2 }],
  },
  {
    source: 'linux-firmware', weight: 1, title: 'linux-firmware', summary: 'Firmware files used by the Linux kernel', version: '20240610',
    release: rhelRelease(143), reboot: true, channel: 'rhel9-baseos-x86_64', nonSecurity: true,
    binaries: [{ name: 'linux-firmware', noarch: true, sizeKb: 390_000, requires: 1 }, { name: 'linux-firmware-whence', noarch: true, sizeKb: 80, requires: 0 }],
  },
  {
    source: 'libssh', weight: 1, title: 'libssh', summary: 'A library implementing the SSH protocol', version: '0.10.4',
    release: rhelRelease(13), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'libssh', sizeKb: 210, requires: 4 }, { name: 'libssh-config', noarch: true, sizeKb: 10, requires: 0, configFiles: ['/etc/libssh/libssh_client.config'] }],
  },
  {
    source: 'openldap', weight: 1, title: 'openldap', summary: 'LDAP support libraries', version: '2.6.6',
    release: rhelRelease(3), channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'openldap', sizeKb: 290, requires: 5, configFiles: ['/etc/openldap/ldap.conf'] }],
  },
  {
    source: 'ca-certificates', weight: 1, title: 'ca-certificates', summary: 'The Mozilla CA root certificate bundle', version: '2024.2.69_v8.0.303',
    release: (n) => `${91 + n}.4.el9_4`, channel: 'rhel9-baseos-x86_64', nonSecurity: true,
    binaries: [{ name: 'ca-certificates', noarch: true, sizeKb: 1_050, requires: 1 }],
  },
  {
    source: 'rpm', weight: 1, title: 'rpm', summary: 'The RPM package management system', version: '4.16.1.3',
    release: rhelRelease(29), restart: true, channel: 'rhel9-baseos-x86_64',
    binaries: [{ name: 'rpm', sizeKb: 540, requires: 6, configFiles: ['/etc/rpm/macros'] }, { name: 'rpm-libs', sizeKb: 310, requires: 5 }],
  },
];

export const OS_SPECS: Record<Os, OsSpec> = {
  ubuntu: {
    os: 'ubuntu',
    release: '24.04',
    groupSuffix: 'ubuntu-2404',
    label: 'Ubuntu 24.04',
    criticalServices: ['ssh', 'cron', 'nginx'],
    baseChannel: 'ubuntu-2404-amd64-main',
    modularChannels: [],
    sources: UBUNTU_SOURCES,
  },
  rhel: {
    os: 'rhel',
    release: '9.4',
    groupSuffix: 'rhel9',
    label: 'RHEL 9',
    criticalServices: ['sshd', 'crond', 'httpd'],
    baseChannel: 'rhel9-baseos-x86_64',
    modularChannels: ['rhel9-appstream-x86_64'],
    sources: RHEL_SOURCES,
  },
};

export const OSES: readonly Os[] = ['ubuntu', 'rhel'];

export function archLabel(os: Os, noarch: boolean | undefined): string {
  if (os === 'ubuntu') return noarch ? 'all-deb' : 'amd64-deb';
  return noarch ? 'noarch' : 'x86_64';
}

/** Whether build n of the source ships this binary. */
export function shipsAt(bin: BinarySpec, build: number): boolean {
  return build >= (bin.sinceBuild ?? 0) && (bin.untilBuild === undefined || build < bin.untilBuild);
}

/** Package family of a binary: its name, with the ABI of kernel packages replaced by a placeholder. */
export function familyOf(binaryName: string): string {
  return binaryName.replace('{abi}', 'ABI');
}

/** dnf's installonly_limit (RHEL 9 default): beyond it the oldest kernel that is not running goes. */
export const INSTALLONLY_LIMIT = 3;

/** Sources a stop_service erratum of each critical service should come from. */
export function serviceSource(os: Os, service: string): SourceSpec | undefined {
  return OS_SPECS[os].sources.find((s) => s.service === service);
}
