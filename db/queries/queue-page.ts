import type { QueueStatus } from '../../domain/queue-status.js';
import { QUEUE_STATUSES } from '../../domain/queue-status.js';
import { poolOf, type Db } from '../connection.js';
import type { Severity } from '../database.js';
import { CVE_INTEL_SQL, ERRATUM_INTEL_SQL, type CveIntelView, type ErratumIntelView, type IntelFilter } from './cve-intel.js';

// The queue's first page is the most read thing in the product (dashboards poll it). One named statement
// answers a page and its total in one round trip, planned once per connection; timestamps come back as
// ISO text, ready for JSON. Any filter combination is the same statement (null = no filter).

const RANK: Record<Severity, number> = { Critical: 1, High: 2, Medium: 3, Low: 4 };
const NOT_CANCELLED = QUEUE_STATUSES.filter((s) => s !== 'cancelled');

const ISO = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// issue 14's filters ($6 kev, $7 epss_gt, $8 percentile_gt, $9 cvss_gte) on the erratum's aggregate; with any
// of them the total is counted (queue_counts does not know intel).
const INTEL_WHERE = `($6::boolean is null or e.kev = $6)
      and ($7::float8 is null or exists (select 1 from cve_intel i where i.cve_id = any(e.cves) and i.epss_score > $7))
      and ($8::float8 is null or e.epss_percentile > $8)
      and ($9::float8 is null or e.cvss_score >= $9)`;

const TEXT = `
  with page as (
    select q.id, q.advisory_name, q.target_os, q.status, ${ISO('q.status_changed_at')} as status_changed_at,
           q.priority_override, q.notes, q.success_score, q.requires_reboot, q.queued_by, q.workflow_id,
           q.test_system_id, ${ISO('q.created_at')} as created_at, ${ISO('q.updated_at')} as updated_at,
           e.severity, e.synopsis, e.advisory_type, e.cves,
           ${ERRATUM_INTEL_SQL} as intel, ${CVE_INTEL_SQL} as cve_intel
    from patch_test_queue q
    join errata_cache e on e.advisory_name = q.advisory_name
    where q.status = any($1::text[])
      and ($2::text is null or q.target_os = $2)
      and ($3::smallint[] is null or q.severity_rank = any($3))
      and ${INTEL_WHERE}
    order by q.priority_override asc nulls last, q.urgency desc, q.severity_rank asc, q.success_score desc nulls last, q.id asc
    limit $4 offset $5
  )
  select case when $6::boolean is null and $7::float8 is null and $8::float8 is null and $9::float8 is null
           then (select coalesce(sum(items), 0)::integer from queue_counts c
                  where c.status = any($1::text[])
                    and ($2::text is null or c.target_os = $2)
                    and ($3::smallint[] is null or c.severity_rank = any($3)))
           else (select count(*)::integer from patch_test_queue q join errata_cache e on e.advisory_name = q.advisory_name
                  where q.status = any($1::text[])
                    and ($2::text is null or q.target_os = $2)
                    and ($3::smallint[] is null or q.severity_rank = any($3))
                    and ${INTEL_WHERE}) end as total,
         coalesce((select json_agg(page) from page), '[]') as items`;

export interface QueuePageItem {
  id: number;
  advisory_name: string;
  target_os: string;
  status: QueueStatus;
  status_changed_at: string;
  priority_override: number | null;
  notes: string | null;
  success_score: number | null;
  requires_reboot: boolean;
  queued_by: string | null;
  workflow_id: string | null;
  test_system_id: number | null;
  created_at: string;
  updated_at: string;
  severity: Severity;
  synopsis: string | null;
  advisory_type: string;
  cves: string[];
  intel: ErratumIntelView;
  cve_intel: CveIntelView[];
}

export async function queuePage(
  db: Db,
  filter: { status?: QueueStatus[]; targetOs?: string; severity?: Severity[] } & IntelFilter,
  page: { limit: number; offset: number },
): Promise<{ total: number; items: QueuePageItem[] }> {
  const { rows } = await poolOf(db).query<{ total: number; items: QueuePageItem[] }>({
    name: 'queue_page_v2',
    text: TEXT,
    values: [
      filter.status?.length ? filter.status : NOT_CANCELLED,
      filter.targetOs ?? null,
      filter.severity?.length ? filter.severity.map((s) => RANK[s]) : null,
      page.limit,
      page.offset,
      filter.kev ?? null,
      filter.epssGt ?? null,
      filter.percentileGt ?? null,
      filter.cvssGte ?? null,
    ],
  });
  const row = rows[0];
  return { total: row?.total ?? 0, items: row?.items ?? [] };
}
