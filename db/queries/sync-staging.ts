import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Severity, SyncError } from '../database.js';
import { json } from '../json.js';
import { recordEvent } from './notifications.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** One advisory as seen on the systems of one chunk (deduplicated within the chunk). */
export interface StagedErratum {
  advisoryName: string;
  uyuniErrataId: number;
  advisoryType: string;
  advisoryStatus: string | null;
  synopsis: string | null;
  issueDate: string | null;
  updateDate: string | null;
  rebootSuggested: boolean | null;
  targetOs: string[];
  systemIds: number[];
}

export interface AdvisoryDetails {
  advisoryName: string;
  description: string | null;
  uyuniSeverity: string | null;
  severity: Severity;
  cves: string[];
  rebootSuggested: boolean | null;
}

const STAGE_BATCH = 2_000;

/**
 * Replaces what a chunk staged before (a retried activity rewrites, never duplicates). Arrays are sent as
 * one parameter per column and unnested, so a batch is 10 parameters whatever its size.
 */
export async function stageChunk(db: Kysely<Database>, syncRunId: number, chunk: number, rows: StagedErratum[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('sync_staging_errata').where('sync_run_id', '=', syncRunId).where('chunk', '=', chunk).execute();
    for (let i = 0; i < rows.length; i += STAGE_BATCH) {
      const batch = rows.slice(i, i + STAGE_BATCH);
      await sql`
        insert into sync_staging_errata (sync_run_id, chunk, advisory_name, uyuni_errata_id, advisory_type, advisory_status,
          synopsis, issue_date, update_date, reboot_suggested, target_os, system_ids)
        select ${syncRunId}, ${chunk}, r.advisory_name, r.uyuni_errata_id, r.advisory_type, r.advisory_status, r.synopsis,
          r.issue_date, r.update_date, r.reboot_suggested,
          string_to_array(r.target_os, ','), string_to_array(r.system_ids, ',')::integer[]
        from unnest(
          ${batch.map((r) => r.advisoryName)}::text[], ${batch.map((r) => r.uyuniErrataId)}::integer[],
          ${batch.map((r) => r.advisoryType)}::text[], ${batch.map((r) => r.advisoryStatus)}::text[],
          ${batch.map((r) => r.synopsis)}::text[], ${batch.map((r) => r.issueDate)}::date[],
          ${batch.map((r) => r.updateDate)}::date[], ${batch.map((r) => r.rebootSuggested)}::boolean[],
          ${batch.map((r) => r.targetOs.join(','))}::text[], ${batch.map((r) => r.systemIds.join(','))}::text[]
        ) as r(advisory_name, uyuni_errata_id, advisory_type, advisory_status, synopsis, issue_date, update_date,
               reboot_suggested, target_os, system_ids)`.execute(trx);
    }
  });
}

/**
 * Numbers the advisories whose details (description, severity, CVEs) must be fetched: the ones new to the
 * cache, the ones UYUNI updated since, and the ones whose earlier fetch left gaps. Returns how many.
 * Unchanged advisories cost no UYUNI call. Idempotent: a second call keeps the first plan.
 */
export async function planDetails(db: Kysely<Database>, syncRunId: number): Promise<number> {
  await sql`
    insert into sync_staging_details (sync_run_id, seq, advisory_name, advisory_type)
    select ${syncRunId}, row_number() over (order by s.advisory_name), s.advisory_name, s.advisory_type
    from (
      select advisory_name, max(advisory_type) as advisory_type, max(update_date) as update_date
      from sync_staging_errata where sync_run_id = ${syncRunId} group by advisory_name
    ) s
    left join errata_cache c on c.advisory_name = s.advisory_name
    where c.id is null
       or c.update_date is distinct from s.update_date
       or c.description is null
       or (s.advisory_type = 'Security Advisory' and cardinality(c.cves) = 0)
    on conflict do nothing`.execute(db);
  const { count } = await db
    .selectFrom('sync_staging_details')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('sync_run_id', '=', syncRunId)
    .executeTakeFirstOrThrow();
  return Number(count);
}

export function plannedSlice(db: Executor, syncRunId: number, fromSeq: number, toSeq: number) {
  return db
    .selectFrom('sync_staging_details')
    .select(['advisory_name', 'advisory_type'])
    .where('sync_run_id', '=', syncRunId)
    .where('seq', '>=', fromSeq)
    .where('seq', '<=', toSeq)
    .orderBy('seq')
    .execute();
}

