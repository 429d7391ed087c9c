import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { Database, PatchDeploymentsTable } from '../../db/database.js';
import { recordEvent } from '../../db/queries/notifications.js';
import type { ActivityDeps } from '../index.js';
import { json } from '../../db/json.js';
import { chunk } from '../../domain/chunks.js';
import { isTestGroup, osFromGroup } from '../../domain/os.js';
import type { QueueStatus } from '../../domain/queue-status.js';
import type { CarriedErratum, DeploymentPlanPolicy, TestTiming } from '../../workflows/messages.js';
import { toApplicationFailure as saltFailure } from '../salt/failure.js';
import { loadTestSettings } from '../patch-test/settings.js';
import { toApplicationFailure as uyuniFailure } from '../uyuni/failure.js';
import { changeCount, diffInventory } from '../../domain/package-inventory.js';
import { readKernelState } from '../shared/kernel.js';
import { revertPatch, verifyReverted } from '../shared/revert.js';
import { scheduleErratumOnce, waitForAction } from '../shared/errata-action.js';
import { retractAdvisory } from '../shared/retraction.js';
import { nextMaintenanceWindows } from '../maintenance/maintenance-activities.js';
import { earliestFor } from '../../domain/maintenance-plan.js';
import { waitForBoot } from '../shared/reboot.js';

// The side effects of productionDeployment. Each production system is one patch_deployments row (keyed by
// workflow and system) that carries what a retry needs: the action id before polling, and the versions
// before the patch for a rollback. An activity that finds its row finished returns the recorded outcome.

/** Rows per INSERT of patch_deployments (8 parameters each, far under PostgreSQL's 65,535 per statement). */
export const INSERT_CHUNK = 1000;

export interface DeployTarget {
  systemId: number;
  name: string;
  minion: string;
  wave: number;
  /**
   * A set rollout: the errata of the set relevant to this system (UYUNI refuses a whole call with one
   * erratum the system does not need, fault 2600), applied in one action; a reboot if any needs one.
   */
  errataIds?: number[];
  advisoryNames?: string[];
  requiresReboot?: boolean;
}

export interface SystemOutcome {
  systemId: number;
  /**
   * skipped: not applied and not a failure (counts against no budget): its advisory was retracted (fault 2602;
   * the rollout is halted), or the system's maintenance window does not open within the action timeout (1334).
   */
  status: 'applied' | 'failed' | 'skipped';
  patched: boolean;
  error: string | null;
}

/** A UYUNI or Salt client error as the activity failure Temporal retries (or not) by its kind. */
export const mapError = (err: unknown): unknown => {
  const a = uyuniFailure(err);
  return a !== err ? a : saltFailure(err);
};
/** Runs a client call, its errors mapped by mapError. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}
const workflowId = () => {
  const w = activityInfo().workflowExecution;
  if (!w) throw new Error('deployment activities run inside a workflow');
  return w.workflowId;
};

async function moveQueue(db: Kysely<Database> | Transaction<Database>, queueId: number, path: QueueStatus[]): Promise<void> {
  for (const status of path) {
    const item = await db.selectFrom('patch_test_queue').select('status').where('id', '=', queueId).executeTakeFirstOrThrow();
    if (item.status === status) continue;
    await db.updateTable('patch_test_queue').set({ status }).where('id', '=', queueId).execute();
  }
}

/** Targets, applied and failed so far of one rollout (patch_deployments of its workflow). */
async function deploymentCounts(trx: Kysely<Database> | Transaction<Database>, wf: string) {
  const c = await trx
    .selectFrom('patch_deployments')
    .select([
      sql<number>`count(*)::integer`.as('targets'),
      sql<number>`count(*) filter (where status = 'applied')::integer`.as('applied'),
      sql<number>`count(*) filter (where status = 'failed')::integer`.as('failed'),
      sql<number>`count(*) filter (where status = 'skipped')::integer`.as('skipped'),
    ])
    .where('workflow_id', '=', wf)
    .executeTakeFirstOrThrow();
  return c;
}

