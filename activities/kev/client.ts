// CISA's Known Exploited Vulnerabilities catalog (known_exploited_vulnerabilities.json, or a mirror): one
// whole-file download, refreshed daily. Each entry's cveID, dateAdded, dueDate and
// knownRansomwareCampaignUse ("Known" / "Unknown") are what the ranking uses.
import { IntelHttp, IntelProtocolError, checkBaseUrl, parseJson, statusError } from '../shared/intel-http.js';

export interface KevEntry {
  cve: string;
  dateAdded: string | null;
  dueDate: string | null;
  ransomware: boolean;
  name: string | null;
}

export interface KevCatalog {
  catalogVersion: string | null;
  dateReleased: string | null;
  entries: KevEntry[];
}

const CVE_RE = /^CVE-\d{4}-\d{4,}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const day = (v: unknown) => (typeof v === 'string' && DATE_RE.test(v) ? v.slice(0, 10) : null);

/** The catalog's JSON (the feed's schema, cisagov/kev-data) into entries; entries without a CVE id are dropped. */
export function parseKev(body: unknown): KevCatalog {
  if (!isRecord(body) || !Array.isArray(body.vulnerabilities)) throw new IntelProtocolError('kev', 'not the KEV catalog: no vulnerabilities[]');
  const entries: KevEntry[] = [];
  for (const v of body.vulnerabilities) {
    if (!isRecord(v) || typeof v.cveID !== 'string' || !CVE_RE.test(v.cveID.trim())) continue;
    entries.push({
      cve: v.cveID.trim(),
      dateAdded: day(v.dateAdded),
      dueDate: day(v.dueDate),
      ransomware: typeof v.knownRansomwareCampaignUse === 'string' && v.knownRansomwareCampaignUse.trim().toLowerCase() === 'known',
      name: typeof v.vulnerabilityName === 'string' ? v.vulnerabilityName : null,
    });
  }
  if (typeof body.count === 'number' && body.count !== body.vulnerabilities.length) {
    throw new IntelProtocolError('kev', `the catalog says count ${body.count} but holds ${body.vulnerabilities.length} entries (truncated?)`);
  }
  return { catalogVersion: typeof body.catalogVersion === 'string' ? body.catalogVersion : null, dateReleased: typeof body.dateReleased === 'string' ? body.dateReleased : null, entries };
}

export class KevClient {
  private readonly http: IntelHttp;
  private readonly url: URL;
  requests = 0;

  constructor(opts: { url: string; timeoutMs: number }) {
    this.url = checkBaseUrl('kev', opts.url);
    this.http = new IntelHttp('kev', opts.timeoutMs, 128 * 1024 * 1024);
  }

  async catalog(): Promise<KevCatalog> {
    this.requests++;
    const answer = await this.http.get(this.url);
    if (answer.status !== 200) throw statusError('kev', answer, 'catalog');
    return parseKev(parseJson('kev', answer, 'catalog'));
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
