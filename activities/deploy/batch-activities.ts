import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, PatchDeploymentsTable } from '../../db/database.js';
import { json } from '../../db/json.js';
import { recordEvent } from '../../db/queries/notifications.js';
import { chunk } from '../../domain/chunks.js';
import { isTestGroup, osFromGroup } from '../../domain/os.js';
import { changeCount, diffInventory, type InventoryChanges, type KernelState, type PackageInventory } from '../../domain/package-inventory.js';
import { planWaves, summarizePlan } from '../../domain/wave-plan.js';
import type { CarriedErratum, DeploymentPlanPolicy, TestTiming } from '../../workflows/messages.js';
import type { ActivityDeps } from '../index.js';
import { loadTestSettings } from '../patch-test/settings.js';
import { bootDefaultCommand, parseBootDefault } from '../shared/kernel.js';
import { scheduleErratumOnce } from '../shared/errata-action.js';
import { retractAdvisory } from '../shared/retraction.js';
import { nextMaintenanceWindows } from '../maintenance/maintenance-activities.js';
import { earliestFor } from '../../domain/maintenance-plan.js';
import type { ActionSystem } from '../uyuni/types.js';
import { isUyuniError, UyuniInvalidErrataError } from '../uyuni/errors.js';
import { guarded, INSERT_CHUNK, mapError } from './deploy-activities.js';

// The side effects of a rollout at fleet scale (productionDeployment → productionWave children). A wave is cut
// into batches (patch_deployments.batch); per batch: one restore-point activity (Salt, one call per function
// for the whole batch), ONE system.scheduleApplyErrata for all its systems, one polling activity reading the
// action's system lists (schedule.list*Systems, uyuni-api.md §3.5) until every system is done, the reboots
// and the services check. UYUNI calls grow with batches and polls, not with systems (reboots excepted:
// system.scheduleReboot takes one sid, §3.4). Each step is idempotent from the rows: a retried activity
// continues from what its rows record (an action id once stored is polled, never scheduled again).

export interface RolloutWave {
  wave: number;
  systems: number;
  batches: number;
  /** Systems per production group in this wave. */
  groups: Record<string, number>;
}

export interface RolloutPlanSummary {
  targets: number;
  waves: RolloutWave[];
}

export interface WaveSummary {
  wave: number;
  systems: number;
  applied: number;
  failed: number;
  /** Systems of the wave not reached (halted before their batch). */
  open: number;
}

export interface WaveBatch {
  batch: number;
  systemIds: number[];
  requiresReboot: boolean;
}

type Row = Selectable<PatchDeploymentsTable>;
type Meta = { minion?: string; errataIds?: number[]; advisoryNames?: string[]; requiresReboot?: boolean } | null;
const meta = (r: Row) => r.services as Meta;
const minionOf = (r: Row) => meta(r)?.minion ?? r.system_name;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));


type ColType = 'jsonb' | 'text' | 'boolean' | 'bigint' | 'integer' | 'timestamptz';

/**
 * Many rows of patch_deployments updated in one statement per 200 rows (one JSON parameter each, never one
 * statement per system). `types` names the columns written (internal constants, never user input).
 */
async function updateRows(db: Kysely<Database> | Transaction<Database>, rows: ({ id: number } & Record<string, unknown>)[], types: Record<string, ColType>): Promise<void> {
  if (rows.length === 0) return;
  const cols = Object.keys(types);
  const def = ['id integer', ...cols.map((c) => `${c} ${types[c]}`)].join(', ');
  const set = cols.map((c) => `${c} = v.${c}`).join(', ');
  for (const part of chunk(rows, 200)) {
    await sql`UPDATE patch_deployments AS p SET ${sql.raw(set)} FROM jsonb_to_recordset(${JSON.stringify(part)}::jsonb) AS v(${sql.raw(def)}) WHERE p.id = v.id`.execute(db);
  }
}

/**
 * Heartbeats every second while `fn` runs: one Salt or UYUNI round for a batch of 100 can outlast the heartbeat
 * timeout, yet a worker that died must still be noticed within it (the activity is then retried elsewhere).
 */
