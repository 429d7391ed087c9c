import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface TestClaim {
  queueId: number;
  advisoryName: string;
  targetOs: string;
  systemId: number;
}

// One claim at a time across every API and worker process (a transaction-scoped advisory lock): two
// concurrent starts can never pick the same item or the same system, and neither sees a system "free" that
// the other is about to take. Claims are milliseconds; the lock is released with the transaction.
const CLAIM_LOCK = sql`select pg_advisory_xact_lock(hashtext('spm.test-claim'))`;

/**
 * Claims the next (item, system) pair for a test, inside `trx` (the caller starts the workflow before it
 * commits): the highest-priority queued item — or `queueId` — whose advisory is synced and relevant to a
 * free, healthy test system of its OS. The item becomes `testing` with `workflowIdOf(item)` as its workflow,
 * the system is leased to that workflow (patchTest's beginTest and lease find both as theirs). Undefined
 * when no pair is free. A lease taken meanwhile by a test outside the lock (SKIP LOCKED) is retried around.
 */
export async function claimTest(
  trx: Transaction<Database>,
  opts: {
    queueId?: number;
    workflowIdOf: (queueId: number) => string;
    /** Decides the workflow once the pair is found (a bundle's root, sized for this system); wins over workflowIdOf. */
    workflowFor?: (claim: TestClaim) => Promise<string>;
  },
): Promise<TestClaim | undefined> {
  await CLAIM_LOCK.execute(trx);
  for (let attempt = 0; attempt < 5; attempt++) {
    const { rows } = await sql<TestClaim>`
      select q.id as "queueId", q.advisory_name as "advisoryName", q.target_os as "targetOs", s.system_id as "systemId"
      from patch_test_queue q
      join errata_cache e on e.advisory_name = q.advisory_name
      join lateral (
        select t.system_id from test_systems t
        where t.os = q.target_os and t.leased_by is null and not t.quarantined and t.system_id = any(e.test_system_ids)
        order by t.system_id limit 1
      ) s on true
      where q.status = 'queued' and e.uyuni_errata_id is not null and e.retracted_at is null
        and (${opts.queueId ?? null}::integer is null or q.id = ${opts.queueId ?? null})
      order by q.priority_override asc nulls last, q.urgency desc, q.severity_rank, q.success_score desc nulls last, q.id
      limit 1`.execute(trx);
    const claim = rows[0];
    if (!claim) return undefined;
    const workflowId = opts.workflowFor ? await opts.workflowFor(claim) : opts.workflowIdOf(claim.queueId);
    const leased = await trx
      .updateTable('test_systems')
      .set({ leased_by: workflowId, leased_run_id: null, leased_at: new Date() })
      .where('system_id', '=', claim.systemId)
      .where('leased_by', 'is', null)
      .where('quarantined', '=', false)
      .executeTakeFirst();
    if (Number(leased.numUpdatedRows) !== 1) continue;
    const marked = await trx
      .updateTable('patch_test_queue')
      .set({ status: 'testing', workflow_id: workflowId, test_system_id: claim.systemId })
      .where('id', '=', claim.queueId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) !== 1) throw new Error(`queue item ${claim.queueId} changed while it was being claimed`);
    return claim;
  }
  return undefined;
}

/** The run id of the workflow a claim leased its system to, once that workflow has started. */
export async function recordLeaseRun(db: Executor, systemId: number, workflowId: string, runId: string): Promise<void> {
  await db.updateTable('test_systems').set({ leased_run_id: runId }).where('system_id', '=', systemId).where('leased_by', '=', workflowId).execute();
}

/**
 * Why no test can start now, for the 409 (the true reason, not a guess): nothing queued, the item is not
 * queued, its advisory is not synced, or every test system it could run on is leased (by whom) or
 * quarantined (why) — per OS of the queued items.
 */
