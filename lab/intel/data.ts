/**
 * What the lab's NVD, EPSS and KEV stand-ins know: one deterministic record per CVE of the fleet (or of an
 * explicit list), in the shapes the real services send — NVD 2.0 records with only v2, only v3.0, v3.1 from
 * NVD (Primary) with a CNA's disagreeing v3.1 (Secondary), only a CNA's v4.0, no metrics yet ("Awaiting
 * Analysis"), rejected; EPSS scores as strings for most CVEs; a KEV entry for a few severe ones. Tests add
 * KEV entries and change records through the control API.
 */
import { createRng } from '../fleet/prng.js';

export type NvdShape = 'v31_primary' | 'v31_disagree' | 'v31_secondary' | 'v30_only' | 'v2_only' | 'v40_only' | 'awaiting' | 'rejected';

export interface LabKevEntry {
  cveID: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
  dateAdded: string;
  shortDescription: string;
  requiredAction: string;
  dueDate: string;
  knownRansomwareCampaignUse: 'Known' | 'Unknown';
  notes: string;
  cwes: string[];
}

export interface LabEpss {
  cve: string;
  epss: string;
  percentile: string;
  date: string;
}

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** NVD's zone-less millisecond timestamps */
const nvdTime = (ms: number) => new Date(ms).toISOString().slice(0, 23);

