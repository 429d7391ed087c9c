import { severityOfCvss, type CvssVersion } from './cvss.js';
import { mapSeverity, uyuniOwnSeverity, type Severity } from './severity.js';

// How urgent an erratum is, from what its CVEs are known for (issue 14), as points with a breakdown like the
// Success Score's. The bands are wide enough that the order is lexicographic:
//   KEV (5000, + 1000 for known ransomware use, + up to 2000 as the CISA due date nears or passes)
//   > EPSS (10 per whole percentile point of the highest percentile, 0–990)
//   > CVSS (the highest base score, 0–10; without any, the fallback severity's lower bound).
// The work order is priority_override, then urgency, then severity, then the Success Score.

export interface CveIntel {
  cve: string;
  cvssScore: number | null;
  cvssVersion: CvssVersion | null;
  cvssSource: string | null;
  epssScore: number | null;
  epssPercentile: number | null;
  kev: boolean;
  kevDueDate: string | null;
  kevDateAdded: string | null;
  kevRansomware: boolean;
}

export type UrgencyTerm = 'kev' | 'kev_ransomware' | 'kev_sla' | 'epss' | 'cvss' | 'severity';

export interface UrgencyLine {
  term: UrgencyTerm;
  points: number;
  reason: string;
}

export type SeveritySource = 'cvss' | 'uyuni' | 'advisory_type';

export interface ErratumIntel {
  /** the erratum's severity: from its highest CVSS, else the UYUNI-type mapping */
  severity: Severity;
  severitySource: SeveritySource;
  /** the CVE, score, version and scorer behind a CVSS severity */
  cvss: { cve: string; score: number; version: CvssVersion | null; source: string | null } | null;
  epss: { cve: string; score: number | null; percentile: number } | null;
  kev: { cves: string[]; dueDate: string | null; dateAdded: string | null; ransomware: boolean } | null;
  urgency: number;
  breakdown: UrgencyLine[];
}

export const URGENCY = {
  kev: 5000,
  ransomware: 1000,
  slaMax: 2000,
  /** points lost per day the due date is still away (the SLA term is 0 at 40 days) */
  slaPerDay: 50,
  epssPerPoint: 10,
} as const;

const FALLBACK_POINTS: Record<Severity, number> = { Critical: 9, High: 7, Medium: 4, Low: 0.1 };
const DAY_MS = 86_400_000;
const round1 = (n: number) => Math.round(n * 10) / 10;

function daysUntil(date: string, now: Date): number {
  const due = Date.parse(`${date.slice(0, 10)}T00:00:00Z`);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((due - today) / DAY_MS);
}

/** The erratum's severity, its source and its urgency from the intel of its CVEs (CVEs without intel are skipped). */
export function erratumIntel(
  erratum: { advisoryType: string; uyuniSeverity: string | null; cves: readonly string[] },
  intel: ReadonlyMap<string, CveIntel>,
  now: Date,
): ErratumIntel {
  const known = erratum.cves.map((c) => intel.get(c)).filter((i): i is CveIntel => i !== undefined);
  const lines: UrgencyLine[] = [];

  let cvss: ErratumIntel['cvss'] = null;
  for (const i of known) {
    if (i.cvssScore !== null && i.cvssScore > 0 && (!cvss || i.cvssScore > cvss.score)) {
      cvss = { cve: i.cve, score: i.cvssScore, version: i.cvssVersion, source: i.cvssSource };
    }
  }
  const fromCvss = cvss ? severityOfCvss(cvss.score) : undefined;
  const fallback = mapSeverity(erratum.advisoryType, erratum.uyuniSeverity);
  const severity = fromCvss ?? fallback;
  const severitySource: SeveritySource = fromCvss ? 'cvss' : uyuniOwnSeverity(erratum.uyuniSeverity) ? 'uyuni' : 'advisory_type';

  const kevs = known.filter((i) => i.kev);
  let kev: ErratumIntel['kev'] = null;
  if (kevs.length) {
    const dues = kevs.map((k) => k.kevDueDate).filter((d): d is string => !!d).sort();
    const added = kevs.map((k) => k.kevDateAdded).filter((d): d is string => !!d).sort();
    const ransomware = kevs.filter((k) => k.kevRansomware);
    kev = { cves: kevs.map((k) => k.cve).sort(), dueDate: dues[0] ?? null, dateAdded: added[0] ?? null, ransomware: ransomware.length > 0 };
    lines.push({ term: 'kev', points: URGENCY.kev, reason: `${kev.cves.join(', ')} in CISA's Known Exploited Vulnerabilities catalog${kev.dateAdded ? ` (added ${kev.dateAdded})` : ''}` });
    if (ransomware.length) {
      lines.push({ term: 'kev_ransomware', points: URGENCY.ransomware, reason: `known use in ransomware campaigns (${ransomware.map((k) => k.cve).sort().join(', ')})` });
    }
    if (kev.dueDate) {
      const days = daysUntil(kev.dueDate, now);
      const points = days <= 0 ? URGENCY.slaMax : Math.max(0, URGENCY.slaMax - URGENCY.slaPerDay * days);
      const when = days < 0 ? `passed ${-days} day(s) ago` : days === 0 ? 'is today' : `is in ${days} day(s)`;
      if (points > 0) lines.push({ term: 'kev_sla', points, reason: `CISA's due date ${kev.dueDate} ${when}` });
      else lines.push({ term: 'kev_sla', points: 0, reason: `CISA's due date ${kev.dueDate} ${when} (counts from 40 days before)` });
    }
  }

  let epss: ErratumIntel['epss'] = null;
  for (const i of known) {
    if (i.epssPercentile !== null && (!epss || i.epssPercentile > epss.percentile)) epss = { cve: i.cve, score: i.epssScore, percentile: i.epssPercentile };
  }
  if (epss) {
    const pct = Math.min(99, Math.max(0, Math.floor(epss.percentile * 100 + 1e-9)));
    lines.push({
      term: 'epss',
      points: pct * URGENCY.epssPerPoint,
      reason: `${epss.cve}: EPSS ${epss.score === null ? '?' : (epss.score * 100).toFixed(2)} % chance of exploitation in 30 days, percentile ${(epss.percentile * 100).toFixed(1)}`,
    });
  }

  if (cvss) {
    lines.push({ term: 'cvss', points: round1(cvss.score), reason: `${cvss.cve}: CVSS ${cvss.version ?? '?'} base score ${cvss.score}${cvss.source ? ` (${cvss.source})` : ''}` });
  } else {
    lines.push({
      term: 'severity',
      points: FALLBACK_POINTS[severity],
      reason: `no CVSS score for any CVE: ${severity} from ${severitySource === 'uyuni' ? `UYUNI's severity "${erratum.uyuniSeverity}"` : `the advisory type (${erratum.advisoryType})`}`,
    });
  }

  const urgency = round1(lines.reduce((sum, l) => sum + l.points, 0));
  return { severity, severitySource, cvss, epss, kev, urgency, breakdown: lines };
}
