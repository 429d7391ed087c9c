import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { Database, PhaseStatus, PatchTestsTable, TestPhase } from '../database.js';
import { json } from '../json.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Idempotent: a retried activity gets the row the first attempt created (keyed by the Temporal run id). */
export async function insertTest(db: Executor, t: { queueId: number; workflowId: string; runId: string }): Promise<number> {
  await db
    .insertInto('patch_tests')
    .values({ queue_id: t.queueId, workflow_id: t.workflowId, run_id: t.runId })
    .onConflict((oc) => oc.column('run_id').doNothing())
    .execute();
  const row = await db.selectFrom('patch_tests').select('id').where('run_id', '=', t.runId).executeTakeFirstOrThrow();
  return row.id;
}

export function getTest(db: Executor, id: number) {
  return db.selectFrom('patch_tests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateTest(db: Executor, id: number, values: Updateable<PatchTestsTable>): Promise<void> {
  await db.updateTable('patch_tests').set(values).where('id', '=', id).execute();
}

/**
 * A phase row, written when the phase starts (running) and again when it ends; a retry rewrites it. A phase
 * that had ended (skipped after a pass, then run when the patch is rejected) starts over: its start time too.
 */
export async function phaseStarted(db: Executor, testId: number, phase: TestPhase, details: unknown = {}): Promise<void> {
  await sql`
    insert into patch_test_phases as p (test_id, phase, status, details)
    values (${testId}, ${phase}, 'running', ${json(details)}::jsonb)
    on conflict (test_id, phase) do update set status = 'running', completed_at = null, duration_ms = null, error = null,
      started_at = case when p.status = 'running' then p.started_at else now() end,
      details = case when p.status = 'running' then p.details else excluded.details end`.execute(db);
}

/** Adds facts to a phase row's details without changing its status (e.g. the maintenance-window wait on `lease`). */
export async function notePhase(db: Executor, testId: number, phase: TestPhase, note: Record<string, unknown>): Promise<void> {
  await sql`update patch_test_phases set details = coalesce(details, '{}'::jsonb) || ${json(note)}::jsonb
            where test_id = ${testId} and phase = ${phase}`.execute(db);
}

/** Phases still `running` when their test ended did not finish: they are closed as failed, with why. */
export async function closeRunningPhases(db: Executor, testId: number, why: string): Promise<number> {
  const r = await db
    .updateTable('patch_test_phases')
    .set({ status: 'failed', completed_at: new Date(), error: why })
    .where('test_id', '=', testId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function phaseFinished(
  db: Executor,
  testId: number,
  phase: TestPhase,
  status: Exclude<PhaseStatus, 'running'>,
  details: unknown,
  error: string | null = null,
): Promise<void> {
  await sql`
    insert into patch_test_phases as p (test_id, phase, status, completed_at, duration_ms, details, error)
    values (${testId}, ${phase}, ${status}, now(), 0, ${json(details)}::jsonb, ${error})
    on conflict (test_id, phase) do update set status = excluded.status, completed_at = now(),
      duration_ms = (extract(epoch from now() - p.started_at) * 1000)::integer, details = excluded.details, error = excluded.error`.execute(db);
}

export function phasesOf(db: Executor, testId: number) {
  return db
    .selectFrom('patch_test_phases')
    .selectAll()
    .where('test_id', '=', testId)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
}

/**
 * Closes a test row with its verdict and what a failure is blamed on (`bundle`: a run of several errata that
 * failed, which proves no single erratum's failure), and fails any phase still running.
 */
export async function closeTest(
  db: Executor,
  testId: number,
  v: { status: 'passed' | 'failed' | 'rolled_back' | 'inconclusive'; failurePhase?: string; failureReason?: string; cause: 'patch' | 'test_system' | 'unknown' | 'bundle' },
): Promise<void> {
  await db
    .updateTable('patch_tests')
    .set({
      status: v.status,
      completed_at: new Date(),
      failure_phase: v.failurePhase ?? null,
      failure_reason: v.failureReason ?? null,
      failure_cause: v.status === 'passed' ? null : v.cause,
    })
    .where('id', '=', testId)
    .execute();
  await closeRunningPhases(db, testId, `the test ended (${v.status}) before this phase finished`);
}
