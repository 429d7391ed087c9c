import { sql } from 'kysely';
import type { Db } from '../connection.js';

/**
 * Queued items a free test system could take now, in work order: the item's OS has a free, healthy test
 * system to which the advisory is relevant. At most `limit` per OS (the number of free systems).
 */
export async function dispatchable(db: Db, targetOs?: string) {
  const { rows } = await sql<{ id: number; target_os: string; free: number }>`
    with free as (
      select os, array_agg(system_id) as ids, count(*)::integer as n from test_systems
      where leased_by is null and not quarantined group by os
    ), ranked as (
      select q.id, q.target_os, f.n as free,
             row_number() over (partition by q.target_os
               order by q.priority_override asc nulls last, q.severity_rank, q.success_score desc nulls last, q.id) as rank
      from patch_test_queue q
      join errata_cache e on e.advisory_name = q.advisory_name
      join free f on f.os = q.target_os
      where q.status = 'queued' and e.test_system_ids && f.ids
        and (${targetOs ?? null}::text is null or q.target_os = ${targetOs ?? null})
    )
    select id, target_os, free from ranked where rank <= free order by target_os, rank`.execute(db);
  return rows;
}