const V31 = [
  [9.8, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'CRITICAL'],
  [8.8, 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 'HIGH'],
  [7.8, 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 'HIGH'],
  [7.5, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 'HIGH'],
  [6.5, 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 'MEDIUM'],
  [5.5, 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 'MEDIUM'],
  [4.7, 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H', 'MEDIUM'],
  [3.3, 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N', 'LOW'],
] as const;
const V2 = [
  [10.0, 'AV:N/AC:L/Au:N/C:C/I:C/A:C', 'HIGH'],
  [7.5, 'AV:N/AC:L/Au:N/C:P/I:P/A:P', 'HIGH'],
  [5.0, 'AV:N/AC:L/Au:N/C:N/I:N/A:P', 'MEDIUM'],
  [2.1, 'AV:L/AC:L/Au:N/C:N/I:N/A:P', 'LOW'],
] as const;
const V40 = [
  [9.3, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 'CRITICAL'],
  [8.7, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 'HIGH'],
  [6.9, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N', 'MEDIUM'],
  [2.4, 'CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N', 'LOW'],
] as const;

function v31Metric(source: string, type: 'Primary' | 'Secondary', [score, vector, sev]: readonly [number, string, string]) {
  return {
    source,
    type,
    cvssData: {
      version: '3.1', vectorString: vector, baseScore: score, baseSeverity: sev,
      attackVector: vector.includes('AV:N') ? 'NETWORK' : 'LOCAL', attackComplexity: vector.includes('AC:H') ? 'HIGH' : 'LOW',
      privilegesRequired: vector.includes('PR:N') ? 'NONE' : 'LOW', userInteraction: 'NONE', scope: 'UNCHANGED',
      confidentialityImpact: vector.includes('C:H') ? 'HIGH' : vector.includes('C:L') ? 'LOW' : 'NONE',
      integrityImpact: vector.includes('I:H') ? 'HIGH' : 'NONE', availabilityImpact: vector.includes('A:H') ? 'HIGH' : 'NONE',
    },
    exploitabilityScore: 3.9,
    impactScore: Math.max(0, Math.round((score - 3.9) * 10) / 10),
  };
}

export interface IntelDataOptions {
  seed?: number;
  /** "now" for lastModified / KEV dates (default: the wall clock at construction) */
  nowMs?: number;
  /** share of the severe CVEs (CVSS ≥ 7.5) listed in KEV (default 0.05) */
  kevShare?: number;
}

export class IntelData {
  readonly nvd = new Map<string, Record<string, unknown>>();
  readonly shapes = new Map<string, NvdShape>();
  readonly epss = new Map<string, LabEpss>();
  readonly kev = new Map<string, LabKevEntry>();
  readonly modelVersion = 'v2025.03.14';
  readonly scoreDate: string;
  private readonly nowMs: number;

  constructor(cves: Iterable<string>, opts: IntelDataOptions = {}) {
    const seed = opts.seed ?? 1;
    this.nowMs = opts.nowMs ?? Date.now();
    this.scoreDate = day(this.nowMs);
    for (const cve of [...new Set(cves)].sort()) {
      const rng = createRng(seed, `intel:${cve}`);
      const r = rng.next();
      const shape: NvdShape =
        r < 0.38 ? 'v31_primary' : r < 0.53 ? 'v31_disagree' : r < 0.6 ? 'v31_secondary' : r < 0.68 ? 'v30_only' : r < 0.75 ? 'v2_only' : r < 0.85 ? 'v40_only' : r < 0.97 ? 'awaiting' : 'rejected';
      this.shapes.set(cve, shape);
      const year = Number(cve.slice(4, 8));
      const published = Math.min(this.nowMs - 120 * DAY, Date.UTC(year, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59)));
      const lastModified = this.nowMs - rng.int(1, 100 * 24 * 60) * 60_000;
      const v31 = rng.pick(V31);
      const record: Record<string, unknown> = {
        id: cve,
        sourceIdentifier: shape === 'v40_only' || shape === 'v31_secondary' ? 'secalert@redhat.com' : 'security@ubuntu.com',
        published: nvdTime(published),
        lastModified: nvdTime(Math.max(published, lastModified)),
        vulnStatus: shape === 'awaiting' ? 'Awaiting Analysis' : shape === 'rejected' ? 'Rejected' : shape === 'v31_disagree' ? 'Modified' : 'Analyzed',
        cveTags: [],
        descriptions: [
          { lang: 'en', value: shape === 'rejected' ? `Rejected reason: This CVE ID has been rejected or withdrawn by its CVE Numbering Authority.` : `A flaw was found in a package of the lab fleet (${cve}).` },
        ],
        metrics: {},
        weaknesses: shape === 'awaiting' || shape === 'rejected' ? [] : [{ source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-787' }] }],
        configurations: [],
        references: [{ url: `https://access.redhat.com/security/cve/${cve}`, source: 'secalert@redhat.com' }],
      };
      const metrics = record.metrics as Record<string, unknown[]>;
      switch (shape) {
        case 'v31_primary':
          metrics.cvssMetricV31 = [v31Metric('nvd@nist.gov', 'Primary', v31)];
          break;
        case 'v31_disagree': {
          const cna = V31[(V31.indexOf(v31) + 3) % V31.length]!;
          metrics.cvssMetricV31 = [v31Metric('secalert@redhat.com', 'Secondary', cna), v31Metric('nvd@nist.gov', 'Primary', v31)];
          break;
        }
        case 'v31_secondary':
          metrics.cvssMetricV31 = [v31Metric('secalert@redhat.com', 'Secondary', v31)];
          break;
        case 'v30_only': {
          const m = v31Metric('nvd@nist.gov', 'Primary', v31);
          metrics.cvssMetricV30 = [{ ...m, cvssData: { ...m.cvssData, version: '3.0', vectorString: v31[1].replace('CVSS:3.1', 'CVSS:3.0') } }];
          break;
        }
        case 'v2_only': {
          const [score, vector, sev] = rng.pick(V2);
          metrics.cvssMetricV2 = [
            {
              source: 'nvd@nist.gov', type: 'Primary',
              cvssData: { version: '2.0', vectorString: vector, baseScore: score, accessVector: 'NETWORK', accessComplexity: 'LOW', authentication: 'NONE', confidentialityImpact: 'PARTIAL', integrityImpact: 'PARTIAL', availabilityImpact: 'PARTIAL' },
              baseSeverity: sev, exploitabilityScore: 10.0, impactScore: 6.4, acInsufInfo: false, obtainAllPrivilege: false, obtainUserPrivilege: false, obtainOtherPrivilege: false, userInteractionRequired: false,
            },
          ];
          break;
        }
        case 'v40_only': {
          const [score, vector, sev] = rng.pick(V40);
          metrics.cvssMetricV40 = [
            {
              source: 'secalert@redhat.com', type: 'Secondary',
              cvssData: { version: '4.0', vectorString: vector, baseScore: score, baseSeverity: sev, attackVector: 'NETWORK', attackComplexity: 'LOW', attackRequirements: 'NONE', privilegesRequired: 'NONE', userInteraction: 'NONE', vulnConfidentialityImpact: 'HIGH', vulnIntegrityImpact: 'HIGH', vulnAvailabilityImpact: 'HIGH', subConfidentialityImpact: 'NONE', subIntegrityImpact: 'NONE', subAvailabilityImpact: 'NONE', exploitMaturity: 'NOT_DEFINED' },
            },
          ];
          break;
        }
        default:
          break;
      }
      this.nvd.set(cve, record);
      if (shape !== 'rejected' && rng.chance(0.92)) {
        const u = rng.next();
        this.epss.set(cve, { cve, epss: (0.0004 + 0.97 * u ** 8).toFixed(5), percentile: u.toFixed(5), date: this.scoreDate });
      }
      const severe = shape !== 'awaiting' && shape !== 'rejected' && v31[0] >= 7.5;
      if (severe && rng.chance(opts.kevShare ?? 0.05)) {
        const added = this.nowMs - rng.int(1, 400) * DAY;
        this.addKev(cve, { dateAdded: day(added), dueDate: day(added + 21 * DAY), ransomware: rng.chance(0.3) });
      }
    }
  }

  addKev(cve: string, o: { dateAdded?: string; dueDate?: string; ransomware?: boolean } = {}): LabKevEntry {
    const added = o.dateAdded ?? day(this.nowMs);
    const entry: LabKevEntry = {
      cveID: cve,
      vendorProject: 'Lab',
      product: 'Lab fleet package',
      vulnerabilityName: `Lab fleet package flaw ${cve}`,
      dateAdded: added,
      shortDescription: `A flaw in a package of the lab fleet (${cve}) is exploited in the wild.`,
      requiredAction: 'Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.',
      dueDate: o.dueDate ?? day(Date.parse(`${added}T00:00:00Z`) + 21 * DAY),
      knownRansomwareCampaignUse: o.ransomware ? 'Known' : 'Unknown',
      notes: `https://nvd.nist.gov/vuln/detail/${cve}`,
      cwes: ['CWE-787'],
    };
    this.kev.set(cve, entry);
    const record = this.nvd.get(cve);
    if (record) {
      record.cisaExploitAdd = entry.dateAdded;
      record.cisaActionDue = entry.dueDate;
      record.cisaRequiredAction = entry.requiredAction;
      record.cisaVulnerabilityName = entry.vulnerabilityName;
      record.lastModified = nvdTime(Date.now());
    }
    return entry;
  }

  removeKev(cve: string): boolean {
    return this.kev.delete(cve);
  }

  /** Records sorted by lastModified then id: NVD's stable order for paging. */
  modifiedBetween(startMs: number, endMs: number): Record<string, unknown>[] {
    return [...this.nvd.values()]
      .filter((r) => {
        const t = Date.parse(`${String(r.lastModified)}Z`);
        return t >= startMs && t <= endMs;
      })
      .sort((a, b) => String(a.lastModified).localeCompare(String(b.lastModified)) || String(a.id).localeCompare(String(b.id)));
  }

  kevCatalog(): Record<string, unknown> {
    const vulnerabilities = [...this.kev.values()].sort((a, b) => a.dateAdded.localeCompare(b.dateAdded) || a.cveID.localeCompare(b.cveID));
    return {
      title: 'CISA Catalog of Known Exploited Vulnerabilities',
      catalogVersion: `${this.scoreDate.replace(/-/g, '.')}`,
      dateReleased: new Date(this.nowMs).toISOString(),
      count: vulnerabilities.length,
      vulnerabilities,
    };
  }

  epssCsv(extraRows = 0): string {
    const lines = [`#model_version:${this.modelVersion},score_date:${this.scoreDate}T12:55:00Z`, 'cve,epss,percentile'];
    for (const e of [...this.epss.values()].sort((a, b) => a.cve.localeCompare(b.cve))) lines.push(`${e.cve},${e.epss},${e.percentile}`);
    const rng = createRng(7, 'epss-extra');
    for (let i = 0; i < extraRows; i++) {
      const u = rng.next();
      lines.push(`CVE-${1999 + (i % 27)}-${String(9_000_000 + i)},${(0.0004 + 0.97 * u ** 8).toFixed(5)},${u.toFixed(5)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