export function createDeployActivities(deps: Pick<ActivityDeps, 'db' | 'uyuni' | 'uyuniLimit' | 'salt' | 'config' | 'log' | 'temporal'>) {
  const { db, uyuni, salt, config } = deps;

  /**
   * A system's final state, and — when it was the last of its wave to finish — the wave's
   * deployment.wave_completed event, in one transaction. The wave's rows are locked first, so of two systems
   * finishing at once the second sees the first and exactly one event is written.
   */
  const finishSystem = (wf: string, rowId: number, wave: number, queueId: number, values: Updateable<PatchDeploymentsTable>) =>
    db.transaction().execute(async (trx) => {
      await trx.selectFrom('patch_deployments').select('id').where('workflow_id', '=', wf).where('wave', '=', wave).orderBy('id').forUpdate().execute();
      await trx.updateTable('patch_deployments').set(values).where('id', '=', rowId).execute();
      const w = await trx
        .selectFrom('patch_deployments')
        .select([
          sql<number>`count(*) filter (where status not in ('applied', 'failed', 'skipped'))::integer`.as('open'),
          sql<number>`count(*) filter (where status = 'applied')::integer`.as('applied'),
          sql<number>`count(*) filter (where status = 'failed')::integer`.as('failed'),
        ])
        .where('workflow_id', '=', wf)
        .where('wave', '=', wave)
        .executeTakeFirstOrThrow();
      if (w.open > 0) return;
      const c = await deploymentCounts(trx, wf);
      await recordEvent(trx, 'deployment.wave_completed', {
        queue_id: queueId, workflow_id: wf, targets: c.targets, applied: c.applied, failed: c.failed, wave, wave_kind: wave === 0 ? 'canary' : 'wave',
        wave_applied: w.applied, wave_failed: w.failed,
      }, { dedupeKey: `deployment-wave-${wf}-${wave}`, workflowId: wf });
    });

  return {
    /** Targets: production systems (non-test groups of the OS) the advisory is relevant to; canary, then waves. */
    async planDeployment(input: {
      queueId: number; advisoryName: string; targetOs: string; policy: DeploymentPlanPolicy;
      /** A set rollout: the carried errata (besides the item's own, which input.advisoryName names). */
      members?: CarriedErratum[]; errataId?: number; requiresReboot?: boolean;
    }): Promise<DeployTarget[]> {
      const wf = workflowId();
      const members = input.members ?? [];
      const existing = await db.selectFrom('patch_deployments').selectAll().where('workflow_id', '=', wf).orderBy('wave').orderBy('system_id').execute();
      if (existing.length) {
        return existing.map((r) => {
          const s = r.services as { minion?: string; errataIds?: number[]; advisoryNames?: string[]; requiresReboot?: boolean } | null;
          return {
            systemId: r.system_id, name: r.system_name, minion: s?.minion ?? r.system_name, wave: r.wave,
            ...(s?.errataIds ? { errataIds: s.errataIds, advisoryNames: s.advisoryNames ?? [], requiresReboot: s.requiresReboot ?? false } : {}),
          };
        });
      }
      const set: CarriedErratum[] = [
        { queueId: input.queueId, errataId: input.errataId ?? 0, advisoryName: input.advisoryName, requiresReboot: input.requiresReboot ?? false },
        ...members,
      ];
      // Per system, which errata of the set it needs (one UYUNI action each system for exactly those).
      const needs = new Map<number, CarriedErratum[]>();
      for (const e of set) {
        for (const s of await guarded(() => uyuni.listAffectedSystems(e.advisoryName))) needs.set(s.id, [...(needs.get(s.id) ?? []), e]);
      }
      const affected = new Set(needs.keys());
      const groups = (await guarded(() => uyuni.listAllGroups())).filter(
        (g) => !isTestGroup(g.name, config.uyuni.testGroupPrefix) && osFromGroup(g.name) === input.targetOs,
      );
      const systems = new Map<number, { name: string; minion: string; group: string }>();
      for (const g of groups) {
        for (const s of await guarded(() => uyuni.listSystems(g.name))) {
          if (affected.has(s.id) && !systems.has(s.id)) systems.set(s.id, { name: s.profileName, minion: s.minionId ?? s.hostname ?? s.profileName, group: g.name });
        }
      }
      const ids = [...systems.keys()].sort((a, b) => a - b);
      const canary = ids.slice(0, Math.max(0, input.policy.canarySize));
      const waves = [canary, ...chunk(ids.slice(canary.length), Math.max(1, input.policy.waveSize))].filter((w) => w.length);
      const errataOf = (systemId: number) => {
        if (!members.length) return {};
        const es = needs.get(systemId) ?? [];
        return { errataIds: es.map((e) => e.errataId), advisoryNames: es.map((e) => e.advisoryName), requiresReboot: es.some((e) => e.requiresReboot) };
      };
      const targets: DeployTarget[] = waves.flatMap((w, wave) =>
        w.map((systemId) => ({ systemId, name: systems.get(systemId)!.name, minion: systems.get(systemId)!.minion, wave, ...errataOf(systemId) })),
      );
      await db.transaction().execute(async (trx) => {
        // In chunks: 7 parameters a row would pass PostgreSQL's 65,535 at ~9,300 systems in one statement.
        for (const part of chunk(targets, INSERT_CHUNK)) {
          await trx
            .insertInto('patch_deployments')
            .values(part.map((t) => ({
              queue_id: input.queueId, workflow_id: wf, system_id: t.systemId, system_name: t.name, group_name: systems.get(t.systemId)!.group,
              wave: t.wave, services: json({ minion: t.minion, ...(t.errataIds ? { errataIds: t.errataIds, advisoryNames: t.advisoryNames, requiresReboot: t.requiresReboot } : {}) }),
            })))
            .onConflict((oc) => oc.columns(['workflow_id', 'system_id']).doNothing())
            .execute();
        }
      });
      for (const e of set) await moveQueue(db, e.queueId, ['promoting']);
      return targets;
    },

    /** Applies the erratum on one production system: UYUNI action (never twice), reboot when required, services. */
    async deploySystem(input: { queueId: number; target: DeployTarget; errataId: number; advisoryName: string; requiresReboot: boolean; os: string; timing: TestTiming }): Promise<SystemOutcome> {
      const wf = workflowId();
      const { target } = input;
      const row = await db.selectFrom('patch_deployments').selectAll().where('workflow_id', '=', wf).where('system_id', '=', target.systemId).executeTakeFirstOrThrow();
      if (row.status === 'applied' || row.status === 'failed' || row.status === 'skipped') return { systemId: target.systemId, status: row.status, patched: row.patched, error: row.error };
      const update = (values: Updateable<PatchDeploymentsTable>) => db.updateTable('patch_deployments').set(values).where('id', '=', row.id).execute();
      const fail = async (error: string, patched: boolean): Promise<SystemOutcome> => {
        await finishSystem(wf, row.id, row.wave, input.queueId, { status: 'failed', error, completed_at: new Date(), patched });
        return { systemId: target.systemId, status: 'failed', patched, error };
      };
      /** Not applied, not failed: left as UYUNI had it (nothing scheduled). */
      const skip = async (error: string): Promise<SystemOutcome> => {
        await finishSystem(wf, row.id, row.wave, input.queueId, { status: 'skipped', error, completed_at: new Date() });
        return { systemId: target.systemId, status: 'skipped', patched: false, error };
      };
      if (row.status === 'pending') await update({ status: 'applying', started_at: new Date() });

      // The restore point: every installed package and version, and the kernel state (a kernel update adds
      // packages beside the old ones; a rollback that only downgraded the erratum's own packages would leave it).
      let inventory = row.inventory_before;
      const errataIds = target.errataIds ?? [input.errataId];
      const advisoryNames = target.advisoryNames ?? [input.advisoryName];
      const requiresReboot = target.requiresReboot ?? input.requiresReboot;
      if (!inventory || !row.kernel_before) {
        const errata = await db.selectFrom('errata_cache').select('packages').where('advisory_name', 'in', advisoryNames).execute();
        const names = new Set(errata.flatMap((e) => (e.packages ?? []).map((p) => p.name)));
        inventory = await guarded(() => salt.listInventory(target.minion, { signal: cancellationSignal() }));
        const kernel = await guarded(() => readKernelState(salt, target.minion, input.os, { signal: cancellationSignal() }));
        // Per package of the erratum, its version before, or that it was not installed (a kernel update's new
        // packages are not: the rollback removes them). The whole inventory is the restore point itself.
        const preVersions = Object.fromEntries([...names].sort().map((n) => [n, inventory?.[n]?.join(',') ?? 'not installed']));
        await update({ inventory_before: json(inventory), kernel_before: json(kernel), pre_versions: json(preVersions) });
      }
      const up = await guarded(() => salt.uptime(target.minion, { signal: cancellationSignal() }));
      const bootBefore = up.kind === 'up' ? up.sinceT : 0;

      let actionId = row.uyuni_action_id;
      /** An action scheduled into a maintenance window that opens later: its wait counts on top of the timeout. */
      let windowWaitSeconds = 0;
      if (actionId === null) {
        let scheduled = await scheduleErratumOnce(uyuni, { systemId: target.systemId, errataIds, advisoryNames });
        if ('outsideWindow' in scheduled) {
          // 1334: outside the system's maintenance window. Rescheduled into the next window when it opens within
          // the action timeout; otherwise skipped (never failed). Batches of the rollout pass each window's start
          // as `earliest` (domain/maintenance-plan.ts batchesByWindow), so this is the exception.
          const windows = await nextMaintenanceWindows({ uyuni, uyuniLimit: deps.uyuniLimit }, [target.systemId], new Date());
          const next = earliestFor(windows[String(target.systemId)] ?? null, Date.now());
          if ('never' in next) return skip(`${scheduled.outsideWindow}; ${next.never}`);
          // The wait must fit the activity's start-to-close slack (action + reboot timeouts + 120 s).
          if (next.waitMs > Math.min(input.timing.actionTimeoutSeconds, 60) * 1000) {
            return skip(`outside its maintenance window: the next one opens at ${new Date(next.atMs).toISOString()}, later than this rollout can wait for one system; not scheduled`);
          }
          scheduled = await scheduleErratumOnce(uyuni, { systemId: target.systemId, errataIds, advisoryNames }, new Date(next.atMs));
          windowWaitSeconds = Math.ceil(next.waitMs / 1000);
        }
        if ('outsideWindow' in scheduled) return skip(scheduled.outsideWindow);
        if ('retracted' in scheduled) {
          // 2602: retracted by its vendor. Recorded as a retraction, which halts this rollout (the halt signal).
          for (const name of advisoryNames) {
            const d = advisoryNames.length === 1 ? null : await guarded(() => uyuni.getErrataDetails(name)).catch(() => null);
            if (advisoryNames.length === 1 || d?.advisoryStatus === 'retracted') await retractAdvisory(deps, name, 'rollout');
          }
          return skip(`not applied: ${scheduled.retracted}`);
        }
        if ('refused' in scheduled) return fail(scheduled.refused, false);
        actionId = scheduled.actionId;
        await update({ uyuni_action_id: actionId });
      }
      const outcome = await waitForAction(uyuni, { systemId: target.systemId, actionId }, { pollSeconds: input.timing.pollSeconds, timeoutSeconds: input.timing.actionTimeoutSeconds + windowWaitSeconds });
      if (outcome.status === 'TimedOut') return fail(`UYUNI action ${actionId} still ${outcome.lastStatus} after ${input.timing.actionTimeoutSeconds} s`, false);
      // What the action changed, from the whole inventory: a failed action may still have changed something.
      const changes = diffInventory(inventory, await guarded(() => salt.listInventory(target.minion, { signal: cancellationSignal() })));
      await update({ inventory_changes: json(changes) });
      if (outcome.status === 'Failed') return fail(`UYUNI action ${actionId} failed: ${outcome.resultMsg ?? 'no message'}`, changeCount(changes) > 0);
      await update({ patched: true });

      if (requiresReboot) {
        await update({ status: 'rebooting' });
        const now = await guarded(() => salt.uptime(target.minion)).catch(() => ({ kind: 'no-answer' as const }));
        if (now.kind === 'up' && now.sinceT <= bootBefore) await guarded(() => uyuni.scheduleReboot(target.systemId, new Date()));
        const { back } = await waitForBoot(salt, target.minion, bootBefore, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds });
        if (!back) return fail(`${target.name} did not come back from its reboot within ${input.timing.rebootTimeoutSeconds} s`, true);
      }

      await update({ status: 'verifying' });
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const services = names.length ? await guarded(() => salt.serviceStatus(target.minion, names)) : {};
      const stopped = Object.entries(services).filter(([, running]) => !running).map(([n]) => n);
      await update({ services: json({ minion: target.minion, ...(target.errataIds ? { errataIds, advisoryNames, requiresReboot } : {}), ...services }) });
      if (stopped.length) return fail(`critical service(s) not running after the patch: ${stopped.join(', ')}`, true);
      await finishSystem(wf, row.id, row.wave, input.queueId, { status: 'applied', completed_at: new Date() });
      return { systemId: target.systemId, status: 'applied', patched: true, error: null };
    },

    /**
     * The rollout's end: completed (promoting → prod_applied → completed), or halted; untouched systems skipped.
     * Returns how many systems of the rollout are skipped (never reached, or skipped for a retraction or a window).
     */
    async finishDeployment(input: { queueId: number; status: 'completed' | 'halted'; haltReason?: string | null; budgetExceeded?: boolean; members?: number[] }): Promise<number> {
      const wf = workflowId();
      return db.transaction().execute(async (trx) => {
        const skipped = await trx.updateTable('patch_deployments').set({ status: 'skipped' }).where('workflow_id', '=', wf).where('status', '=', 'pending').executeTakeFirst();
        // a set rollout moves every item it carried
        for (const id of [input.queueId, ...(input.members ?? [])]) await moveQueue(trx, id, input.status === 'completed' ? ['prod_applied', 'completed'] : ['halted']);
        const c = await deploymentCounts(trx, wf);
        if (input.status === 'completed') {
          await recordEvent(trx, 'deployment.completed', { queue_id: input.queueId, workflow_id: wf, ...c }, { dedupeKey: `deployment-completed-${wf}`, workflowId: wf });
        } else {
          const manual = await trx.selectFrom('deployment_halts').select(['requested_by', 'reason', 'source']).where('queue_id', '=', input.queueId).orderBy('id', 'desc').limit(1).executeTakeFirst();
          const byBudget = input.budgetExceeded ?? (input.haltReason ? input.haltReason.startsWith('failure budget') : !manual);
          const by = byBudget ? null : (manual?.requested_by ?? /^halted by ([^:]+):/.exec(input.haltReason ?? '')?.[1] ?? null);
          const cause = byBudget ? 'budget' : manual?.source === 'retraction' ? 'retraction' : 'manual';
          await recordEvent(trx, 'deployment.halted', {
            queue_id: input.queueId, workflow_id: wf, ...c, cause, by, reason: input.haltReason ?? manual?.reason ?? null,
          }, { dedupeKey: `deployment-halted-${wf}`, workflowId: wf });
        }
        // Every system not patched and not failed: never reached, or skipped for a retraction or its window.
        return Math.max(Number(skipped.numUpdatedRows), c.skipped);
      });
    },

    async deploymentRunning(input: { queueId: number }): Promise<boolean> {
      return deps.temporal.workflow
        .getHandle(`deploy-${input.queueId}`)
        .describe()
        .then((d) => d.status.name === 'RUNNING', () => false);
    },

    /** The systems UYUNI patched (or an action changed) and not yet rolled back, and the OS they run. */
    async patchedSystems(input: { queueId: number }): Promise<{ os: string; targets: DeployTarget[] }> {
      const item = await db.selectFrom('patch_test_queue').select('target_os').where('id', '=', input.queueId).executeTakeFirstOrThrow();
      const rows = await db
        .selectFrom('patch_deployments')
        .selectAll()
        .where('queue_id', '=', input.queueId)
        .where('patched', '=', true)
        .where('status', '!=', 'rolled_back')
        .orderBy('system_id')
        .execute();
      return {
        os: item.target_os,
        targets: rows.map((r) => ({ systemId: r.system_id, name: r.system_name, minion: (r.services as { minion?: string } | null)?.minion ?? r.system_name, wave: r.wave })),
      };
    },

    /**
     * Undoes the patch on one production system from what it changed (downgrade the upgraded, reinstall the
     * removed, boot the old kernel when the new one runs, remove the added) and verifies the whole inventory
     * and the running kernel. `rolled_back` only when verified; otherwise `rollback_failed` with what differs.
     */
    async rollbackProductionSystem(input: { queueId: number; target: DeployTarget; requestedBy: string; reason: string; os: string; timing: TestTiming }): Promise<{ ok: boolean; error: string | null }> {
      const row = await db.selectFrom('patch_deployments').selectAll().where('queue_id', '=', input.queueId).where('system_id', '=', input.target.systemId).where('patched', '=', true).executeTakeFirstOrThrow();
      const key = `deploy-${row.workflow_id}-${row.system_id}`;
      await db
        .insertInto('patch_rollbacks')
        .values({ queue_id: input.queueId, scope: 'production', deployment_id: row.id, system_id: row.system_id, rollback_type: 'package', requested_by: input.requestedBy, reason: input.reason, idempotency_key: key })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      const finish = async (ok: boolean, error: string | null, details: Record<string, unknown>) => {
        await db.updateTable('patch_deployments').set({ status: ok ? 'rolled_back' : 'rollback_failed', error: ok ? row.error : error }).where('id', '=', row.id).execute();
        await db.updateTable('patch_rollbacks').set({ status: ok ? 'succeeded' : 'failed', completed_at: new Date(), details: json(details), error }).where('idempotency_key', '=', key).execute();
        return { ok, error };
      };
      const changes = row.inventory_changes;
      if (!changes) return finish(false, 'what the patch changed on this system was never recorded, so it cannot be undone with certainty', {});
      const target = { systemId: row.system_id, minion: input.target.minion, name: row.system_name, os: input.os };
      const timing = { pollSeconds: input.timing.pollSeconds, rebootTimeoutSeconds: input.timing.rebootTimeoutSeconds, actionTimeoutSeconds: input.timing.actionTimeoutSeconds };
      const reverted = await guarded(() => revertPatch({ salt, uyuni }, target, { changes, kernelBefore: row.kernel_before }, timing, cancellationSignal()));
      if (!reverted.ok) return finish(false, reverted.reason, { steps: reverted.steps, changes });
      const check = await guarded(() => verifyReverted(salt, target, reverted.expected, row.kernel_before, cancellationSignal()));
      return finish(check.ok, check.ok ? null : check.differences.join('; '), { steps: reverted.steps, changes, differences: check.differences, kernel: check.kernel });
    },

    /**
     * The rollback's end: prod_rolled_back only when every patched system was restored and verified; otherwise
     * prod_rollback_failed, naming the systems that were not.
     */
    async finishDeploymentRollback(input: { queueId: number; failures: { system: string; error: string }[]; failedCount?: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        // A set rollout's rollback restores every system's whole inventory: all its errata, so all its items.
        const carried = await trx.selectFrom('deployments').select('queue_id').where('workflow_id', '=', `deploy-${input.queueId}`).where('queue_id', '<>', input.queueId).execute();
        // failedCount: a batched rollback names only the first failures (patch_rollbacks holds each).
        const failedCount = Math.max(input.failedCount ?? 0, input.failures.length);
        const ok = failedCount === 0;
        const more = failedCount > input.failures.length ? ` and ${failedCount - input.failures.length} more` : '';
        const reason = ok ? null : `not restored (${failedCount}): ${input.failures.map((f) => `${f.system} (${f.error})`).join('; ')}${more}`.slice(0, 4000);
        for (const id of [input.queueId, ...new Set(carried.map((c) => c.queue_id))]) {
          const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
          if (['promoting', 'halted', 'prod_applied', 'completed', 'prod_rollback_failed'].includes(item.status)) {
            const next = ok ? 'prod_rolled_back' : 'prod_rollback_failed';
            const why = id === input.queueId ? reason : `rolled back with the set rollout of queue item ${input.queueId}${reason ? `; ${reason}` : ''}`;
            if (item.status !== next) await trx.updateTable('patch_test_queue').set({ status: next, status_reason: why }).where('id', '=', id).execute();
          }
          await trx.updateTable('deployments').set({ status: ok ? 'rolled_back' : 'rollback_failed' }).where('queue_id', '=', id).execute();
        }
        const rolled = await trx
          .selectFrom('patch_deployments')
          .select(sql<number>`count(*) filter (where status = 'rolled_back')::integer`.as('n'))
          .where('queue_id', '=', input.queueId)
          .executeTakeFirstOrThrow();
        const wf = workflowId();
        await recordEvent(trx, 'deployment.rolled_back', {
          queue_id: input.queueId, workflow_id: wf, verified: ok, rolled_back: rolled.n, failed: failedCount, reason,
        }, { dedupeKey: `deployment-rolled-back-${wf}`, workflowId: wf });
      });
    },

    /** The carried errata of a set rollout: approved items of the OS, with what the rollout applies. */
    async describeCarried(input: { queueIds: number[]; os: string }): Promise<CarriedErratum[]> {
      const rows = await db
        .selectFrom('patch_test_queue as q')
        .innerJoin('errata_cache as e', 'e.advisory_name', 'q.advisory_name')
        .select(['q.id', 'q.advisory_name', 'q.target_os', 'q.requires_reboot', 'e.uyuni_errata_id'])
        .where('q.id', 'in', input.queueIds)
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      return input.queueIds.map((id) => {
        const r = byId.get(id);
        if (!r || r.target_os !== input.os || r.uyuni_errata_id === null) throw new Error(`queue item ${id} cannot be carried by a rollout of ${input.os}`);
        return { queueId: r.id, errataId: r.uyuni_errata_id, advisoryName: r.advisory_name, requiresReboot: r.requires_reboot };
      });
    },
  };
}
