// The offline import (`npm run ops -- import-intel <file>...`) for sites without internet: an NVD file in
// the 2.0 format (an API answer or a yearly feed: `vulnerabilities[].cve`), CISA's KEV JSON, or FIRST's EPSS
// CSV (plain or .gz). The format is read from the content, not the name. Everything goes through the same
// upserts as the online enrichment, then every erratum's severity and urgency are recomputed.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { nvdRow, recordSource, refreshErrataIntel, replaceKev, upsertEpss, upsertNvd } from '../../db/queries/cve-intel.js';
import type { NvdCve } from '../../domain/cvss.js';
import { parseEpssCsv } from '../epss/client.js';
import { parseKev } from '../kev/client.js';
import { IntelProtocolError } from '../shared/intel-http.js';

export type ImportKind = 'nvd' | 'kev' | 'epss';

export interface ImportResult {
  file: string;
  kind: ImportKind;
  rows: number;
  skipped: number;
  version: string | null;
  errataUpdated: number;
  ms: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a file holds: EPSS CSV, KEV catalog or NVD 2.0 records; an error naming the file otherwise. */
export function detectIntel(file: string, data: Buffer): { kind: 'epss' } | { kind: 'json'; body: unknown } {
  const plain = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const head = plain.subarray(0, 64).toString('utf8').trimStart();
  if (head.startsWith('#model_version') || head.startsWith('cve,epss')) return { kind: 'epss' };
  try {
    return { kind: 'json', body: JSON.parse(plain.toString('utf8')) };
  } catch {
    throw new IntelProtocolError('nvd', `${file}: neither JSON (NVD 2.0, KEV) nor an EPSS CSV`);
  }
}

export async function importIntelFile(db: Kysely<Database>, file: string, now = new Date()): Promise<ImportResult> {
  const started = Date.now();
  const data = await readFile(file);
  const detected = detectIntel(file, data);
  let kind: ImportKind;
  let rows = 0;
  let skipped = 0;
  let version: string | null = null;
  if (detected.kind === 'epss') {
    kind = 'epss';
    const csv = parseEpssCsv(data);
    rows = await upsertEpss(db, csv.rows, csv.modelVersion);
    skipped = csv.skipped;
    version = csv.modelVersion;
    await recordSource(db, 'epss', { version: csv.modelVersion, scoreDate: csv.scoreDate, details: { from: 'import', file, rows } });
  } else {
    const body = detected.body;
    const vulns = isRecord(body) && Array.isArray(body.vulnerabilities) ? body.vulnerabilities : undefined;
    if (!vulns) throw new IntelProtocolError('nvd', `${file}: JSON without vulnerabilities[] (not NVD 2.0 nor KEV)`);
    if (vulns.some((v) => isRecord(v) && typeof v.cveID === 'string')) {
      kind = 'kev';
      const catalog = parseKev(body);
      rows = (await replaceKev(db, catalog.entries)).listed;
      skipped = vulns.length - catalog.entries.length;
      version = catalog.catalogVersion;
      await recordSource(db, 'kev', { version: catalog.catalogVersion, details: { from: 'import', file, listed: rows, dateReleased: catalog.dateReleased } });
    } else {
      kind = 'nvd';
      const records = vulns.filter((v): v is { cve: NvdCve } => isRecord(v) && isRecord(v.cve) && typeof v.cve.id === 'string').map((v) => nvdRow(v.cve));
      skipped = vulns.length - records.length;
      rows = await upsertNvd(db, records);
      version = isRecord(body) && typeof body.version === 'string' ? body.version : null;
      if (version !== null && version !== '2.0') throw new IntelProtocolError('nvd', `${file}: NVD format version ${version}, expected 2.0`);
    }
  }
  const errataUpdated = await refreshErrataIntel(db, now);
  return { file, kind, rows, skipped, version, errataUpdated, ms: Date.now() - started };
}
