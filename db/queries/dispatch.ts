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

/**
 * Keeps queue items from waiting forever: a queued item no test system of its OS can test any more (UYUNI lists
 * its advisory as relevant to none of them, e.g. a later patch superseded it) becomes `untestable` with why;
 * an untestable one that is relevant again is queued again; an inconclusive one is queued again once
 * `retryAfterSeconds` passed since its last test, at most `maxRetries` times. Run after each sync and before
 * each dispatch. Returns how many items moved, by new status.
 */
export async function recheckTestability(db: Db, opts: { retryAfterSeconds: number; maxRetries: number }): Promise<Record<string, number>> {
  const { rows } = await sql<{ status: string; n: number }>`
    with candidates as (
      select q.id, q.status, q.target_os, q.advisory_name,
             exists (select 1 from test_systems s where s.os = q.target_os and s.system_id = any(e.test_system_ids)) as testable
      from patch_test_queue q join errata_cache e on e.advisory_name = q.advisory_name
      where q.status in ('queued', 'untestable', 'inconclusive')
    ), untestable as (
      update patch_test_queue q set status = 'untestable',
        status_reason = 'no ' || c.target_os || ' test system needs ' || c.advisory_name || ' (UYUNI lists it as relevant to none); re-checked after each sync'
      from candidates c where c.id = q.id and c.status = 'queued' and not c.testable
      returning 'untestable'::text as status
    ), requeued as (
      update patch_test_queue q set status = 'queued', status_reason = null
      from candidates c where c.id = q.id and c.status = 'untestable' and c.testable
      returning 'queued'::text as status
    ), retried as (
      update patch_test_queue q set status = 'queued', workflow_id = null, test_system_id = null,
        status_reason = 'retrying after an inconclusive test: ' || coalesce(q.status_reason, '')
      from candidates c where c.id = q.id and c.status = 'inconclusive' and c.testable
        and q.status_changed_at < now() - make_interval(secs => ${opts.retryAfterSeconds})
        and (select count(*) from patch_tests t where t.queue_id = q.id and t.status = 'inconclusive') <= ${opts.maxRetries}
      returning 'queued'::text as status
    )
    select status, count(*)::integer as n from (select * from untestable union all select * from requeued union all select * from retried) m group by status`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
