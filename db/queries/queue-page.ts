import type { QueueStatus } from '../../domain/queue-status.js';
import { QUEUE_STATUSES } from '../../domain/queue-status.js';
import { poolOf, type Db } from '../connection.js';
import type { Severity } from '../database.js';

// The queue's first page is the most read thing in the product (dashboards poll it). One named statement
// answers a page and its total in one round trip, planned once per connection; timestamps come back as
// ISO text, ready for JSON. Any filter combination is the same statement (null = no filter).

const RANK: Record<Severity, number> = { Critical: 1, High: 2, Medium: 3, Low: 4 };
const NOT_CANCELLED = QUEUE_STATUSES.filter((s) => s !== 'cancelled');

const ISO = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const TEXT = `
  with page as (
    select q.id, q.advisory_name, q.target_os, q.status, ${ISO('q.status_changed_at')} as status_changed_at,
           q.priority_override, q.notes, q.success_score, q.requires_reboot, q.queued_by, q.workflow_id,
           q.test_system_id, ${ISO('q.created_at')} as created_at, ${ISO('q.updated_at')} as updated_at,
           e.severity, e.synopsis, e.advisory_type, e.cves
    from patch_test_queue q
    join errata_cache e on e.advisory_name = q.advisory_name
    where q.status = any($1::text[])
      and ($2::text is null or q.target_os = $2)
      and ($3::smallint[] is null or q.severity_rank = any($3))
    order by q.priority_override asc nulls last, q.severity_rank asc, q.success_score desc nulls last, q.id asc
    limit $4 offset $5
  )
  select (select coalesce(sum(items), 0)::integer from queue_counts c
           where c.status = any($1::text[])
             and ($2::text is null or c.target_os = $2)
             and ($3::smallint[] is null or c.severity_rank = any($3))) as total,
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
}

export async function queuePage(
  db: Db,
  filter: { status?: QueueStatus[]; targetOs?: string; severity?: Severity[] },
  page: { limit: number; offset: number },
): Promise<{ total: number; items: QueuePageItem[] }> {
  const { rows } = await poolOf(db).query<{ total: number; items: QueuePageItem[] }>({
    name: 'queue_page_v1',
    text: TEXT,
    values: [
      filter.status?.length ? filter.status : NOT_CANCELLED,
      filter.targetOs ?? null,
      filter.severity?.length ? filter.severity.map((s) => RANK[s]) : null,
      page.limit,
      page.offset,
    ],
  });
  const row = rows[0];
  return { total: row?.total ?? 0, items: row?.items ?? [] };
}