export async function saveDetails(db: Kysely<Database>, syncRunId: number, details: AdvisoryDetails[]): Promise<void> {
  if (details.length === 0) return;
  await sql`
    update sync_staging_details d set fetched = true, description = r.description, uyuni_severity = r.uyuni_severity,
      severity = r.severity, cves = string_to_array(nullif(r.cves, ''), ','), reboot_suggested = r.reboot_suggested
    from unnest(
      ${details.map((d) => d.advisoryName)}::text[], ${details.map((d) => d.description)}::text[],
      ${details.map((d) => d.uyuniSeverity)}::text[], ${details.map((d) => d.severity)}::text[],
      ${details.map((d) => d.cves.join(','))}::text[], ${details.map((d) => d.rebootSuggested)}::boolean[]
    ) as r(advisory_name, description, uyuni_severity, severity, cves, reboot_suggested)
    where d.sync_run_id = ${syncRunId} and d.advisory_name = r.advisory_name`.execute(db);
}

export interface CommitResult {
  errataCount: number;
  inserted: number;
  updated: number;
  noLongerRelevant: number;
  alreadyCommitted: boolean;
}

/**
 * Merges a finished run into errata_cache in ONE transaction: new advisories inserted, changed ones updated,
 * unchanged ones untouched (so a repeated sync changes nothing), description/packages never overwritten by
 * NULL, advisories no longer relevant to any test system keep their row with no test systems. Then the run
 * is marked succeeded and its staging rows go. Idempotent: a retried commit of a committed run is a no-op.
 */
