import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEpssCsv, probability } from '../../../activities/epss/client.js';
import { parseKev } from '../../../activities/kev/client.js';
import { MemoryRollingWindowLimiter } from '../../../activities/nvd/rate-limit.js';
import { nvdWindows } from '../../../activities/nvd/client.js';
import { detectIntel } from '../../../activities/intel/import.js';

// The formats as FIRST and CISA publish them (reference/nvd-epss-kev.md §5.1, §5.2).
const CSV = '#model_version:v2025.03.14,score_date:2025-03-20T12:55:00Z\ncve,epss,percentile\nCVE-1999-0001,0.01297,0.78990\nCVE-2024-3094,0.85360,0.99352\nnot-a-cve,0.1,0.2\nCVE-2024-0001,1.5,0.3\n';

describe('EPSS', () => {
  it('reads the daily CSV, gzipped or not: model version, score date, rows; bad rows skipped', () => {
    for (const data of [Buffer.from(CSV), gzipSync(CSV)]) {
      const r = parseEpssCsv(data);
      expect(r).toMatchObject({ modelVersion: 'v2025.03.14', scoreDate: '2025-03-20', skipped: 2 });
      expect(r.rows).toEqual([
        { cve: 'CVE-1999-0001', epss: 0.01297, percentile: 0.7899, date: '2025-03-20' },
        { cve: 'CVE-2024-3094', epss: 0.8536, percentile: 0.99352, date: '2025-03-20' },
      ]);
    }
  });
  it('refuses a file without the header', () => {
    expect(() => parseEpssCsv(Buffer.from('a,b,c\n'))).toThrow(/no "cve,epss,percentile" header/);
  });
  it("epss and percentile arrive as strings: parsed, and only [0, 1] counts", () => {
    expect(probability('0.97565')).toBe(0.97565);
    expect(probability(0.5)).toBe(0.5);
    for (const bad of ['', ' ', 'abc', '1.2', '-0.1', null, undefined]) expect(probability(bad)).toBeUndefined();
  });
});

describe('KEV', () => {
  const catalog = {
    title: 'CISA Catalog of Known Exploited Vulnerabilities', catalogVersion: '2026.12.03', dateReleased: '2026-12-03T17:01:45.2637Z', count: 2,
    vulnerabilities: [
      { cveID: 'CVE-2024-3094', vendorProject: 'Tukaani', product: 'xz', vulnerabilityName: 'XZ backdoor', dateAdded: '2024-04-01', shortDescription: '…', requiredAction: '…', dueDate: '2024-04-22', knownRansomwareCampaignUse: 'Unknown', notes: '', cwes: ['CWE-506'] },
      { cveID: 'CVE-2023-4966', vendorProject: 'Citrix', product: 'NetScaler', vulnerabilityName: 'Citrix Bleed', dateAdded: '2023-10-18', shortDescription: '…', requiredAction: '…', dueDate: '2023-11-08', knownRansomwareCampaignUse: 'Known', notes: '', cwes: ['CWE-119'] },
    ],
  };
  it('reads dateAdded, dueDate and knownRansomwareCampaignUse per CVE', () => {
    expect(parseKev(catalog)).toEqual({
      catalogVersion: '2026.12.03', dateReleased: '2026-12-03T17:01:45.2637Z',
      entries: [
        { cve: 'CVE-2024-3094', dateAdded: '2024-04-01', dueDate: '2024-04-22', ransomware: false, name: 'XZ backdoor' },
        { cve: 'CVE-2023-4966', dateAdded: '2023-10-18', dueDate: '2023-11-08', ransomware: true, name: 'Citrix Bleed' },
      ],
    });
  });
  it('a catalog whose count disagrees with its entries (a truncated download) is refused', () => {
    expect(() => parseKev({ ...catalog, count: 3 })).toThrow(/count 3 but holds 2/);
    expect(() => parseKev({ title: 'x' })).toThrow(/no vulnerabilities/);
  });
});

describe('import-intel reads the format from the content', () => {
  it('EPSS CSV (plain and .gz) and JSON', () => {
    expect(detectIntel('a', Buffer.from(CSV)).kind).toBe('epss');
    expect(detectIntel('a', gzipSync(CSV)).kind).toBe('epss');
    expect(detectIntel('a', Buffer.from('{"vulnerabilities": []}')).kind).toBe('json');
    expect(() => detectIntel('f.txt', Buffer.from('hello'))).toThrow(/f.txt: neither JSON/);
  });
});

describe('NVD windows and the rolling window', () => {
  it('splits a range into windows of at most 120 days, contiguous', () => {
    const w = nvdWindows(new Date('2026-01-01T00:00:00Z'), new Date('2026-09-08T00:00:00Z'));
    expect(w.map((x) => [x.start.toISOString().slice(0, 10), x.end.toISOString().slice(0, 10)])).toEqual([
      ['2026-01-01', '2026-05-01'],
      ['2026-05-01', '2026-08-29'],
      ['2026-08-29', '2026-09-08'],
    ]);
  });

  it('never lets more than `limit` requests into any rolling window (window + margin)', async () => {
    const limiter = new MemoryRollingWindowLimiter({ limit: 3, windowMs: 150, marginMs: 10 });
    const times: number[] = [];
    await Promise.all(Array.from({ length: 8 }, () => limiter.acquire().then(() => times.push(Date.now()))));
    times.sort((a, b) => a - b);
    for (let i = 3; i < times.length; i++) expect(times[i]! - times[i - 3]!, `request ${i}`).toBeGreaterThanOrEqual(160 - 2);
  });
});