async function keepAlive<T>(fn: () => Promise<T>): Promise<T> {
  heartbeat();
  const timer = setInterval(() => heartbeat(), 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

const workflowIdOf = () => {
  const w = activityInfo().workflowExecution;
  if (!w) throw new Error('deployment activities run inside a workflow');
  return w.workflowId;
};

export function createBatchDeployActivities(deps: Pick<ActivityDeps, 'db' | 'uyuni' | 'uyuniLimit' | 'salt' | 'config' | 'log'> & Partial<Pick<ActivityDeps, 'temporal'>>) {
  const { db, uyuni, salt, config } = deps;

  const batchRows = (rolloutId: string, wave: number, batch: number) =>
    db.selectFrom('patch_deployments').selectAll().where('workflow_id', '=', rolloutId).where('wave', '=', wave).where('batch', '=', batch).orderBy('system_id').execute();

  /** Production systems (non-test groups of the OS) the errata are relevant to, with their group and errata. */
  async function findTargets(input: { advisoryName: string; targetOs: string; members?: CarriedErratum[]; errataId?: number; requiresReboot?: boolean; queueId: number }) {
    const members = input.members ?? [];
    const set: CarriedErratum[] = [
      { queueId: input.queueId, errataId: input.errataId ?? 0, advisoryName: input.advisoryName, requiresReboot: input.requiresReboot ?? false },
      ...members,
    ];
    const needs = new Map<number, CarriedErratum[]>();
    for (const e of set) {
      for (const s of await guarded(() => uyuni.listAffectedSystems(e.advisoryName))) needs.set(s.id, [...(needs.get(s.id) ?? []), e]);
    }
    const groups = (await guarded(() => uyuni.listAllGroups()))
      .filter((g) => !isTestGroup(g.name, config.uyuni.testGroupPrefix) && osFromGroup(g.name) === input.targetOs)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const systems = new Map<number, { id: number; name: string; minion: string; group: string; errata: { errataIds: number[]; advisoryNames: string[]; requiresReboot: boolean } | null }>();
    // The groups' lists fetched 4 at a time, read in name order (a system in several groups counts in its first).
    const lists: Awaited<ReturnType<typeof uyuni.listSystems>>[] = [];
    for (const part of chunk(groups, 4)) lists.push(...(await guarded(() => Promise.all(part.map((g) => uyuni.listSystems(g.name))))));
    for (const [i, g] of groups.entries()) {
      for (const s of lists[i] ?? []) {
        if (!needs.has(s.id) || systems.has(s.id)) continue;
        const es = needs.get(s.id) ?? [];
        systems.set(s.id, {
          id: s.id, name: s.profileName, minion: s.minionId ?? s.hostname ?? s.profileName, group: g.name,
          errata: members.length ? { errataIds: es.map((e) => e.errataId), advisoryNames: es.map((e) => e.advisoryName), requiresReboot: es.some((e) => e.requiresReboot) } : null,
        });
      }
    }
    return { set, systems };
  }

  return {
    /**
     * The rollout's plan (canary per group, interleaved waves, batches; domain/wave-plan.ts) from UYUNI's
     * affected systems, stored in chunks. Real run: patch_deployments rows of this workflow (an existing plan
     * is returned as it is: idempotent), the items move to promoting. Dry run: deployment_plans and its targets
     * for the queue item, replacing an earlier dry run in one transaction; nothing else changes.
     */
    async planRollout(input: {
      queueId: number; advisoryName: string; targetOs: string; policy: DeploymentPlanPolicy;
      members?: CarriedErratum[]; errataId?: number; requiresReboot?: boolean; dryRun?: boolean;
    }): Promise<RolloutPlanSummary> {
      const wf = input.dryRun ? null : workflowIdOf();
      if (wf) {
        const existing = await db.selectFrom('patch_deployments').select(['system_id', 'group_name', 'wave', 'batch']).where('workflow_id', '=', wf).execute();
        if (existing.length) return summaryOf(existing.map((r) => ({ id: r.system_id, group: r.group_name ?? '', wave: r.wave, batch: r.batch ?? 0 })));
      }
      const { set, systems } = await findTargets(input);
      const planned = planWaves(
        [...systems.values()].map((s) => ({ id: s.id, group: s.group, ...(s.errata ? { actionKey: s.errata.errataIds.join(',') } : {}) })),
        { canarySize: input.policy.canarySize, canaryFraction: input.policy.canaryFraction ?? 0, waveSize: input.policy.waveSize, batchSize: input.policy.batchSize ?? 100 },
      );
      const summary = summaryOf(planned);
      await db.transaction().execute(async (trx) => {
        if (wf) {
          for (const part of chunk(planned, INSERT_CHUNK)) {
            await trx
              .insertInto('patch_deployments')
              .values(part.map((p) => {
                const s = systems.get(p.id)!;
                return {
                  queue_id: input.queueId, workflow_id: wf, system_id: p.id, system_name: s.name, group_name: s.group, wave: p.wave, batch: p.batch,
                  services: json({ minion: s.minion, ...(s.errata ?? {}) }),
                };
              }))
              .onConflict((oc) => oc.columns(['workflow_id', 'system_id']).doNothing())
              .execute();
          }
          return;
        }
        await trx.deleteFrom('deployment_plans').where('queue_id', '=', input.queueId).execute();
        await trx.insertInto('deployment_plans').values({ queue_id: input.queueId, policy: json(input.policy as unknown as Record<string, unknown>), targets: summary.targets, waves: summary.waves.length }).execute();
        for (const part of chunk(planned, INSERT_CHUNK)) {
          await trx
            .insertInto('deployment_plan_targets')
            .values(part.map((p) => {
              const s = systems.get(p.id)!;
              return { queue_id: input.queueId, system_id: p.id, system_name: s.name, group_name: s.group, wave: p.wave, batch: p.batch, minion: s.minion, errata: s.errata ? json(s.errata) : null };
            }))
            .execute();
        }
      });
      if (wf) {
        for (const e of set) await moveToPromoting(db, e.queueId);
      }
      return summary;
    },

    /** The batches of one wave: their systems and whether they reboot (the wave workflow's work list). */
    async waveBatches(input: { rolloutId: string; wave: number; requiresReboot: boolean }): Promise<WaveBatch[]> {
      const rows = await db.selectFrom('patch_deployments').select(['system_id', 'batch', 'services']).where('workflow_id', '=', input.rolloutId).where('wave', '=', input.wave).orderBy('batch').orderBy('system_id').execute();
      const batches = new Map<number, WaveBatch>();
      for (const r of rows) {
        const b = r.batch ?? 0;
        let entry = batches.get(b);
        if (!entry) batches.set(b, (entry = { batch: b, systemIds: [], requiresReboot: false }));
        entry.systemIds.push(r.system_id);
        entry.requiresReboot ||= (r.services as Meta)?.requiresReboot ?? input.requiresReboot;
      }
      return [...batches.values()];
    },

    /**
     * The restore point of every system of the batch not yet holding one: the whole package inventory, the
     * kernel state (running, boot default) and the boot time (a reboot is proved against it), each read with
     * ONE Salt call for the batch. A system that does not answer fails alone (nothing was changed on it).
     */
    async deployBatchRestorePoint(input: { rolloutId: string; wave: number; batch: number; os: string; advisoryNames: string[] }): Promise<{ ready: number; failed: number }> {
      return keepAlive(async () => {
        const rows = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'pending' || r.status === 'applying');
        const now = new Date();
        const pending = rows.filter((r) => r.status === 'pending');
        if (pending.length) {
          await db.updateTable('patch_deployments').set({ status: 'applying', started_at: now }).where('id', 'in', pending.map((r) => r.id)).where('status', '=', 'pending').execute();
        }
        const need = rows.filter((r) => !r.inventory_before || !r.kernel_before || r.boot_before === null);
        if (need.length === 0) return { ready: rows.length, failed: 0 };
        const minions = need.map(minionOf);
        const signal = cancellationSignal();
        const [inventories, running, boot, uptimes] = await guarded(() =>
          Promise.all([
            salt.listInventories(minions, { signal }),
            salt.runCommandMany(minions, 'uname -r', { signal, timeoutSeconds: 60 }),
            salt.runCommandMany(minions, bootDefaultCommand(input.os), { signal, timeoutSeconds: 60 }),
            salt.uptimes(minions, { signal }),
          ]),
        );
        const names = new Set<string>();
        const advisories = new Set([...input.advisoryNames, ...need.flatMap((r) => meta(r)?.advisoryNames ?? [])]);
        for (const e of await db.selectFrom('errata_cache').select('packages').where('advisory_name', 'in', [...advisories]).execute()) for (const p of e.packages ?? []) names.add(p.name);
        const ok: ({ id: number } & Record<string, unknown>)[] = [];
        const bad: ({ id: number } & Record<string, unknown>)[] = [];
        for (const r of need) {
          const m = minionOf(r);
          const inv = inventories[m];
          const run = running[m];
          const bd = boot[m];
          const up = uptimes[m];
          const why = [inv, run, bd, up].find((x) => x && !x.ok) as { ok: false; error: string } | undefined;
          if (!inv?.ok || !run?.ok || !bd?.ok || !up?.ok || up.value.kind !== 'up') {
            bad.push({ id: r.id, status: 'failed', error: `no restore point could be taken, so nothing was applied: ${why?.error ?? 'the minion did not answer'}`, completed_at: now.toISOString(), patched: false });
            continue;
          }
          const inventory: PackageInventory = inv.value;
          const kernel: KernelState = { running: run.value, bootDefault: parseBootDefault(input.os, bd.value) };
          const preVersions = Object.fromEntries([...names].sort().map((n) => [n, inventory[n]?.join(',') ?? 'not installed']));
          ok.push({ id: r.id, inventory_before: inventory, kernel_before: kernel, pre_versions: preVersions, boot_before: up.value.sinceT });
        }
        await updateRows(db, ok, { inventory_before: 'jsonb', kernel_before: 'jsonb', pre_versions: 'jsonb', boot_before: 'bigint' });
        await updateRows(db, bad, { status: 'text', error: 'text', completed_at: 'timestamptz', patched: 'boolean' });
        return { ready: rows.length - bad.length, failed: bad.length };
      });
    },

    /**
     * ONE system.scheduleApplyErrata for the batch's systems that hold a restore point and no action yet (a
     * stored action id is never scheduled again). UYUNI groups systems with the same errata into one action;
     * when it answers several ids, or refuses the call (fault 2600: one of them already has it scheduled —
     * e.g. the activity died between UYUNI's answer and the row update), the actions UYUNI has are found from
     * its action lists and adopted; only a system no action holds is scheduled alone, and refused alone.
     */
    async deployBatchSchedule(input: { rolloutId: string; wave: number; batch: number; earliest: string; errataIds: number[]; advisoryNames: string[] }): Promise<{ scheduled: number; adopted: number; failed: number }> {
      return keepAlive(async () => {
        const rows = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'applying' && r.uyuni_action_id === null && r.inventory_before !== null);
        if (rows.length === 0) return { scheduled: 0, adopted: 0, failed: 0 };
        const errataIds = meta(rows[0]!)?.errataIds ?? input.errataIds;
        const names = meta(rows[0]!)?.advisoryNames ?? input.advisoryNames;
        const sids = rows.map((r) => r.system_id);
        const earliest = new Date(input.earliest);
        const assigned = new Map<number, number>();
        let adopted = 0;
        try {
          const ids = await uyuni.scheduleApplyErrata(sids, errataIds, earliest);
          if (ids.length === 1) for (const s of sids) assigned.set(s, ids[0] as number);
          else for (const [s, a] of await whichAction(ids, sids)) assigned.set(s, a);
        } catch (err) {
          const refused = err instanceof UyuniInvalidErrataError;
          // A transient failure (HTTP, timeout, session) retries the whole activity; a refusal is sorted out per system.
          if (!refused && !(isUyuniError(err) && !err.retryable)) throw mapError(err);
          if (refused) {
            for (const [s, a] of await adopt(names, sids)) {
              assigned.set(s, a);
              adopted++;
            }
          }
        }
        const failed: ({ id: number } & Record<string, unknown>)[] = [];
        let retracted: string | undefined;
        for (const r of rows) {
          if (assigned.has(r.system_id)) continue;
          // Alone: the one UYUNI refuses fails alone (counted against the budget), the others go ahead.
          const one = await scheduleErratumOnce(uyuni, { systemId: r.system_id, errataIds, advisoryNames: names }).catch((e: unknown) => {
            if (isUyuniError(e) && e.retryable) throw mapError(e);
            return { refused: messageOf(e) };
          });
          const at = new Date().toISOString();
          if ('refused' in one) failed.push({ id: r.id, status: 'failed', error: one.refused, completed_at: at, patched: false });
          // Neither is a failure of the patch (no budget): a retraction (2602) halts the rollout, recorded below;
          // outside the system's maintenance window (1334) it is not scheduled, and says when it could be.
          else if ('retracted' in one) {
            retracted = one.retracted;
            failed.push({ id: r.id, status: 'skipped', error: `not applied: ${one.retracted}`, completed_at: at, patched: false });
          } else if ('outsideWindow' in one) {
            const next = earliestFor((await nextMaintenanceWindows(deps, [r.system_id], new Date()))[String(r.system_id)] ?? null, Date.now());
            const when = 'never' in next ? next.never : `the next one opens at ${new Date(next.atMs).toISOString()}`;
            failed.push({ id: r.id, status: 'skipped', error: `outside its maintenance window: ${when}, after this batch; not scheduled (${one.outsideWindow})`, completed_at: at, patched: false });
          }
          else assigned.set(r.system_id, one.actionId);
        }
        if (retracted !== undefined) {
          // Which of the set was retracted: the one, or each UYUNI now reports retracted. Recording it halts the rollout.
          for (const name of names) {
            const d = names.length === 1 ? null : await guarded(() => uyuni.getErrataDetails(name)).catch(() => null);
            if (names.length === 1 || d?.advisoryStatus === 'retracted') await retractAdvisory(deps, name, 'rollout');
          }
        }
        await updateRows(db, rows.filter((r) => assigned.has(r.system_id)).map((r) => ({ id: r.id, uyuni_action_id: assigned.get(r.system_id) })), { uyuni_action_id: 'integer' });
        await updateRows(db, failed, { status: 'text', error: 'text', completed_at: 'timestamptz', patched: 'boolean' });
        return { scheduled: assigned.size - adopted, adopted, failed: failed.filter((f) => f.status === 'failed').length, skipped: failed.filter((f) => f.status === 'skipped').length };
      });
    },

    /**
     * Polls the batch's actions until every system is done (heartbeating): schedule.listInProgressSystems each
     * round, and the completed and failed lists once none of ours is in progress any more, or some finished.
     * Completed → patched (what changed, from the whole inventory, one Salt call per round); failed → failed
     * with UYUNI's message (patched when the inventory changed anyway); still in progress at the deadline →
     * failed, naming the action. Each system counts alone.
     */
    async deployBatchPoll(input: { rolloutId: string; wave: number; batch: number; requiresReboot: boolean; timing: TestTiming }): Promise<{ completed: number; failed: number }> {
      const deadline = Date.now() + input.timing.actionTimeoutSeconds * 1000;
      let completed = 0;
      let failedCount = 0;
      for (let round = 0; ; round++) {
        const open = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'applying' && r.uyuni_action_id !== null);
        if (open.length === 0) break;
        const byAction = new Map<number, Row[]>();
        for (const r of open) byAction.set(r.uyuni_action_id as number, [...(byAction.get(r.uyuni_action_id as number) ?? []), r]);
        const done: { row: Row; outcome: ActionSystem; ok: boolean }[] = [];
        for (const [actionId, rs] of byAction) {
          const inProgress = new Set((await guarded(() => uyuni.listInProgressSystems(actionId))).map((s) => s.serverId));
          if (rs.every((r) => inProgress.has(r.system_id))) continue;
          const [c, f] = await guarded(() => Promise.all([uyuni.listCompletedSystems(actionId), uyuni.listFailedSystems(actionId)]));
          const cm = new Map(c.map((s) => [s.serverId, s]));
          const fm = new Map(f.map((s) => [s.serverId, s]));
          for (const r of rs) {
            const failedAs = fm.get(r.system_id);
            const completedAs = cm.get(r.system_id);
            if (failedAs) done.push({ row: r, outcome: failedAs, ok: false });
            else if (completedAs) done.push({ row: r, outcome: completedAs, ok: true });
          }
        }
        const late = Date.now() > deadline;
        heartbeat({ round, open: open.length, done: done.length });
        if (done.length) {
          const after = await salt.listInventories(done.map((d) => minionOf(d.row)), { signal: cancellationSignal() }).catch((err: unknown) => {
            throw mapError(err);
          });
          heartbeat({ round, inventories: done.length });
          const patched: ({ id: number } & Record<string, unknown>)[] = [];
          const failed: ({ id: number } & Record<string, unknown>)[] = [];
          for (const d of done) {
            const inv = after[minionOf(d.row)];
            const action = d.row.uyuni_action_id as number;
            if (!inv?.ok) {
              // Read again next round; at the deadline the system fails with what is known.
              if (!late) continue;
              failed.push({ id: d.row.id, status: 'failed', completed_at: new Date().toISOString(), patched: d.ok, inventory_changes: null,
                error: `UYUNI action ${action} ${d.ok ? 'completed' : 'failed'}, but the inventory after it could not be read: ${inv?.error ?? 'no answer'}` });
              continue;
            }
            const changes: InventoryChanges = diffInventory(d.row.inventory_before as PackageInventory, inv.value);
            if (d.ok) {
              const reboot = meta(d.row)?.requiresReboot ?? input.requiresReboot;
              patched.push({ id: d.row.id, status: reboot ? 'rebooting' : 'verifying', patched: true, inventory_changes: changes });
            } else {
              failed.push({ id: d.row.id, status: 'failed', completed_at: new Date().toISOString(), patched: changeCount(changes) > 0, inventory_changes: changes,
                error: `UYUNI action ${action} failed: ${d.outcome.message ?? 'no message'}` });
            }
          }
          await updateRows(db, patched, { status: 'text', patched: 'boolean', inventory_changes: 'jsonb' });
          await updateRows(db, failed, { status: 'text', completed_at: 'timestamptz', patched: 'boolean', inventory_changes: 'jsonb', error: 'text' });
          completed += patched.length;
          failedCount += failed.length;
        }
        if (late) {
          const still = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'applying' && r.uyuni_action_id !== null);
          await updateRows(db, still.map((r) => ({ id: r.id, status: 'failed', completed_at: new Date().toISOString(), patched: false,
            error: `UYUNI action ${r.uyuni_action_id} still not done on ${r.system_name} after ${input.timing.actionTimeoutSeconds} s` })),
          { status: 'text', completed_at: 'timestamptz', patched: 'boolean', error: 'text' });
          failedCount += still.length;
          break;
        }
        heartbeat({ round, open: open.length - done.length });
        await sleep(input.timing.pollSeconds * 1000);
      }
      return { completed, failed: failedCount };
    },

    /**
     * The batch's reboots: system.scheduleReboot for each patched system that still runs the boot it had at
     * its restore point (so a retry never reboots one twice; UYUNI's call takes one sid, uyuni-api.md §3.4),
     * then ONE status.uptime per round for the batch until each reports a later boot (the proof), or fails at
     * the deadline.
     */
    async deployBatchReboot(input: { rolloutId: string; wave: number; batch: number; timing: TestTiming }): Promise<{ back: number; failed: number }> {
      const rows = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'rebooting');
      if (rows.length === 0) return { back: 0, failed: 0 };
      const boot = (r: Row) => Number(r.boot_before ?? 0);
      const first = await salt.uptimes(rows.map(minionOf)).catch(() => ({}) as Record<string, never>);
      const toReboot = rows.filter((r) => {
        const u = (first as Record<string, { ok: boolean; value?: { kind: string; sinceT?: number } }>)[minionOf(r)];
        return u?.ok && u.value?.kind === 'up' && (u.value.sinceT ?? 0) <= boot(r);
      });
      for (const part of chunk(toReboot, 8)) await guarded(() => Promise.all(part.map((r) => uyuni.scheduleReboot(r.system_id, new Date()))));
      const deadline = Date.now() + input.timing.rebootTimeoutSeconds * 1000;
      let waiting = rows;
      let back = 0;
      while (waiting.length) {
        const ups = await salt.uptimes(waiting.map(minionOf)).catch(() => ({}) as Record<string, never>);
        const came = waiting.filter((r) => {
          const u = (ups as Record<string, { ok: boolean; value?: { kind: string; sinceT?: number } }>)[minionOf(r)];
          return u?.ok && u.value?.kind === 'up' && (u.value.sinceT ?? 0) > boot(r);
        });
        await updateRows(db, came.map((r) => ({ id: r.id, status: 'verifying' })), { status: 'text' });
        back += came.length;
        waiting = waiting.filter((r) => !came.includes(r));
        if (!waiting.length) break;
        if (Date.now() > deadline) {
          await updateRows(db, waiting.map((r) => ({ id: r.id, status: 'failed', completed_at: new Date().toISOString(), error: `${r.system_name} did not come back from its reboot within ${input.timing.rebootTimeoutSeconds} s` })),
            { status: 'text', completed_at: 'timestamptz', error: 'text' });
          return { back, failed: waiting.length };
        }
        heartbeat({ waitingForBoot: waiting.length });
        await sleep(input.timing.pollSeconds * 1000);
      }
      return { back, failed: 0 };
    },

    /** The critical services of the OS on the batch's patched systems (one Salt call per service name): applied, or failed naming them. */
    async deployBatchVerify(input: { rolloutId: string; wave: number; batch: number; os: string }): Promise<{ applied: number; failed: number }> {
      return keepAlive(async () => {
        const rows = (await batchRows(input.rolloutId, input.wave, input.batch)).filter((r) => r.status === 'verifying');
        if (rows.length === 0) return { applied: 0, failed: 0 };
        const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
        const answers = names.length ? await guarded(() => salt.serviceStatusMany(rows.map(minionOf), names)) : {};
        const now = new Date().toISOString();
        const out: ({ id: number } & Record<string, unknown>)[] = [];
        let failed = 0;
        for (const r of rows) {
          const a = names.length ? answers[minionOf(r)] : { ok: true as const, value: {} };
          const services = a?.ok ? a.value : {};
          const stopped = Object.entries(services).filter(([, running]) => !running).map(([n]) => n);
          const error = !a?.ok ? `the critical services could not be checked after the patch: ${a?.error ?? 'no answer'}` : stopped.length ? `critical service(s) not running after the patch: ${stopped.join(', ')}` : null;
          if (error) failed++;
          out.push({ id: r.id, status: error ? 'failed' : 'applied', error, completed_at: now, services: { ...(meta(r) ?? {}), minion: minionOf(r), ...services } });
        }
        await updateRows(db, out, { status: 'text', error: 'text', completed_at: 'timestamptz', services: 'jsonb' });
        return { applied: rows.length - failed, failed };
      });
    },

    /** The wave's counts; when none of its systems is open, its deployment.wave_completed event (once). */
    async finishWave(input: { rolloutId: string; queueId: number; wave: number }): Promise<WaveSummary> {
      return db.transaction().execute(async (trx) => {
        const w = await trx
          .selectFrom('patch_deployments')
          .select([
            sql<number>`count(*)::integer`.as('systems'),
            sql<number>`count(*) filter (where status not in ('applied', 'failed'))::integer`.as('open'),
            sql<number>`count(*) filter (where status = 'applied')::integer`.as('applied'),
            sql<number>`count(*) filter (where status = 'failed')::integer`.as('failed'),
          ])
          .where('workflow_id', '=', input.rolloutId)
          .where('wave', '=', input.wave)
          .executeTakeFirstOrThrow();
        if (w.open === 0) {
          const c = await trx
            .selectFrom('patch_deployments')
            .select([
              sql<number>`count(*)::integer`.as('targets'),
              sql<number>`count(*) filter (where status = 'applied')::integer`.as('applied'),
              sql<number>`count(*) filter (where status = 'failed')::integer`.as('failed'),
            ])
            .where('workflow_id', '=', input.rolloutId)
            .executeTakeFirstOrThrow();
          await recordEvent(trx, 'deployment.wave_completed', {
            queue_id: input.queueId, workflow_id: input.rolloutId, targets: c.targets, applied: c.applied, failed: c.failed, wave: input.wave, wave_kind: input.wave === 0 ? 'canary' : 'wave',
            wave_applied: w.applied, wave_failed: w.failed,
          }, { dedupeKey: `deployment-wave-${input.rolloutId}-${input.wave}`, workflowId: input.rolloutId });
        }
        return { wave: input.wave, systems: w.systems, applied: w.applied, failed: w.failed, open: w.open };
      });
    },

    /**
     * Per production group of a wave: its systems patched in this wave and its peers not yet patched (later
     * waves), for the verdict. `from`: the earliest start of the group's patched systems (ISO 8601);
     * `settledAt`: when the last of them completed plus the CPU rate() window (TEST_METRICS_WINDOW_SECONDS), so a
     * window from there holds no point whose rate straddles the patch.
     */
    async waveVerdictInputs(input: { rolloutId: string; wave: number }): Promise<{ group: string; patchedSystemIds: number[]; peerSystemIds: number[]; from: string; settledAt: string }[]> {
      const rows = await db.selectFrom('patch_deployments').select(['system_id', 'group_name', 'wave', 'status', 'started_at', 'completed_at']).where('workflow_id', '=', input.rolloutId).execute();
      const groups = new Map<string, { group: string; patchedSystemIds: number[]; peerSystemIds: number[]; from: number; done: number }>();
      for (const r of rows) {
        const g = r.group_name ?? '';
        let e = groups.get(g);
        if (!e) groups.set(g, (e = { group: g, patchedSystemIds: [], peerSystemIds: [], from: Number.POSITIVE_INFINITY, done: Number.NEGATIVE_INFINITY }));
        if (r.wave === input.wave && r.status === 'applied') {
          e.patchedSystemIds.push(r.system_id);
          if (r.started_at) e.from = Math.min(e.from, r.started_at.getTime());
          e.done = Math.max(e.done, (r.completed_at ?? r.started_at ?? new Date()).getTime());
        } else if (r.wave > input.wave && r.status === 'pending') e.peerSystemIds.push(r.system_id);
      }
      const now = Date.now();
      return [...groups.values()]
        .filter((g) => g.patchedSystemIds.length > 0)
        .sort((a, b) => (a.group < b.group ? -1 : 1))
        .map((g) => ({
          group: g.group, patchedSystemIds: g.patchedSystemIds.sort((a, b) => a - b), peerSystemIds: g.peerSystemIds.sort((a, b) => a - b),
          from: new Date(Number.isFinite(g.from) ? g.from : now).toISOString(),
          settledAt: new Date((Number.isFinite(g.done) ? g.done : now) + config.test.metricsWindowSeconds * 1000).toISOString(),
        }));
    },
  };

  /** With several action ids for one call: which action each system got, from the actions' system lists. */
  async function whichAction(actionIds: number[], sids: number[]): Promise<Map<number, number>> {
    const want = new Set(sids);
    const out = new Map<number, number>();
    for (const id of actionIds) {
      const lists = await guarded(() => Promise.all([uyuni.listInProgressSystems(id), uyuni.listCompletedSystems(id), uyuni.listFailedSystems(id)]));
      for (const s of lists.flat()) if (want.has(s.serverId) && !out.has(s.serverId)) out.set(s.serverId, id);
    }
    return out;
  }

  /**
   * The Patch Update actions UYUNI already has for these errata (named as UYUNI names them, "Patch Update:
   * <first advisory>[ and <n-1> more]"), newest first, and the systems of ours each holds.
   */
  async function adopt(names: string[], sids: number[]): Promise<Map<number, number>> {
    const first = names[0] as string;
    const ours = (name: string) => name.includes(first) && (names.length === 1 || name.includes(`and ${names.length - 1} more`));
    const actions = (await guarded(() => uyuni.listAllActions())).filter((a) => a.type === 'Patch Update' && ours(a.name)).sort((a, b) => b.id - a.id);
    const want = new Set(sids);
    const out = new Map<number, number>();
    for (const a of actions.slice(0, 200)) {
      if (out.size === want.size) break;
      const lists = await guarded(() => Promise.all([uyuni.listInProgressSystems(a.id), uyuni.listCompletedSystems(a.id), uyuni.listFailedSystems(a.id)]));
      for (const s of lists.flat()) if (want.has(s.serverId) && !out.has(s.serverId)) out.set(s.serverId, a.id);
    }
    return out;
  }
}

function summaryOf(planned: { id: number; group: string; wave: number; batch: number }[]): RolloutPlanSummary {
  return { targets: planned.length, waves: summarizePlan(planned) };
}

async function moveToPromoting(db: Kysely<Database>, queueId: number): Promise<void> {
  const item = await db.selectFrom('patch_test_queue').select('status').where('id', '=', queueId).executeTakeFirstOrThrow();
  if (item.status !== 'promoting') await db.updateTable('patch_test_queue').set({ status: 'promoting' }).where('id', '=', queueId).execute();
}
