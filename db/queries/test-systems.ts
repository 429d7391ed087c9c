import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, TestSystemsTable } from '../database.js';
import { recordEvent } from './notifications.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface SeenTestSystem {
  systemId: number;
  name: string;
  os: string;
  groupName: string;
  minionId: string | null;
}

/** Records the test systems a sync saw (names and minion ids change; leases and quarantine stay). */
export async function upsertTestSystems(db: Executor, systems: SeenTestSystem[]): Promise<void> {
  if (systems.length === 0) return;
  await sql`
    insert into test_systems (system_id, name, os, group_name, minion_id, last_seen_at)
    select * , now() from unnest(${systems.map((s) => s.systemId)}::integer[], ${systems.map((s) => s.name)}::text[],
                          ${systems.map((s) => s.os)}::text[], ${systems.map((s) => s.groupName)}::text[],
                          ${systems.map((s) => s.minionId)}::text[])
    on conflict (system_id) do update set name = excluded.name, os = excluded.os, group_name = excluded.group_name,
      minion_id = excluded.minion_id, last_seen_at = excluded.last_seen_at`.execute(db);
}

export function listTestSystems(db: Executor) {
  return db.selectFrom('test_systems').selectAll().orderBy('os').orderBy('system_id').execute();
}

/** The lease this workflow already holds (a retried activity finds it). */
export function leaseHeldBy(db: Executor, workflowId: string) {
  return db.selectFrom('test_systems').selectAll().where('leased_by', '=', workflowId).executeTakeFirst();
}

/**
 * Takes a free, healthy test system of the OS among `candidates` (the systems the advisory is relevant to):
 * one statement, SKIP LOCKED, so two tests can never get the same system.
 */
export async function acquireLease(db: Executor, lease: { os: string; candidates: number[]; workflowId: string; runId: string }) {
  const { rows } = await sql<Selectable<TestSystemsTable>>`
    update test_systems set leased_by = ${lease.workflowId}, leased_run_id = ${lease.runId}, leased_at = now()
    where system_id = (
      select system_id from test_systems
      where os = ${lease.os} and leased_by is null and not quarantined and system_id = any(${lease.candidates}::integer[])
      order by system_id limit 1 for update skip locked)
    returning *`.execute(db);
  return rows[0];
}

export async function releaseLease(db: Executor, workflowId: string): Promise<boolean> {
  const r = await db
    .updateTable('test_systems')
    .set({ leased_by: null, leased_run_id: null, leased_at: null })
    .where('leased_by', '=', workflowId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Quarantines a test system, with its test_system.quarantined event in the same transaction (once). */
export async function quarantine(db: Executor, systemId: number, reason: string): Promise<void> {
  const q = async (trx: Executor) => {
    const row = await trx
      .updateTable('test_systems')
      .set({ quarantined: true, quarantine_reason: reason, quarantined_at: new Date() })
      .where('system_id', '=', systemId)
      .where('quarantined', '=', false)
      .returning(['name', 'os'])
      .executeTakeFirst();
    if (!row) {
      // already quarantined: the newer reason is kept, nobody is told twice
      await trx.updateTable('test_systems').set({ quarantine_reason: reason, quarantined_at: new Date() }).where('system_id', '=', systemId).execute();
      return;
    }
    const test = await trx.selectFrom('patch_tests').select(['id', 'queue_id', 'workflow_id']).where('test_system_id', '=', systemId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    await recordEvent(trx, 'test_system.quarantined', {
      // the advisory is its last test's (looked up from the queue item), when there was one
      queue_id: test?.queue_id ?? null, os: row.os, system_id: systemId, name: row.name, reason: reason.slice(0, 2000), test_id: test?.id ?? null,
    }, { workflowId: test?.workflow_id ?? null });
  };
  await (db.isTransaction ? q(db) : (db as Kysely<Database>).transaction().execute(q));
}

/**
 * An operator puts a quarantined system back into rotation (and drops the lease its failed test may have
 * left). A system that is not quarantined is left as it is — its lease may belong to a running test.
 */
export async function releaseTestSystem(db: Executor, systemId: number) {
  const released = await db
    .updateTable('test_systems')
    .set({ quarantined: false, quarantine_reason: null, quarantined_at: null, leased_by: null, leased_run_id: null, leased_at: null })
    .where('system_id', '=', systemId)
    .where('quarantined', '=', true)
    .returningAll()
    .executeTakeFirst();
  return released ?? db.selectFrom('test_systems').selectAll().where('system_id', '=', systemId).executeTakeFirst();
}

/** Test systems with their last test (advisory, status, when), for the dashboard; filtered by OS / quarantine. */
export async function testSystemsWithLastTest(db: Executor, f: { os?: string; quarantined?: boolean }, page: { limit: number; offset: number }) {
  let base = db.selectFrom('test_systems as s');
  if (f.os) base = base.where('s.os', '=', f.os);
  if (f.quarantined !== undefined) base = base.where('s.quarantined', '=', f.quarantined);
  const q = base
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('patch_tests as t')
          .innerJoin('patch_test_queue as q', 'q.id', 't.queue_id')
          .select(['t.id as last_test_id', 't.status as last_test_status', 't.started_at as last_test_started_at', 't.completed_at as last_test_completed_at', 'q.advisory_name as last_test_advisory'])
          .whereRef('t.test_system_id', '=', 's.system_id')
          .orderBy('t.id', 'desc')
          .limit(1)
          .as('lt'),
      (join) => join.onTrue(),
    )
    .selectAll('s')
    .select(['lt.last_test_id', 'lt.last_test_status', 'lt.last_test_started_at', 'lt.last_test_completed_at', 'lt.last_test_advisory']);
  const [rows, total] = await Promise.all([
    q.orderBy('s.os').orderBy('s.system_id').limit(page.limit).offset(page.offset).execute(),
    base.select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { total: total.n, rows };
}

/**
 * When the test system last changed under the product's hands: the end of an earlier test that applied its
 * patch on it, or a rollback on it (a rollback may reboot it; a release's restore is one too). A baseline
 * window reaching back before this instant describes the system as it was before that change, not as it
 * runs now. Null when nothing is known. (Leasing it, or a test that stopped before its patch, changes
 * nothing on the host.)
 */
export async function lastChangeOf(db: Executor, systemId: number, exceptTestId: number): Promise<Date | null> {
  const row = await db
    .selectFrom('test_systems as s')
    .select((eb) => [
      eb
        .selectFrom('patch_tests')
        .select((e) => e.fn.max('completed_at').as('t'))
        .where('test_system_id', '=', systemId)
        .where('id', '<>', exceptTestId)
        .where('uyuni_action_id', 'is not', null) // a test that never scheduled its patch changed nothing
        .as('last_test'),
      eb.selectFrom('patch_rollbacks').select((e) => e.fn.max('completed_at').as('t')).where('system_id', '=', systemId).as('last_rollback'),
    ])
    .where('s.system_id', '=', systemId)
    .executeTakeFirst();
  const times = [row?.last_test, row?.last_rollback].filter((t): t is Date => t instanceof Date);
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : null;
}
