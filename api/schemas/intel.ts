import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from './types.js';

// issue 14: what NVD, FIRST EPSS and CISA KEV say, per erratum (its aggregate and urgency) and per CVE,
// and the list filters kev=, epss_gt=, percentile_gt=, cvss_gte= shared by the errata and queue lists.

const Probability = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });

export const ErratumIntel = Type.Object(
  {
    urgency: Type.Number({ description: 'work-order points: KEV 5000 (+1000 ransomware, +up to 2000 as the due date nears), EPSS 10 per percentile point, CVSS 0-10' }),
    severity_source: StringEnum(['cvss', 'uyuni', 'advisory_type'] as const, { description: "where the severity comes from: the highest CVSS, UYUNI's label, or the advisory type" }),
    cvss: Nullable(Type.Object({ score: Type.Number(), version: Nullable(Type.String()), source: Nullable(Type.String()), cve: Nullable(Type.String()) })),
    epss: Nullable(Type.Object({ score: Nullable(Type.Number()), percentile: Type.Number(), cve: Nullable(Type.String()) })),
    kev: Nullable(Type.Object({ due_date: Nullable(Type.String()), ransomware: Type.Boolean() })),
    urgency_breakdown: Type.Array(Type.Object({ term: Type.String(), points: Type.Number(), reason: Type.String() })),
    computed_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'the erratum from its CVEs: highest CVSS (version, scorer), highest EPSS, KEV with the earliest due date, and the urgency with its breakdown' },
);

export const CveIntel = Type.Object({
  cve: Type.String(),
  nvd_status: Nullable(Type.String()),
  cvss_score: Nullable(Type.Number()),
  cvss_vector: Nullable(Type.String()),
  cvss_version: Nullable(Type.String()),
  cvss_source: Nullable(Type.String()),
  cvss_type: Nullable(Type.String()),
  epss_score: Nullable(Type.Number()),
  epss_percentile: Nullable(Type.Number()),
  epss_date: Nullable(Type.String()),
  kev: Type.Boolean(),
  kev_date_added: Nullable(Type.String()),
  kev_due_date: Nullable(Type.String()),
  kev_ransomware: Type.Boolean(),
});

export const IntelFilterQuery = {
  kev: Type.Optional(Type.Boolean({ description: 'true: only errata with a CVE in CISA KEV; false: only errata without' })),
  epss_gt: Type.Optional(Probability('only errata with a CVE whose EPSS score (probability, 0-1) is above this')),
  percentile_gt: Type.Optional(Probability('only errata with a CVE whose EPSS percentile (0-1) is above this')),
  cvss_gte: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'only errata whose highest CVSS base score is at least this' })),
};

export function intelFilterOf(q: { kev?: boolean; epss_gt?: number; percentile_gt?: number; cvss_gte?: number }) {
  return {
    ...(q.kev !== undefined ? { kev: q.kev } : {}),
    ...(q.epss_gt !== undefined ? { epssGt: q.epss_gt } : {}),
    ...(q.percentile_gt !== undefined ? { percentileGt: q.percentile_gt } : {}),
    ...(q.cvss_gte !== undefined ? { cvssGte: q.cvss_gte } : {}),
  };
}
