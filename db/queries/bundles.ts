import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { BundleKind, Database, MemberVerdictKind, TestBundlesTable } from '../database.js';
import { json } from '../json.js';
import { recordEvent } from './notifications.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type BundleRow = Selectable<TestBundlesTable>;

/**
 * Inserts a bundle node (the root when `rootId` is null), or finds the one with this workflow id (an activity
 * retried after its insert committed inserts nothing twice). Returns its id.
 */
export async function insertBundleNode(
  db: Executor,
  node: { id?: number; rootId: number | null; parentId: number | null; kind: BundleKind; os: string; workflowId: string; members: number[]; sizePolicy?: unknown; requestedBy?: string },
): Promise<number> {
  await db
    .insertInto('test_bundles')
    .values({
      ...(node.id !== undefined ? { id: node.id } : {}),
      root_id: node.rootId,
      parent_id: node.parentId,
      kind: node.kind,
      target_os: node.os,
      workflow_id: node.workflowId,
      member_ids: node.members,
      size_policy: node.sizePolicy === undefined ? null : json(node.sizePolicy),
      requested_by: node.requestedBy ?? null,
    })
    .onConflict((oc) => oc.column('workflow_id').doNothing())
    .execute();
  const row = await db.selectFrom('test_bundles').select('id').where('workflow_id', '=', node.workflowId).executeTakeFirstOrThrow();
  await db
    .insertInto('test_bundle_members')
    .values(node.members.map((queueId, position) => ({ bundle_id: row.id, queue_id: queueId, position })))
    .onConflict((oc) => oc.columns(['bundle_id', 'queue_id']).doNothing())
    .execute();
  return row.id;
}

/** A bundle id before its row exists: its workflow id (`bundle-<id>`) is needed to lease the test system. */
export async function reserveBundleId(db: Executor): Promise<number> {
  const { rows } = await sql<{ id: number }>`select nextval(pg_get_serial_sequence('test_bundles', 'id'))::integer as id`.execute(db);
  return (rows[0] as { id: number }).id;
}

