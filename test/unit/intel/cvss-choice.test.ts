import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseCvss, severityOfCvss, type NvdCve } from '../../../domain/cvss.js';
import { nvdRow } from '../../../db/queries/cve-intel.js';

// NVD 2.0 records of each shape (test/fixtures/nvd/README.md says which are NVD's own) → the score the
// orchestrator keeps: v3.1, then v3.0, then v4.0, then v2; NVD's Primary before a CNA's Secondary.
const record = (file: string): NvdCve => {
  const page = JSON.parse(readFileSync(new URL(`../../fixtures/nvd/${file}`, import.meta.url), 'utf8')) as { vulnerabilities: { cve: NvdCve }[] };
  expect(page.vulnerabilities).toHaveLength(1);
  return page.vulnerabilities[0]!.cve;
};

describe('the CVSS chosen for a CVE', () => {
  it.each([
    ['v2-only.CVE-2013-0001.json', { score: 4.3, version: '2.0', source: 'nvd@nist.gov', type: 'Primary', baseSeverity: 'MEDIUM', vector: 'AV:N/AC:M/Au:N/C:P/I:N/A:N' }],
    ['shape-v30-only.json', { score: 5.4, version: '3.0', source: 'vultures@jpcert.or.jp', type: 'Secondary', baseSeverity: 'MEDIUM', vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N' }],
    ['v31-primary-secondary-disagree.CVE-2024-45409.json', { score: 9.8, version: '3.1', source: 'nvd@nist.gov', type: 'Primary', baseSeverity: 'CRITICAL', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    ['v31-secondary-first.CVE-2024-3094.json', { score: 10, version: '3.1', source: 'nvd@nist.gov', type: 'Primary', baseSeverity: 'CRITICAL', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' }],
    ['v31-primary.CVE-2023-38545.json', { score: 9.8, version: '3.1', source: 'nvd@nist.gov', type: 'Primary', baseSeverity: 'CRITICAL', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    ['shape-v40-only.json', { score: 9.3, version: '4.0', source: 'security-advisories@github.com', type: 'Secondary', baseSeverity: 'CRITICAL' }],
  ])('%s', (file, expected) => {
    expect(chooseCvss(record(file))).toMatchObject(expected);
  });

  it.each(['shape-awaiting-analysis.json', 'rejected.CVE-2021-36217.json'])('%s has no score: the erratum falls back', (file) => {
    expect(chooseCvss(record(file))).toBeUndefined();
  });

  it('a rejected record is never scored, even when it still carries metrics', () => {
    const r = record('v31-primary.CVE-2023-38545.json');
    expect(chooseCvss({ ...r, vulnStatus: 'Rejected' })).toBeUndefined();
  });

  it('v3.1 wins over v4.0, v3.0 and v2 in one record; a v3.1 from a CNA wins over NVD\'s own v3.0', () => {
    const m = (version: string, score: number, type: string) => ({ source: type === 'Primary' ? 'nvd@nist.gov' : 'cna@example.org', type, cvssData: { version, baseScore: score } });
    const all: NvdCve = { id: 'CVE-2026-1', metrics: { cvssMetricV2: [m('2.0', 10, 'Primary')], cvssMetricV40: [m('4.0', 9.3, 'Secondary')], cvssMetricV30: [m('3.0', 8.1, 'Primary')], cvssMetricV31: [m('3.1', 6.1, 'Secondary')] } };
    expect(chooseCvss(all)).toMatchObject({ version: '3.1', score: 6.1, type: 'Secondary' });
    const { cvssMetricV31: _drop, ...rest } = all.metrics!;
    expect(chooseCvss({ ...all, metrics: rest })).toMatchObject({ version: '3.0', score: 8.1 });
    expect(chooseCvss({ ...all, metrics: { cvssMetricV40: rest.cvssMetricV40!, cvssMetricV2: rest.cvssMetricV2! } })).toMatchObject({ version: '4.0', score: 9.3 });
  });

  it('the row cve_intel keeps: the choice, NVD status and UTC times (NVD writes them without a zone)', () => {
    expect(nvdRow(record('v2-only.CVE-2013-0001.json'))).toEqual({
      cve: 'CVE-2013-0001', status: 'Modified', published: '2013-01-09T18:09:37.993Z', lastModified: '2026-06-16T23:48:40.600Z',
      cvssScore: 4.3, cvssVector: 'AV:N/AC:M/Au:N/C:P/I:N/A:N', cvssVersion: '2.0', cvssSource: 'nvd@nist.gov', cvssType: 'Primary',
    });
    expect(nvdRow(record('rejected.CVE-2021-36217.json'))).toMatchObject({ status: 'Rejected', cvssScore: null, cvssVersion: null });
  });
});

describe("the seed's severity of a CVSS score", () => {
  it.each([
    [10, 'Critical'], [9.0, 'Critical'], [8.9, 'High'], [7.0, 'High'], [6.9, 'Medium'], [4.0, 'Medium'], [3.9, 'Low'], [0.1, 'Low'],
  ] as const)('%s → %s', (score, severity) => {
    expect(severityOfCvss(score)).toBe(severity);
  });
  it.each([0, null, undefined, Number.NaN])('%s → none (fall back to the UYUNI-type mapping)', (score) => {
    expect(severityOfCvss(score)).toBeUndefined();
  });
});
