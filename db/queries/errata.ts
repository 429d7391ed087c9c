import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Severity } from '../database.js';
import { CVE_INTEL_SQL, ERRATUM_INTEL_SQL, type CveIntelView, type ErratumIntelView, type IntelFilter } from './cve-intel.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface ErrataFilter {
  severity?: Severity[];
  advisoryType?: string[];
  os?: string;
  cve?: string;
  search?: string;
  /** only advisories relevant to at least one test system now */
  relevant?: boolean;
  requiresReboot?: boolean;
  /** issue 14: the erratum's KEV / EPSS / CVSS */
  intel?: IntelFilter;
}

export type ErrataSort = 'severity' | 'advisory_name' | 'update_date' | 'issue_date' | 'urgency';

// severity_rank() (migration 0003) is the expression errata_cache_relevant_severity_idx is built on: the default
// sort of the Errata page reads its first page from that index instead of sorting the cache.
const SEVERITY_RANK = sql<number>`severity_rank(severity)`;

/**
 * A list's total is counted up to this many rows past the page (a bounded count): beyond it the answer says
 * "more than" (`total_capped`) instead of counting a 100,000-row cache on every poll. The number is never a
 * wrong exact count: it is exact when `total_capped` is false and a lower bound when true.
 */
export const ERRATA_COUNT_AHEAD = 5_000;

function filtered(db: Executor, f: ErrataFilter) {
  let q = db.selectFrom('errata_cache as e');
  if (f.severity?.length) q = q.where('severity', 'in', f.severity);
  if (f.advisoryType?.length) q = q.where('advisory_type', 'in', f.advisoryType);
  if (f.os) q = q.where(sql<boolean>`${f.os} = any(target_os)`);
  if (f.cve) q = q.where(sql<boolean>`${f.cve.toUpperCase()} = any(cves)`);
  if (f.search) {
    const like = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('advisory_name', 'ilike', like), eb('synopsis', 'ilike', like)]));
  }
  // written as the partial index's predicate, so the planner can use it
  if (f.relevant !== undefined) q = q.where(f.relevant ? sql<boolean>`cardinality(test_system_ids) > 0` : sql<boolean>`cardinality(test_system_ids) = 0`);
  if (f.requiresReboot !== undefined) q = q.where('requires_reboot', '=', f.requiresReboot);
  const i = f.intel ?? {};
  if (i.kev !== undefined) q = q.where('e.kev', '=', i.kev);
  if (i.epssGt !== undefined) q = q.where(sql<boolean>`exists (select 1 from cve_intel i where i.cve_id = any(e.cves) and i.epss_score > ${i.epssGt})`);
  if (i.percentileGt !== undefined) q = q.where('e.epss_percentile', '>', i.percentileGt);
  if (i.cvssGte !== undefined) q = q.where('e.cvss_score', '>=', i.cvssGte);
  return q;
}

/**
 * One page of the cache for the filter, and its total: exact up to offset + ERRATA_COUNT_AHEAD matching rows;
 * past that `total` is that bound and `total_capped` is true (more rows match).
 */
export async function listErrata(db: Executor, f: ErrataFilter, page: { limit: number; offset: number; sort: ErrataSort }) {
  const base = filtered(db, f);
  const cap = page.offset + ERRATA_COUNT_AHEAD;
  let rows = base
    .select([
      'advisory_name', 'advisory_type', 'advisory_status', 'synopsis', 'severity', 'cves', 'target_os', 'requires_reboot',
      'issue_date', 'update_date', 'last_synced_at',
    ])
    .select(sql<number>`cardinality(test_system_ids)`.as('test_systems'))
    .select([sql<ErratumIntelView>`${sql.raw(ERRATUM_INTEL_SQL)}`.as('intel'), sql<CveIntelView[]>`${sql.raw(CVE_INTEL_SQL)}`.as('cve_intel')]);
  rows =
    page.sort === 'urgency'
      ? rows.orderBy('e.urgency', 'desc').orderBy(SEVERITY_RANK)
      : page.sort === 'severity'
      ? rows.orderBy(SEVERITY_RANK).orderBy('update_date', 'desc')
      : page.sort === 'advisory_name'
        ? rows.orderBy('advisory_name')
        : rows.orderBy(page.sort, (ob) => ob.desc().nullsLast());
  const [items, total] = await Promise.all([
    rows.orderBy('advisory_name').limit(page.limit).offset(page.offset).execute(),
    db
      .selectFrom(base.select(sql`1`.as('x')).limit(cap + 1).as('m'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  const n = Number(total.n);
  return { total: Math.min(n, cap), total_capped: n > cap, items };
}

/** issue 14: one erratum's CVSS / EPSS / KEV aggregate with its urgency, and each CVE's intel. */
export async function erratumIntelOf(db: Executor, advisoryName: string): Promise<{ intel: ErratumIntelView; cve_intel: CveIntelView[] } | undefined> {
  const { rows } = await sql<{ intel: ErratumIntelView; cve_intel: CveIntelView[] }>`
    select ${sql.raw(ERRATUM_INTEL_SQL)} as intel, ${sql.raw(CVE_INTEL_SQL)} as cve_intel from errata_cache e where e.advisory_name = ${advisoryName}`.execute(db);
  return rows[0];
}

export function getErratum(db: Executor, advisoryName: string) {
  return db.selectFrom('errata_cache').selectAll().where('advisory_name', '=', advisoryName).executeTakeFirst();
}

export async function errataStats(db: Executor) {
  const [totals, byType, bySeverity, byOs] = await Promise.all([
    db
      .selectFrom('errata_cache')
      .select([
        sql<number>`count(*)::integer`.as('total'),
        sql<number>`count(*) filter (where cardinality(test_system_ids) > 0)::integer`.as('relevant'),
        sql<number>`count(*) filter (where requires_reboot)::integer`.as('requires_reboot'),
        sql<number>`count(*) filter (where cardinality(cves) > 0)::integer`.as('with_cves'),
        sql<number>`coalesce(sum(cardinality(cves)), 0)::integer`.as('cves'),
      ])
      .executeTakeFirstOrThrow(),
    db.selectFrom('errata_cache').select(['advisory_type as key', sql<number>`count(*)::integer`.as('count')]).groupBy('advisory_type').execute(),
    db.selectFrom('errata_cache').select(['severity as key', sql<number>`count(*)::integer`.as('count')]).groupBy('severity').execute(),
    sql<{ key: string; count: number }>`select os as key, count(*)::integer as count from errata_cache, unnest(target_os) os group by os`
      .execute(db)
      .then((r) => r.rows),
  ]);
  const asMap = (rows: { key: string; count: number }[]) => Object.fromEntries(rows.map((r) => [r.key, r.count]));
  return { ...totals, by_type: asMap(byType), by_severity: asMap(bySeverity), by_os: asMap(byOs) };
}
