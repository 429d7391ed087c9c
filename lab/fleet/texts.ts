/** Advisory prose in the style of Ubuntu Security Notices and Red Hat errata. */
import type { SourceSpec } from './catalog.js';
import { hash32 } from './prng.js';
import type { AdvisoryType, Os, Severity } from './types.js';

const FLAWS: readonly string[] = [
  'incorrectly handled certain malformed inputs. A remote attacker could possibly use this issue to cause a crash, resulting in a denial of service',
  'did not properly validate buffer lengths. A remote attacker could use this issue to cause a crash or possibly execute arbitrary code',
  'contained a use-after-free vulnerability. A local attacker could possibly use this issue to escalate privileges',
  'incorrectly handled memory when processing certain requests. An attacker could possibly use this issue to expose sensitive information',
  'contained a race condition. A local attacker could use this issue to cause a denial of service or possibly gain administrative privileges',
  'was vulnerable to an integer overflow when parsing certain data. An attacker could use this issue to cause a crash or possibly execute arbitrary code',
  'did not correctly verify certificates in some situations. A remote attacker could possibly use this issue to perform a person-in-the-middle attack',
  'incorrectly handled path names. A local attacker could possibly use this issue to bypass access restrictions',
];

const BUGS: readonly string[] = [
  'a memory leak under sustained load has been fixed',
  'the service no longer fails to start when the configuration contains an include directive',
  'performance of large transfers has been improved',
  'a crash during shutdown has been fixed',
  'log messages now include the correct time zone',
  'support for newer hardware has been added',
];

export interface AdvisoryTexts {
  synopsis: string;
  topic: string;
  description: string;
  solution: string;
  references: string;
  product: string;
  errataFrom: string;
  vendorAdvisory: string;
}

export function advisoryTexts(
  os: Os,
  spec: SourceSpec,
  type: AdvisoryType,
  severity: Severity | undefined,
  cves: readonly string[],
  advisoryName: string,
  build: number,
): AdvisoryTexts {
  const pick = <T>(list: readonly T[], salt: string): T => list[hash32(`${advisoryName}:${salt}`) % list.length] as T;
  if (os === 'ubuntu') {
    const plural = cves.length > 1 ? 'vulnerabilities' : 'vulnerability';
    const paragraphs = cves.map((cve, i) => `It was discovered that ${spec.title} ${pick(FLAWS, `${i}`)}. (${cve})`);
    return {
      synopsis: `${spec.title} ${plural}`,
      topic: `Several security issues were fixed in ${spec.title}.`,
      description: paragraphs.join('\n\n'),
      solution: spec.reboot
        ? 'After a standard system update you need to reboot your computer to make all the necessary changes.'
        : 'In general, a standard system update will make all the necessary changes.',
      references: [
        `https://ubuntu.com/security/notices/${advisoryName}`,
        ...cves.map((c) => `https://ubuntu.com/security/${c}`),
      ].join('\n'),
      product: 'Ubuntu',
      errataFrom: 'security@ubuntu.com',
      vendorAdvisory: `https://ubuntu.com/security/notices/${advisoryName}`,
    };
  }
  const base = {
    product: 'Red Hat Enterprise Linux',
    errataFrom: 'release-engineering@redhat.com',
    vendorAdvisory: `https://access.redhat.com/errata/${advisoryName}`,
    solution:
      'For details on how to apply this update, which includes the changes described in this advisory, refer to:\n\nhttps://access.redhat.com/articles/11258' +
      (spec.reboot ? '\n\nThe system must be rebooted for this update to take effect.' : ''),
  };
  const bz = 2_200_000 + (hash32(advisoryName) % 200_000);
  if (type === 'Security Advisory') {
    const sev = severity ?? 'Moderate';
    return {
      ...base,
      errataFrom: 'security@redhat.com',
      synopsis: `${sev}: ${spec.source} security update`,
      topic:
        `An update for ${spec.source} is now available for Red Hat Enterprise Linux 9.\n\n` +
        `Red Hat Product Security has rated this update as having a security impact of ${sev}. A Common Vulnerability Scoring System (CVSS) base score, which gives a detailed severity rating, is available for each vulnerability from the CVE link(s) in the References section.`,
      description:
        `The ${spec.source} packages provide: ${spec.summary}.\n\nSecurity Fix(es):\n\n` +
        cves.map((cve, i) => `* ${spec.source}: ${pick(FLAWS, `${i}`).split('.')[0]} (${cve})`).join('\n\n'),
      references: [
        `https://access.redhat.com/security/updates/classification/#${sev.toLowerCase()}`,
        ...cves.map((c, i) => `https://bugzilla.redhat.com/show_bug.cgi?id=${bz + i}`),
      ].join('\n'),
    };
  }
  const enhancement = type === 'Product Enhancement Advisory';
  const what = enhancement ? 'enhancement update' : build % 3 === 0 ? 'bug fix and enhancement update' : 'bug fix update';
  return {
    ...base,
    synopsis: `${spec.source} ${what}`,
    topic: `An update for ${spec.source} is now available for Red Hat Enterprise Linux 9.`,
    description:
      `The ${spec.source} packages provide: ${spec.summary}.\n\n${enhancement ? 'Enhancement(s)' : 'Bug Fix(es)'}:\n\n` +
      `* ${spec.source}: ${pick(BUGS, 'bug')} (BZ#${bz})`,
    references: `https://bugzilla.redhat.com/show_bug.cgi?id=${bz}`,
  };
}
