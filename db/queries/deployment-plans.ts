import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database.js';

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
}

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
 * batch and group), systems paged by wave, batch and id.
 */
export async function rolloutPlan(db: Executor, queueId: number, workflowId: string, page: { limit: number; offset: number }) {
  const started = await db
    .selectFrom('patch_deployments')
    .select(['wave', 'batch', 'group_name', sql<number>`count(*)::integer`.as('n'), sql<Date>`min(created_at)`.as('planned_at')])
    .where('workflow_id', '=', workflowId)
    .groupBy(['wave', 'batch', 'group_name'])
    .execute();
  if (started.length) {
    const systems = await db
      .selectFrom('patch_deployments')
      .select(['system_id', 'system_name', 'group_name', 'wave', sql<number>`coalesce(batch, 0)`.as('batch')])
      .where('workflow_id', '=', workflowId)
      .orderBy('wave').orderBy('batch').orderBy('system_id')
      .limit(page.limit).offset(page.offset)
      .execute();
    const waves = wavesOf(started);
    const plannedAt = new Date(Math.min(...started.map((r) => new Date(r.planned_at).getTime())));
    return { source: 'rollout' as const, planned_at: plannedAt, policy: null, targets: waves.reduce((n, w) => n + w.systems, 0), waves, systems: systems as PlanSystemRow[] };
  }
  const plan = await db.selectFrom('deployment_plans').selectAll().where('queue_id', '=', queueId).executeTakeFirst();
  if (!plan) return null;
  const [groups, systems] = await Promise.all([
    db.selectFrom('deployment_plan_targets').select(['wave', 'batch', 'group_name', sql<number>`count(*)::integer`.as('n')]).where('queue_id', '=', queueId).groupBy(['wave', 'batch', 'group_name']).execute(),
    db.selectFrom('deployment_plan_targets').select(['system_id', 'system_name', 'group_name', 'wave', 'batch']).where('queue_id', '=', queueId)
      .orderBy('wave').orderBy('batch').orderBy('system_id').limit(page.limit).offset(page.offset).execute(),
  ]);
  return { source: 'dry_run' as const, planned_at: plan.planned_at, policy: plan.policy, targets: plan.targets, waves: wavesOf(groups), systems };
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
