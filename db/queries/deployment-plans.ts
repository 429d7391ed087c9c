import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import type { NextWindow } from '../../domain/maintenance-plan.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface PlanWave {
  wave: number;
  systems: number;
  batches: number;
  groups: Record<string, number>;
}

export interface PlanSystemRow {
  system_id: number;
  system_name: string;
  group_name: string | null;
  wave: number;
  batch: number;
  /** Its next maintenance window as the batches were cut ({schedule, start, end}; start null with a reason: none); null: no schedule. */
  next_window: NextWindow;
  /** Its batch's earliest (ISO 8601); null: never (no window), or planned before batches by window. */
  earliest: string | null;
}

/** One batch of the plan: when it may start (every member's next window holds it), how many systems. */
export interface PlanBatch {
  wave: number;
  batch: number;
  systems: number;
  earliest: string | null;
}

function batchesOf(rows: { wave: number; batch: number | null; n: number; earliest: Date | null; no_earliest: number }[]): PlanBatch[] {
  const out = new Map<string, PlanBatch>();
  for (const r of rows) {
    const k = `${r.wave}/${r.batch ?? 0}`;
    const b = out.get(k) ?? { wave: r.wave, batch: r.batch ?? 0, systems: 0, earliest: null };
    b.systems += r.n;
    b.earliest = r.no_earliest > 0 || !r.earliest ? null : new Date(r.earliest).toISOString();
    out.set(k, b);
  }
  return [...out.values()].sort((a, b) => a.wave - b.wave || a.batch - b.batch);
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function wavesOf(rows: { wave: number; batch: number | null; group_name: string | null; n: number }[]): PlanWave[] {
  const waves = new Map<number, { wave: number; systems: number; batches: Set<number>; groups: Record<string, number> }>();
  for (const r of rows) {
    let w = waves.get(r.wave);
    if (!w) waves.set(r.wave, (w = { wave: r.wave, systems: 0, batches: new Set(), groups: {} }));
    w.systems += r.n;
    w.batches.add(r.batch ?? 0);
    const g = r.group_name ?? '';
    w.groups[g] = (w.groups[g] ?? 0) + r.n;
  }
  return [...waves.values()].sort((a, b) => a.wave - b.wave).map((w) => ({ wave: w.wave, systems: w.systems, batches: w.batches.size, groups: w.groups }));
}

/**
 * A rollout's plan: the started rollout's own rows (patch_deployments of deploy-<id>) when it started, else
 * the stored dry run (deployment_plans); null when neither exists. Waves summarised in SQL (one row per wave,
 * batch and group), batches with their earliest (the latest of their rows'), systems paged by wave, batch and id
 * with their next maintenance window.
 */
export async function rolloutPlan(db: Executor, queueId: number, workflowId: string, page: { limit: number; offset: number }) {
  const started = await db
    .selectFrom('patch_deployments')
    .select(['wave', 'batch', 'group_name', sql<number>`count(*)::integer`.as('n'), sql<Date>`min(created_at)`.as('planned_at')])
    .where('workflow_id', '=', workflowId)
    .groupBy(['wave', 'batch', 'group_name'])
    .execute();
  const perBatch = (table: 'patch_deployments' | 'deployment_plan_targets') =>
    db.selectFrom(table)
      .select(['wave', 'batch', sql<number>`count(*)::integer`.as('n'), sql<Date | null>`max(earliest)`.as('earliest'), sql<number>`count(*) filter (where earliest is null)::integer`.as('no_earliest')])
      .where(table === 'patch_deployments' ? 'workflow_id' : 'queue_id', '=', table === 'patch_deployments' ? workflowId : queueId)
      .groupBy(['wave', 'batch'])
      .execute();
  if (started.length) {
    const [systems, batches] = await Promise.all([
      db.selectFrom('patch_deployments')
        .select(['system_id', 'system_name', 'group_name', 'wave', sql<number>`coalesce(batch, 0)`.as('batch'), 'next_window', 'earliest'])
        .where('workflow_id', '=', workflowId)
        .orderBy('wave').orderBy('batch').orderBy('system_id')
        .limit(page.limit).offset(page.offset)
        .execute(),
      perBatch('patch_deployments'),
    ]);
    const waves = wavesOf(started);
    const plannedAt = new Date(Math.min(...started.map((r) => new Date(r.planned_at).getTime())));
    return {
      source: 'rollout' as const, planned_at: plannedAt, policy: null, targets: waves.reduce((n, w) => n + w.systems, 0), waves, batches: batchesOf(batches),
      systems: systems.map((r) => ({ ...r, earliest: iso(r.earliest) })) as PlanSystemRow[],
    };
  }
  const plan = await db.selectFrom('deployment_plans').selectAll().where('queue_id', '=', queueId).executeTakeFirst();
  if (!plan) return null;
  const [groups, systems, batches] = await Promise.all([
    db.selectFrom('deployment_plan_targets').select(['wave', 'batch', 'group_name', sql<number>`count(*)::integer`.as('n')]).where('queue_id', '=', queueId).groupBy(['wave', 'batch', 'group_name']).execute(),
    db.selectFrom('deployment_plan_targets').select(['system_id', 'system_name', 'group_name', 'wave', 'batch', 'next_window', 'earliest']).where('queue_id', '=', queueId)
      .orderBy('wave').orderBy('batch').orderBy('system_id').limit(page.limit).offset(page.offset).execute(),
    perBatch('deployment_plan_targets'),
  ]);
  return {
    source: 'dry_run' as const, planned_at: plan.planned_at, policy: plan.policy, targets: plan.targets, waves: wavesOf(groups), batches: batchesOf(batches),
    systems: systems.map((r) => ({ ...r, earliest: iso(r.earliest) })) as PlanSystemRow[],
  };
}

/** What a dry run needs of the item: its advisory's UYUNI id and reboot flag (null: unknown to UYUNI's cache). */
export async function planSubject(db: Executor, queueId: number) {
  return db
    .selectFrom('patch_test_queue as q')
    .leftJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
    .select(['q.id', 'q.advisory_name', 'q.target_os', 'q.requires_reboot', 'q.status', 'e.uyuni_errata_id'])
    .where('q.id', '=', queueId)
    .executeTakeFirst();
}
