import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';
import { QUEUE_TRANSITIONS, type QueueStatus } from '../../domain/queue-status.js';

// Rows for the dashboard's list endpoints, written the way the product writes them: a queue item starts
// queued and walks the state machine to its status (the database refuses any other way).

/** The shortest walk from queued to `status` through QUEUE_TRANSITIONS. */
export function pathTo(status: QueueStatus): QueueStatus[] {
  const previous = new Map<QueueStatus, QueueStatus>();
  const todo: QueueStatus[] = ['queued'];
  while (todo.length) {
    const at = todo.shift()!;
    if (at === status) break;
    for (const next of QUEUE_TRANSITIONS[at]) {
      if (previous.has(next) || next === 'queued') continue;
      previous.set(next, at);
      todo.push(next);
    }
  }
  const path: QueueStatus[] = [];
  for (let s: QueueStatus | undefined = status; s && s !== 'queued'; s = previous.get(s)) path.unshift(s);
  return path;
}

export async function seedErratum(db: Db, name: string, os = 'rhel', severity: 'Critical' | 'High' | 'Medium' | 'Low' = 'High'): Promise<void> {
  await db
    .insertInto('errata_cache')
    .values({ advisory_name: name, advisory_type: 'Security Advisory', severity, synopsis: `synopsis of ${name}`, cves: ['CVE-2026-0001'], target_os: [os], test_system_ids: [1] })
    .onConflict((oc) => oc.column('advisory_name').doNothing())
    .execute();
}

/** A queue item of its own advisory, walked to `status`. */
export async function seedItem(db: Db, name: string, status: QueueStatus, os = 'rhel'): Promise<number> {
  await seedErratum(db, name, os);
  const { id } = await db.insertInto('patch_test_queue').values({ advisory_name: name, target_os: os, success_score: 80, queued_by: 'seed' }).returning('id').executeTakeFirstOrThrow();
  for (const s of pathTo(status)) await db.updateTable('patch_test_queue').set({ status: s }).where('id', '=', id).execute();
  return id;
}

export async function seedTest(db: Db, queueId: number, t: { status: 'running' | 'passed' | 'failed' | 'rolled_back'; systemId?: number; systemName?: string; completed?: boolean }): Promise<number> {
  const { id } = await db
    .insertInto('patch_tests')
    .values({
      queue_id: queueId, workflow_id: `patch-test-${queueId}`, run_id: `run-${queueId}-${Math.random().toString(36).slice(2)}`, status: t.status,
      test_system_id: t.systemId ?? null, test_system_name: t.systemName ?? null, completed_at: t.completed === false || t.status === 'running' ? null : new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function seedPhase(db: Db, testId: number, phase: 'lease' | 'snapshot' | 'patch' | 'reboot' | 'validate', status: 'running' | 'passed' | 'skipped', startedAt: Date): Promise<void> {
  await db.insertInto('patch_test_phases').values({ test_id: testId, phase, status, started_at: startedAt, details: '{}' }).execute();
}

export async function seedTestSystem(db: Db, id: number, name: string, os: string, extra: { quarantineReason?: string; leasedBy?: string } = {}): Promise<void> {
  await db
    .insertInto('test_systems')
    .values({
      system_id: id, name, os, group_name: `test-${os}`, minion_id: name,
      quarantined: Boolean(extra.quarantineReason), quarantine_reason: extra.quarantineReason ?? null, quarantined_at: extra.quarantineReason ? new Date() : null,
      leased_by: extra.leasedBy ?? null, leased_at: extra.leasedBy ? new Date() : null,
    })
    .execute();
}

export async function seedDecision(db: Db, queueId: number, d: { decision: 'approve' | 'reject' | 'snooze'; by: string; source: 'api' | 'cli' | 'dashboard'; at: Date; reason?: string }): Promise<void> {
  await db
    .insertInto('patch_approvals')
    .values({ queue_id: queueId, workflow_id: `patch-test-${queueId}`, decision: d.decision, decided_by: d.by, source: d.source, reason: d.reason ?? null, decided_at: d.at, request_id: `seed-${Math.random()}` })
    .execute();
}

let nextSystemId = 2_000_000;

export async function seedDeploymentRows(db: Db, queueId: number, statuses: { wave: number; status: 'pending' | 'applying' | 'applied' | 'failed' | 'skipped' }[]): Promise<void> {
  await db
    .insertInto('patch_deployments')
    .values(statuses.map((s, i) => ({ queue_id: queueId, workflow_id: `deploy-${queueId}`, system_id: nextSystemId++, system_name: `prod-${queueId}-${i}`, wave: s.wave, status: s.status, started_at: new Date(), completed_at: ['applied', 'failed'].includes(s.status) ? new Date() : null })))
    .execute();
}

export const countRows = async (db: Db, table: 'deployment_halts' | 'patch_approvals') => (await sql<{ n: number }>`select count(*)::integer as n from ${sql.table(table)}`.execute(db)).rows[0]!.n;
