import type { Severity } from './severity.js';

// Which CVSS score stands for a CVE (issue 14): v3.1, then v3.0, then v4.0, then v2; within a version NVD's
// own `Primary` score before a CNA's `Secondary`. The chosen version, source and type are kept so an operator
// sees where a number came from. Pure: the NVD 2.0 record shape in, a choice (or none) out.

export type CvssVersion = '3.1' | '3.0' | '4.0' | '2.0';

/** One entry of `metrics.cvssMetricV31[]` (and the other versions) in an NVD CVE API 2.0 record. */
export interface NvdCvssMetric {
  source?: string;
  type?: string;
  cvssData?: { version?: string; vectorString?: string; baseScore?: number; baseSeverity?: string };
  /** v2 keeps its severity beside cvssData, not in it. */
  baseSeverity?: string;
}

/** The part of an NVD 2.0 `vulnerabilities[].cve` object the orchestrator reads. */
export interface NvdCve {
  id: string;
  sourceIdentifier?: string;
  published?: string;
  lastModified?: string;
  vulnStatus?: string;
  metrics?: {
    cvssMetricV40?: NvdCvssMetric[];
    cvssMetricV31?: NvdCvssMetric[];
    cvssMetricV30?: NvdCvssMetric[];
    cvssMetricV2?: NvdCvssMetric[];
  };
  cisaExploitAdd?: string;
  cisaActionDue?: string;
  cisaVulnerabilityName?: string;
  cisaRequiredAction?: string;
}

export interface CvssChoice {
  score: number;
  vector: string | null;
  version: CvssVersion;
  /** who scored it: nvd@nist.gov or the CNA's address */
  source: string | null;
  type: 'Primary' | 'Secondary';
  /** the base severity NVD states with the score (v2: beside cvssData) */
  baseSeverity: string | null;
}

const ORDER: ReadonlyArray<[keyof NonNullable<NvdCve['metrics']>, CvssVersion]> = [
  ['cvssMetricV31', '3.1'],
  ['cvssMetricV30', '3.0'],
  ['cvssMetricV40', '4.0'],
  ['cvssMetricV2', '2.0'],
];

/** True for a record NVD marks as rejected: it has no score and fixes nothing to rank. */
export function isRejected(cve: Pick<NvdCve, 'vulnStatus'>): boolean {
  return (cve.vulnStatus ?? '').toLowerCase() === 'rejected';
}

/** The CVSS score that stands for a CVE, or undefined when NVD has none (awaiting analysis, rejected, no metrics). */
export function chooseCvss(cve: NvdCve): CvssChoice | undefined {
  if (isRejected(cve)) return undefined;
  for (const [key, version] of ORDER) {
    const entries = (cve.metrics?.[key] ?? []).filter(
      (m) => typeof m.cvssData?.baseScore === 'number' && Number.isFinite(m.cvssData.baseScore) && m.cvssData.baseScore >= 0 && m.cvssData.baseScore <= 10,
    );
    if (!entries.length) continue;
    const primary = entries.find((m) => m.type === 'Primary') ?? entries[0]!;
    const data = primary.cvssData!;
    return {
      score: Math.round(data.baseScore! * 10) / 10,
      vector: data.vectorString ?? null,
      version,
      source: primary.source ?? null,
      type: primary.type === 'Primary' ? 'Primary' : 'Secondary',
      baseSeverity: (version === '2.0' ? primary.baseSeverity : data.baseSeverity) ?? data.baseSeverity ?? null,
    };
  }
  return undefined;
}

/**
 * The seed's mapping of a CVSS base score onto the queue's scale: 9.0–10 Critical, 7.0–8.9 High, 4.0–6.9
 * Medium, 0.1–3.9 Low. 0.0 (CVSS "None") and no score map to nothing: the caller falls back.
 * The database's cvss_severity() is the same table (a test keeps them equal).
 */
export function severityOfCvss(score: number | null | undefined): Severity | undefined {
  if (score === null || score === undefined || !Number.isFinite(score) || score <= 0) return undefined;
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  return 'Low';
}