export async function whyNoTest(db: Executor, queueId?: number): Promise<string> {
  const items = await db
    .selectFrom('patch_test_queue as q')
    .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
    .select(['q.id', 'q.status', 'q.status_reason', 'q.target_os', 'q.advisory_name', 'q.workflow_id', 'e.test_system_ids', 'e.uyuni_errata_id'])
    .$if(queueId !== undefined, (qb) => qb.where('q.id', '=', queueId as number))
    .$if(queueId === undefined, (qb) => qb.where('q.status', '=', 'queued'))
    .execute();
  if (queueId !== undefined) {
    const item = items[0];
    if (!item) return `queue item ${queueId} does not exist`;
    if (item.status !== 'queued') {
      return `queue item ${queueId} is ${item.status}, not queued${item.status_reason ? `: ${item.status_reason}` : ''}${item.workflow_id ? ` (workflow ${item.workflow_id})` : ''}`;
    }
    if (item.uyuni_errata_id === null) return `${item.advisory_name} has no UYUNI errata id yet; run a sync first`;
  }
  if (!items.length) return 'nothing is queued';
  const byOs = new Map<string, { items: number; unsynced: number; systems: Set<number> }>();
  for (const i of items) {
    const entry = byOs.get(i.target_os) ?? { items: 0, unsynced: 0, systems: new Set<number>() };
    entry.items++;
    if (i.uyuni_errata_id === null) entry.unsynced++;
    for (const s of i.test_system_ids) entry.systems.add(s);
    byOs.set(i.target_os, entry);
  }
  const systems = await db
    .selectFrom('test_systems')
    .select(['system_id', 'name', 'os', 'leased_by', 'quarantined', 'quarantine_reason'])
    .where('os', 'in', [...byOs.keys()])
    .orderBy('system_id')
    .execute();
  const parts = [...byOs.entries()].sort().map(([os, { items: count, unsynced, systems: relevant }]) => {
    const mine = systems.filter((s) => s.os === os && relevant.has(s.system_id));
    const states = mine.map((s) =>
      s.quarantined ? `${s.name} quarantined (${s.quarantine_reason ?? 'no reason recorded'})` : s.leased_by ? `${s.name} leased by ${s.leased_by}` : `${s.name} free`,
    );
    const what = queueId !== undefined ? `${items[0]?.advisory_name} (${os})` : `${count} queued ${os} item${count === 1 ? '' : 's'}`;
    if (unsynced === count) return `${what}: not synced from UYUNI yet (no errata id)`;
    return mine.length ? `${what}: ${states.join(', ')}` : `${what}: no ${os} test system it is relevant to is known (has the sync run?)`;
  });
  return `no test system is free for ${parts.join('; ')}`;
}

/**
 * Keeps queue items from waiting forever: a queued item no test system of its OS can test any more (UYUNI lists
 * its advisory as relevant to none of them, e.g. a later patch superseded it) becomes `untestable` with why;
 * an untestable one that is relevant again is queued again; an inconclusive one is queued again once
 * `retryAfterSeconds` passed since its last test, at most `maxRetries` times; one whose advisory is retracted is
 * cancelled (issue 15). Run after each sync and before
 * each dispatch. Returns how many items moved, by new status.
 */
export async function recheckTestability(db: Executor, opts: { retryAfterSeconds: number; maxRetries: number }): Promise<Record<string, number>> {
  const { rows } = await sql<{ status: string; n: number }>`
    with candidates as (
      select q.id, q.status, q.target_os, q.advisory_name,
             exists (select 1 from test_systems s where s.os = q.target_os and s.system_id = any(e.test_system_ids)) as testable
      from patch_test_queue q join errata_cache e on e.advisory_name = q.advisory_name
      where q.status in ('queued', 'untestable', 'inconclusive') and e.retracted_at is null
    ), retracted as (
      -- issue 15: a retracted advisory is never tested again (the sync's retraction check cancels these too)
      update patch_test_queue q set status = 'cancelled',
        status_reason = q.advisory_name || ' was retracted by its vendor (UYUNI advisory_status "retracted")'
      from errata_cache e
      where e.advisory_name = q.advisory_name and e.retracted_at is not null and q.status in ('queued', 'untestable', 'inconclusive')
      returning 'cancelled'::text as status
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
        and (select count(*) from patch_tests t where t.queue_id = q.id and t.status = 'inconclusive' and t.bundle_id is null)
          + (select count(*) from test_bundle_members m join test_bundles b on b.id = m.bundle_id
             where m.queue_id = q.id and b.root_id is null and m.verdict = 'inconclusive') <= ${opts.maxRetries}
      returning 'queued'::text as status
    )
    select status, count(*)::integer as n from (select * from untestable union all select * from requeued union all select * from retried union all select * from retracted) m group by status`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * The queued errata a bundle for `claim` may take: of the claim's OS, synced, relevant to its test system, in
 * the work order (the claimed head first), with what composition needs (Success Score, kernel, package names,
 * priority_override). At most `limit`: the composition spreads large package groups only when it sees them whole.
 */
export async function bundleCandidates(db: Executor, claim: TestClaim, limit: number) {
  const { rows } = await sql<{ queueId: number; advisoryName: string; successScore: number | null; hasKernel: boolean; packageNames: string[]; priorityOverride: number | null }>`
    select q.id as "queueId", q.advisory_name as "advisoryName", q.success_score as "successScore", q.priority_override as "priorityOverride",
           coalesce((select r.has_kernel from patch_risk_profile r where r.queue_id = q.id order by r.id desc limit 1), false) as "hasKernel",
           array(select distinct p->>'name' from jsonb_array_elements(coalesce(e.packages, '[]'::jsonb)) p where p->>'name' is not null) as "packageNames"
    from patch_test_queue q
    join errata_cache e on e.advisory_name = q.advisory_name
    where (q.id = ${claim.queueId} or (q.status = 'queued' and q.target_os = ${claim.targetOs}))
      and e.uyuni_errata_id is not null and ${claim.systemId}::integer = any(e.test_system_ids)
    order by (q.id = ${claim.queueId}) desc, q.priority_override asc nulls last, q.urgency desc, q.severity_rank, q.success_score desc nulls last, q.id
    limit ${limit}`.execute(db);
  return rows;
}
