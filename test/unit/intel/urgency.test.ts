import { describe, expect, it } from 'vitest';
import { erratumIntel, type CveIntel } from '../../../domain/urgency.js';

// The urgency: KEV first (its due date as an SLA, ransomware use as a boost), then EPSS percentile, then
// CVSS; the points are written out here, not recomputed with the product's constants.
const NOW = new Date('2026-12-04T12:00:00Z');
const cve = (id: string, o: Partial<CveIntel> = {}): CveIntel => ({
  cve: id, cvssScore: null, cvssVersion: null, cvssSource: null, epssScore: null, epssPercentile: null,
  kev: false, kevDueDate: null, kevDateAdded: null, kevRansomware: false, ...o,
});
const rank = (errata: Record<string, CveIntel[]>, type = 'Security Advisory') =>
  Object.entries(errata)
    .map(([name, cves]) => ({ name, u: erratumIntel({ advisoryType: type, uyuniSeverity: null, cves: cves.map((c) => c.cve) }, new Map(cves.map((c) => [c.cve, c])), NOW).urgency }))
    .sort((a, b) => b.u - a.u)
    .map((x) => x.name);

describe('urgency', () => {
  it('KEV beats any EPSS and CVSS; EPSS beats CVSS; CVSS breaks ties within a percentile point', () => {
    expect(
      rank({
        kevLowCvss: [cve('CVE-2026-1', { kev: true, cvssScore: 3.1, epssPercentile: 0.1, epssScore: 0.001 })],
        topEpss: [cve('CVE-2026-2', { cvssScore: 10, epssPercentile: 0.99998, epssScore: 0.97 })],
        midEpssHighCvss: [cve('CVE-2026-3', { cvssScore: 9.8, epssPercentile: 0.505, epssScore: 0.01 })],
        midEpssLowCvss: [cve('CVE-2026-4', { cvssScore: 5.0, epssPercentile: 0.509, epssScore: 0.01 })],
        noIntel: [cve('CVE-2026-5')],
      }),
    ).toEqual(['kevLowCvss', 'topEpss', 'midEpssHighCvss', 'midEpssLowCvss', 'noIntel']);
  });

  it('within KEV: a passed due date first, then ransomware use, then a nearer due date', () => {
    expect(
      rank({
        later: [cve('CVE-2026-1', { kev: true, kevDueDate: '2027-03-01' })],
        ransomware: [cve('CVE-2026-2', { kev: true, kevDueDate: '2027-03-01', kevRansomware: true })],
        overdue: [cve('CVE-2026-3', { kev: true, kevDueDate: '2026-11-20' })],
        inTenDays: [cve('CVE-2026-4', { kev: true, kevDueDate: '2026-12-14' })],
      }),
    ).toEqual(['overdue', 'inTenDays', 'ransomware', 'later']);
  });

  it('the breakdown says each term, its points and why', () => {
    const i = erratumIntel(
      { advisoryType: 'Security Advisory', uyuniSeverity: 'Moderate', cves: ['CVE-2026-10', 'CVE-2026-11', 'CVE-2026-12'] },
      new Map([
        ['CVE-2026-10', cve('CVE-2026-10', { kev: true, kevDueDate: '2026-12-14', kevDateAdded: '2026-11-23', kevRansomware: true, cvssScore: 7.5, cvssVersion: '3.1', cvssSource: 'nvd@nist.gov', epssScore: 0.2, epssPercentile: 0.953 })],
        ['CVE-2026-11', cve('CVE-2026-11', { cvssScore: 9.1, cvssVersion: '4.0', cvssSource: 'cna@example.org', epssScore: 0.01, epssPercentile: 0.4 })],
      ]),
      NOW,
    );
    expect(i.breakdown.map((l) => [l.term, l.points])).toEqual([['kev', 5000], ['kev_ransomware', 1000], ['kev_sla', 1500], ['epss', 950], ['cvss', 9.1]]);
    expect(i.urgency).toBe(8459.1);
    expect(i).toMatchObject({ severity: 'Critical', severitySource: 'cvss', cvss: { cve: 'CVE-2026-11', score: 9.1, version: '4.0' }, epss: { cve: 'CVE-2026-10', percentile: 0.953 }, kev: { cves: ['CVE-2026-10'], dueDate: '2026-12-14', ransomware: true } });
    expect(i.breakdown[2]!.reason).toBe("CISA's due date 2026-12-14 is in 10 day(s)");
  });

  it('no CVSS: UYUNI\'s severity, else the advisory type, and the source says which', () => {
    const none = new Map<string, CveIntel>();
    expect(erratumIntel({ advisoryType: 'Security Advisory', uyuniSeverity: 'Important', cves: ['CVE-2026-1'] }, none, NOW)).toMatchObject({ severity: 'High', severitySource: 'uyuni', urgency: 7 });
    expect(erratumIntel({ advisoryType: 'Security Advisory', uyuniSeverity: null, cves: [] }, none, NOW)).toMatchObject({ severity: 'Medium', severitySource: 'advisory_type', urgency: 4 });
    expect(erratumIntel({ advisoryType: 'Bug Fix Advisory', uyuniSeverity: null, cves: [] }, none, NOW)).toMatchObject({ severity: 'Low', severitySource: 'advisory_type', urgency: 0.1 });
  });

  it("the erratum's severity is its highest CVSS, mapped by the seed's bands, over UYUNI's own", () => {
    const intel = new Map([['CVE-2026-1', cve('CVE-2026-1', { cvssScore: 6.5 })], ['CVE-2026-2', cve('CVE-2026-2', { cvssScore: 8.8 })]]);
    expect(erratumIntel({ advisoryType: 'Security Advisory', uyuniSeverity: 'Low', cves: ['CVE-2026-1', 'CVE-2026-2'] }, intel, NOW)).toMatchObject({ severity: 'High', severitySource: 'cvss', cvss: { score: 8.8 } });
  });
});