export async function commitSync(
  db: Kysely<Database>,
  syncRunId: number,
  run: { groups: number; systems: number; uyuniCalls: number; cvesFetched: number; phaseDurations: Record<string, number>; errors: SyncError[] },
): Promise<CommitResult> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('sync_runs').selectAll().where('id', '=', syncRunId).forUpdate().executeTakeFirstOrThrow();
    if (current.status === 'succeeded') {
      return { errataCount: current.errata_count, inserted: current.errata_inserted, updated: current.errata_updated, noLongerRelevant: 0, alreadyCommitted: true };
    }
    if (current.status === 'failed') throw new Error(`sync run ${syncRunId} was already marked failed`);

    const upserted = await sql<{ inserted: boolean }>`
      with run_rows as (
        select * from sync_staging_errata where sync_run_id = ${syncRunId}
      ), oses as (
        select advisory_name, array_agg(distinct o order by o) as target_os
        from run_rows, unnest(target_os) o group by advisory_name
      ), systems as (
        select advisory_name, array_agg(distinct i order by i) as system_ids
        from run_rows, unnest(system_ids) i group by advisory_name
      ), staged as (
        select r.advisory_name,
               max(r.uyuni_errata_id) as uyuni_errata_id,
               max(r.advisory_type) as advisory_type,
               max(r.advisory_status) as advisory_status,
               max(r.synopsis) as synopsis,
               max(r.issue_date) as issue_date,
               max(r.update_date) as update_date,
               bool_or(r.reboot_suggested) as reboot_suggested,
               max(o.target_os) as target_os,
               max(y.system_ids) as system_ids
        from run_rows r
        join oses o using (advisory_name)
        join systems y using (advisory_name)
        group by r.advisory_name
      )
      insert into errata_cache as c (advisory_name, uyuni_errata_id, advisory_type, advisory_status, synopsis, description,
        severity, uyuni_severity, cves, target_os, test_system_ids, requires_reboot, issue_date, update_date,
        last_synced_at, last_sync_run_id)
      select st.advisory_name, st.uyuni_errata_id, st.advisory_type, st.advisory_status, st.synopsis, d.description,
             coalesce(d.severity, case when st.advisory_type = 'Security Advisory' then 'Medium' else 'Low' end),
             d.uyuni_severity, coalesce(d.cves, '{}'), st.target_os, st.system_ids,
             coalesce(d.reboot_suggested, st.reboot_suggested, false), st.issue_date, st.update_date, now(), ${syncRunId}
      from staged st
      left join sync_staging_details d on d.sync_run_id = ${syncRunId} and d.advisory_name = st.advisory_name and d.fetched
      on conflict (advisory_name) do update set
        uyuni_errata_id = excluded.uyuni_errata_id,
        advisory_type = excluded.advisory_type,
        advisory_status = excluded.advisory_status,
        synopsis = excluded.synopsis,
        description = coalesce(excluded.description, c.description),
        severity = case when excluded.uyuni_severity is not null or excluded.description is not null
                        then excluded.severity else c.severity end,
        uyuni_severity = coalesce(excluded.uyuni_severity, c.uyuni_severity),
        cves = case when cardinality(excluded.cves) > 0 then excluded.cves else c.cves end,
        target_os = excluded.target_os,
        test_system_ids = excluded.test_system_ids,
        requires_reboot = excluded.requires_reboot,
        issue_date = excluded.issue_date,
        update_date = excluded.update_date,
        last_synced_at = excluded.last_synced_at,
        last_sync_run_id = excluded.last_sync_run_id
      where (c.uyuni_errata_id, c.advisory_type, c.advisory_status, c.synopsis, c.target_os, c.test_system_ids,
             c.requires_reboot, c.issue_date, c.update_date)
            is distinct from
            (excluded.uyuni_errata_id, excluded.advisory_type, excluded.advisory_status, excluded.synopsis, excluded.target_os,
             excluded.test_system_ids, excluded.requires_reboot, excluded.issue_date, excluded.update_date)
         or (excluded.description is not null and excluded.description is distinct from c.description)
         or (excluded.uyuni_severity is not null and excluded.severity is distinct from c.severity)
         or (cardinality(excluded.cves) > 0 and excluded.cves is distinct from c.cves)
      returning (xmax = 0) as inserted`.execute(trx);

    const dropped = await sql`
      update errata_cache c set test_system_ids = '{}', last_synced_at = now(), last_sync_run_id = ${syncRunId}
      where cardinality(c.test_system_ids) > 0
        and not exists (select 1 from sync_staging_errata s where s.sync_run_id = ${syncRunId} and s.advisory_name = c.advisory_name)`.execute(trx);

    const { count } = await trx
      .selectFrom('sync_staging_errata')
      .select(sql<number>`count(distinct advisory_name)::integer`.as('count'))
      .where('sync_run_id', '=', syncRunId)
      .executeTakeFirstOrThrow();
    const inserted = upserted.rows.filter((r) => r.inserted).length;
    const updated = upserted.rows.length - inserted;

    await trx
      .updateTable('sync_runs')
      .set({
        status: 'succeeded',
        finished_at: sql<Date>`now()`,
        duration_ms: sql<number>`(extract(epoch from now() - started_at) * 1000)::integer`,
        groups_count: run.groups,
        systems_count: run.systems,
        errata_count: count,
        errata_inserted: inserted,
        errata_updated: updated + Number(dropped.numAffectedRows ?? 0),
        cves_fetched: run.cvesFetched,
        uyuni_calls: run.uyuniCalls,
        phase_durations: json(run.phaseDurations),
        errors: json(run.errors),
      })
      .where('id', '=', syncRunId)
      .returning('duration_ms')
      .executeTakeFirstOrThrow()
      .then(async (done) => {
        await recordEvent(trx, 'sync.completed', {
          queue_id: null, advisory: null, os: null, sync_run_id: syncRunId, trigger: current.trigger, groups: run.groups, systems: run.systems,
          errata: count, inserted, updated: updated + Number(dropped.numAffectedRows ?? 0), duration_seconds: done.duration_ms === null ? null : done.duration_ms / 1000,
        }, { dedupeKey: `sync-completed-${syncRunId}`, workflowId: current.workflow_id });
      });
    await trx.deleteFrom('sync_staging_details').where('sync_run_id', '=', syncRunId).execute();
    await trx.deleteFrom('sync_staging_errata').where('sync_run_id', '=', syncRunId).execute();
    const noLongerRelevant = Number(dropped.numAffectedRows ?? 0);
    return { errataCount: count, inserted, updated: updated + noLongerRelevant, noLongerRelevant, alreadyCommitted: false };
  });
}

export async function discardStaging(db: Executor, syncRunId: number): Promise<void> {
  await db.deleteFrom('sync_staging_details').where('sync_run_id', '=', syncRunId).execute();
  await db.deleteFrom('sync_staging_errata').where('sync_run_id', '=', syncRunId).execute();
}