export function getBundle(db: Executor, id: number) {
  return db.selectFrom('test_bundles').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface MemberFacts {
  queueId: number;
  advisoryName: string;
  uyuniErrataId: number | null;
  requiresReboot: boolean;
  packageNames: string[];
  testSystemIds: number[];
}

/** What a run of these queue items needs from the queue and the errata cache, in the order given. */
export async function membersFacts(db: Executor, queueIds: number[]): Promise<MemberFacts[]> {
  const rows = await db
    .selectFrom('patch_test_queue as q')
    .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
    .select(['q.id', 'q.advisory_name', 'q.requires_reboot', 'e.uyuni_errata_id', 'e.packages', 'e.test_system_ids'])
    .where('q.id', 'in', queueIds.length ? queueIds : [-1])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return queueIds.flatMap((id) => {
    const r = byId.get(id);
    return r
      ? [{
          queueId: r.id, advisoryName: r.advisory_name, uyuniErrataId: r.uyuni_errata_id, requiresReboot: r.requires_reboot,
          packageNames: [...new Set((r.packages ?? []).map((p) => p.name))].sort(), testSystemIds: r.test_system_ids,
        }]
      : [];
  });
}

/**
 * Closes a node's run: the node's status (failed for a run a patch failed, inconclusive for one nobody could
 * judge), why, and its test row.
 */
export async function finishBundleNode(
  db: Executor,
  bundleId: number,
  run: { status: 'passed' | 'failed' | 'inconclusive'; cause: 'patch' | 'test_system' | 'unknown' | null; reason: string | null },
): Promise<void> {
  await db
    .updateTable('test_bundles')
    .set({ status: run.status, cause: run.status === 'passed' ? null : run.cause, failure_reason: run.reason, completed_at: new Date() })
    .where('id', '=', bundleId)
    .execute();
}

export interface SettledVerdict {
  verdict: MemberVerdictKind;
  reason: string;
  runs: number[];
  partners?: number[];
  provenBy?: number;
}

/**
 * Settles a bundle: each member's own verdict on the root's member rows and its queue item's status —
 * passed, rolled_back (its own failure, proven alone), rolled_back "fails together with …" (an interaction),
 * inconclusive (retested later) — with the reason. Only items still `testing` under this bundle move.
 */
export async function settleBundle(trx: Transaction<Database>, rootId: number, workflowId: string, verdicts: Record<number, SettledVerdict>): Promise<void> {
  const root = await trx.selectFrom('test_bundles').select(['test_id', 'member_ids']).where('id', '=', rootId).executeTakeFirstOrThrow();
  const names = new Map(
    (await trx.selectFrom('patch_test_queue').select(['id', 'advisory_name']).where('id', 'in', root.member_ids.length ? root.member_ids : [-1]).execute()).map((r) => [r.id, r.advisory_name]),
  );
  for (const [key, v] of Object.entries(verdicts)) {
    const queueId = Number(key);
    await trx.updateTable('test_bundle_members').set({ verdict: v.verdict, reason: v.reason }).where('bundle_id', '=', rootId).where('queue_id', '=', queueId).execute();
    const status = v.verdict === 'passed' ? 'passed' : v.verdict === 'inconclusive' ? 'inconclusive' : 'rolled_back';
    await trx
      .updateTable('patch_test_queue')
      .set({ status, status_reason: v.verdict === 'passed' ? null : v.reason })
      .where('id', '=', queueId)
      .where('status', '=', 'testing')
      .where('workflow_id', '=', workflowId)
      .execute();
    // Told in the same transaction: each member's own verdict, and every culprit the bisection found.
    const testId = root.test_id ?? 0;
    const type = v.verdict === 'passed' ? 'test.passed' : v.verdict === 'inconclusive' ? 'test.inconclusive' : 'test.rolled_back';
    await recordEvent(trx, type, { queue_id: queueId, test_id: testId, workflow_id: workflowId, test_system: null, failure_phase: null, reason: v.reason, cpu_delta: null, memory_delta: null }, {
      dedupeKey: `bundle-${rootId}-${type}-${queueId}`, workflowId,
    });
    if (v.verdict === 'rolled_back' || v.verdict === 'interaction') {
      await recordEvent(trx, 'bundle.culprit_found', {
        queue_id: queueId, bundle_id: rootId, culprit_advisory: names.get(queueId) ?? String(queueId), culprit_queue_id: queueId,
        members: root.member_ids.map((m) => names.get(m) ?? String(m)), test_id: testId || null, reason: v.reason,
      }, { dedupeKey: `bundle-${rootId}-culprit-${queueId}`, workflowId });
    }
  }
  await trx.updateTable('test_bundles').set({ outcome: json(verdicts) }).where('id', '=', rootId).execute();
}

/**
 * A bundle's members its bisection set aside untested while other errata of the OS were queued: neither passed
 * nor blamed, they go back to the queue (their work-order place unchanged) and join the next bundle instead of a
 * rest run of their own. Their root member rows keep no verdict, only why; only items still `testing` under this
 * bundle move. `setAside`: queue id → the runs it was part of.
 */
export async function requeueSetAside(trx: Transaction<Database>, rootId: number, workflowId: string, setAside: Record<number, number[]>): Promise<number> {
  let moved = 0;
  for (const [key, runs] of Object.entries(setAside)) {
    const queueId = Number(key);
    const reason = `set aside untested by bundle #${rootId}'s bisection (run${runs.length === 1 ? '' : 's'} #${runs.join(', #')}), neither passed nor blamed: queued again for the next bundle`;
    await trx.updateTable('test_bundle_members').set({ reason }).where('bundle_id', '=', rootId).where('queue_id', '=', queueId).execute();
    const r = await trx
      .updateTable('patch_test_queue')
      .set({ status: 'queued', workflow_id: null, test_system_id: null, status_reason: reason })
      .where('id', '=', queueId)
      .where('status', '=', 'testing')
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    moved += Number(r.numUpdatedRows);
  }
  return moved;
}

/**
 * Judged errata of the OS, most recent first, at most `limit`: one-erratum tests that passed or failed by the
 * patch, and the settled members of bundles (passed, or blamed alone / in an interaction). What sizes the
 * next bundle (domain/bundle.ts).
 */
export async function recentJudged(db: Executor, os: string, limit: number): Promise<{ judged: number; failed: number }> {
  const { rows } = await sql<{ judged: number; failed: number }>`
    select count(*)::integer as judged, count(*) filter (where failed)::integer as failed from (
      select at, failed from (
        select t.completed_at as at, t.status <> 'passed' as failed
        from patch_tests t join patch_test_queue q on q.id = t.queue_id
        where t.bundle_id is null and q.target_os = ${os} and t.completed_at is not null
          and (t.status = 'passed' or (t.status in ('failed', 'rolled_back') and t.failure_cause = 'patch'))
        union all
        select b.completed_at as at, m.verdict <> 'passed' as failed
        from test_bundle_members m join test_bundles b on b.id = m.bundle_id
        where b.root_id is null and b.target_os = ${os} and m.verdict in ('passed', 'rolled_back', 'interaction')
      ) judged order by at desc nulls last limit ${limit}
    ) recent`.execute(db);
  return rows[0] ?? { judged: 0, failed: 0 };
}

export interface BundleNodeView {
  id: number;
  kind: BundleKind;
  workflowId: string;
  status: string;
  cause: string | null;
  failureReason: string | null;
  testId: number | null;
  members: number[];
  startedAt: Date;
  completedAt: Date | null;
  children: BundleNodeView[];
}

/** A bundle (root), its members with their verdicts, and its bisection tree of runs. */
export async function bundleView(db: Executor, id: number) {
  const asked = await getBundle(db, id);
  if (!asked) return undefined;
  const rootId = asked.root_id ?? asked.id;
  const root = asked.root_id === null ? asked : ((await getBundle(db, rootId)) as BundleRow);
  const nodes = await db.selectFrom('test_bundles').selectAll().where((eb) => eb.or([eb('id', '=', rootId), eb('root_id', '=', rootId)])).orderBy('id').execute();
  const members = await db
    .selectFrom('test_bundle_members as m')
    .innerJoin('patch_test_queue as q', 'q.id', 'm.queue_id')
    .select(['m.queue_id', 'm.position', 'm.verdict', 'm.reason', 'q.advisory_name', 'q.status'])
    .where('m.bundle_id', '=', root.id)
    .orderBy('m.position')
    .execute();
  const views = new Map<number, BundleNodeView>(
    nodes.map((n) => [n.id, {
      id: n.id, kind: n.kind, workflowId: n.workflow_id, status: n.status, cause: n.cause, failureReason: n.failure_reason, testId: n.test_id,
      members: n.member_ids, startedAt: n.created_at, completedAt: n.completed_at, children: [],
    }]),
  );
  for (const n of nodes) if (n.parent_id !== null) views.get(n.parent_id)?.children.push(views.get(n.id) as BundleNodeView);
  const outcome = (root.outcome ?? {}) as Record<string, SettledVerdict>;
  return {
    bundle: root,
    rootId,
    members: members.map((m) => ({
      queueId: m.queue_id, advisoryName: m.advisory_name, position: m.position, queueStatus: m.status, verdict: m.verdict, reason: m.reason,
      runs: outcome[String(m.queue_id)]?.runs ?? [], partners: outcome[String(m.queue_id)]?.partners ?? [], provenBy: outcome[String(m.queue_id)]?.provenBy ?? null,
    })),
    tree: views.get(root.id) as BundleNodeView,
    runs: nodes.length,
  };
}

/** Bundles (roots), newest first. */
export function listBundles(db: Executor, page: { limit: number; offset: number; os?: string; status?: string }) {
  return db
    .selectFrom('test_bundles as b')
    .select(['b.id', 'b.target_os', 'b.status', 'b.member_ids', 'b.workflow_id', 'b.created_at', 'b.completed_at', 'b.size_policy'])
    .select((eb) => eb.selectFrom('test_bundles as n').select((e2) => e2.fn.countAll<number>().as('c')).where('n.root_id', '=', eb.ref('b.id')).as('descendants'))
    .where('b.root_id', 'is', null)
    .$if(page.os !== undefined, (qb) => qb.where('b.target_os', '=', page.os as string))
    .$if(page.status !== undefined, (qb) => qb.where('b.status', '=', page.status as never))
    .orderBy('b.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

/** Every run a queue item was part of (its evidence): the bundle nodes that held it, oldest first. */
export function runsOfItem(db: Executor, queueId: number) {
  return db
    .selectFrom('test_bundle_members as m')
    .innerJoin('test_bundles as b', 'b.id', 'm.bundle_id')
    .select(['b.id', 'b.root_id', 'b.kind', 'b.status', 'b.test_id', 'b.failure_reason', 'b.workflow_id', 'b.created_at'])
    .where('m.queue_id', '=', queueId)
    .orderBy('b.id')
    .execute();
}
