/** The queue's severity scale (the seed's), most severe first. */
export type Severity = 'Critical' | 'High' | 'Medium' | 'Low';

export const SEVERITIES: readonly Severity[] = ['Critical', 'High', 'Medium', 'Low'];

/** UYUNI's own labels (errata.getDetails `severity`, Red Hat's scale) onto ours. */
const FROM_UYUNI: Record<string, Severity> = {
  critical: 'Critical',
  important: 'High',
  high: 'High',
  moderate: 'Medium',
  medium: 'Medium',
  low: 'Low',
};

/**
 * The seed's rule: UYUNI's own severity when it has one; otherwise a Security Advisory is Medium and a
 * Bug Fix or Product Enhancement Advisory is Low (Ubuntu USNs carry no severity at all).
 */
export function mapSeverity(advisoryType: string, uyuniSeverity?: string | null): Severity {
  const own = uyuniOwnSeverity(uyuniSeverity);
  if (own) return own;
  return advisoryType === 'Security Advisory' ? 'Medium' : 'Low';
}

/** UYUNI's own severity label on our scale, or undefined when it has none we know. */
export function uyuniOwnSeverity(uyuniSeverity?: string | null): Severity | undefined {
  return uyuniSeverity ? FROM_UYUNI[uyuniSeverity.trim().toLowerCase()] : undefined;
}
