import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, PatchDeploymentsTable } from '../../db/database.js';
import { json } from '../../db/json.js';
import { recordEvent } from '../../db/queries/notifications.js';
import { bulkUpdate, type BulkColumnType } from '../../db/queries/bulk-update.js';
import { chunk } from '../../domain/chunks.js';
import { isTestGroup, osFromGroup } from '../../domain/os.js';
import { changeCount, diffInventory, type InventoryChanges, type KernelState, type PackageInventory } from '../../domain/package-inventory.js';
import { cutBatches, planWaves, summarizePlan } from '../../domain/wave-plan.js';
import type { CarriedErratum, DeploymentPlanPolicy, TestTiming } from '../../workflows/messages.js';
import type { ActivityDeps } from '../index.js';
import { loadTestSettings } from '../patch-test/settings.js';
import { bootDefaultCommand, parseBootDefault } from '../shared/kernel.js';
import { scheduleErratumOnce } from '../shared/errata-action.js';
import { retractAdvisory } from '../shared/retraction.js';
import { nextMaintenanceWindows } from '../maintenance/maintenance-activities.js';
import { batchesByWindow, earliestFor, notBeforeOf, type NextWindow } from '../../domain/maintenance-plan.js';
import type { ActionSystem } from '../uyuni/types.js';
import { isUyuniError, UyuniInvalidErrataError, UyuniNotInMaintenanceError } from '../uyuni/errors.js';
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

/** One batch of the plan: its systems and when it may start (inside every member's next maintenance window). */
export interface RolloutBatch {
  wave: number;
  batch: number;
  systems: number;
  /** ISO 8601: its members' next window's start, or when the plan was cut if they may go at once; null: never (no window: skipped). */
  earliest: string | null;
}

export interface RolloutPlanSummary {
  targets: number;
  waves: RolloutWave[];
  /** Absent in plans made before batches by window (issue 15). */
  batches?: RolloutBatch[];
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
  /** With byWindow: ISO 8601, when the batch may start (inside every member's next maintenance window). */
  earliest?: string;
}

type Row = Selectable<PatchDeploymentsTable>;
type Meta = { minion?: string; errataIds?: number[]; advisoryNames?: string[]; requiresReboot?: boolean } | null;
const meta = (r: Pick<Row, 'services'>) => r.services as Meta;
const minionOf = (r: Pick<Row, 'services' | 'system_name'>) => meta(r)?.minion ?? r.system_name;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));


/** Many rows of patch_deployments updated in bulk (db/queries/bulk-update.ts: one JSON parameter a statement, never one statement per system). */
export function updateRows(db: Kysely<Database> | Transaction<Database>, rows: ({ id: number } & Record<string, unknown>)[], types: Record<string, BulkColumnType>): Promise<void> {
  return bulkUpdate(db, 'patch_deployments', { column: 'id', type: 'integer' }, rows, types);
}

/**
 * Heartbeats every second while `fn` runs: one Salt or UYUNI round for a batch of 100 can outlast the heartbeat
 * timeout, yet a worker that died must still be noticed within it (the activity is then retried elsewhere).
 */
export async function keepAlive<T>(fn: () => Promise<T>): Promise<T> {
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

  // A batch's rows in one state, with only the columns a step reads: the inventories (kilobytes a system) are
  // read only where they are used, never on each poll round for the whole batch.
  const inBatch = (rolloutId: string, wave: number, batch: number) =>
    db.selectFrom('patch_deployments').where('workflow_id', '=', rolloutId).where('wave', '=', wave).where('batch', '=', batch).orderBy('system_id');
  const BASE = ['id', 'system_id', 'system_name', 'services', 'status'] as const;

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
     * affected systems, stored in chunks. Batches follow the maintenance windows (issue 15): each target's next
     * window is read (nextMaintenanceWindows) and a batch only holds systems that may start at the same time
     * (at once, or at one window's start), stored per system with its batch's `earliest`. Real run:
     * patch_deployments rows of this workflow (an existing plan is returned as it is: idempotent), the items
     * move to promoting. Dry run: deployment_plans and its targets for the queue item, replacing an earlier dry
     * run in one transaction; nothing else changes.
     */
    async planRollout(input: {
      queueId: number; advisoryName: string; targetOs: string; policy: DeploymentPlanPolicy;
      members?: CarriedErratum[]; errataId?: number; requiresReboot?: boolean; dryRun?: boolean;
    }): Promise<RolloutPlanSummary> {
      const wf = input.dryRun ? null : workflowIdOf();
      if (wf) {
        const existing = await db.selectFrom('patch_deployments').select(['system_id', 'group_name', 'wave', 'batch', 'earliest']).where('workflow_id', '=', wf).execute();
        if (existing.length) return summaryOf(existing.map((r) => ({ id: r.system_id, group: r.group_name ?? '', wave: r.wave, batch: r.batch ?? 0, earliest: r.earliest })));
      }
      const { set, systems } = await findTargets(input);
      const now = Date.now();
      const windows = await nextMaintenanceWindows(deps, [...systems.keys()], new Date(now));
      const windowOf = (id: number): NextWindow => windows[String(id)] ?? null;
      const planned = planWaves(
        [...systems.values()].map((s) => ({
          id: s.id, group: s.group, notBeforeMs: notBeforeOf(windowOf(s.id), now), ...(s.errata ? { actionKey: s.errata.errataIds.join(',') } : {}),
        })),
        { canarySize: input.policy.canarySize, canaryFraction: input.policy.canaryFraction ?? 0, waveSize: input.policy.waveSize, batchSize: input.policy.batchSize ?? 100 },
      );
      const earliestOf = (p: { notBeforeMs?: number | null }) => (p.notBeforeMs === null ? null : new Date(p.notBeforeMs ?? now));
      const summary = summaryOf(planned.map((p) => ({ ...p, earliest: earliestOf(p) })));
      const windowJson = (id: number) => {
        const w = windowOf(id);
        return w === null ? null : json(w);
      };
      await db.transaction().execute(async (trx) => {
        if (wf) {
          for (const part of chunk(planned, INSERT_CHUNK)) {
            await trx
              .insertInto('patch_deployments')
              .values(part.map((p) => {
                const s = systems.get(p.id)!;
                return {
                  queue_id: input.queueId, workflow_id: wf, system_id: p.id, system_name: s.name, group_name: s.group, wave: p.wave, batch: p.batch,
                  services: json({ minion: s.minion, ...(s.errata ?? {}) }), next_window: windowJson(p.id), earliest: earliestOf(p),
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
              return {
                queue_id: input.queueId, system_id: p.id, system_name: s.name, group_name: s.group, wave: p.wave, batch: p.batch, minion: s.minion,
                errata: s.errata ? json(s.errata) : null, next_window: windowJson(p.id), earliest: earliestOf(p),
              };
            }))
            .execute();
        }
      });
      if (wf) {
        for (const e of set) await moveToPromoting(db, e.queueId);
      }
      return summary;
    },

    /**
     * The batches of one wave: their systems and whether they reboot (the wave workflow's work list). With
     * byWindow (issue 15) the wave is cut again when it starts, from its systems' next maintenance windows now
     * (the plan's were read when the rollout began, and an open window may have closed since): batches of at most
     * the plan's largest batch, by window start and errata set (cutBatches), each with its `earliest`; a system
     * whose schedule has no window in the horizon is `skipped` with the reason. Only a wave none of whose systems
     * has started is cut again (a retry returns what its rows hold).
     */
    async waveBatches(input: { rolloutId: string; wave: number; requiresReboot: boolean; byWindow?: boolean }): Promise<WaveBatch[]> {
      const rows = await db.selectFrom('patch_deployments').select(['id', 'system_id', 'batch', 'services', 'status', 'earliest', 'started_at', 'uyuni_action_id'])
        .where('workflow_id', '=', input.rolloutId).where('wave', '=', input.wave).orderBy('batch').orderBy('system_id').execute();
      if (input.byWindow && rows.length && rows.every((r) => r.status === 'pending' && r.started_at === null && r.uyuni_action_id === null)) {
        const perBatch = new Map<number, number>();
        for (const r of rows) perBatch.set(r.batch ?? 0, (perBatch.get(r.batch ?? 0) ?? 0) + 1);
        const batchSize = Math.max(1, ...perBatch.values());
        const now = Date.now();
        const windows = await nextMaintenanceWindows(deps, rows.map((r) => r.system_id), new Date(now));
        const windowOf = (id: number): NextWindow => windows[String(id)] ?? null;
        const cut = cutBatches(rows.map((r) => ({
          id: r.system_id, group: '', row: r, notBeforeMs: notBeforeOf(windowOf(r.system_id), now),
          ...((r.services as Meta)?.errataIds ? { actionKey: (r.services as Meta)!.errataIds!.join(',') } : {}),
        })), batchSize);
        const at = new Date(now).toISOString();
        const updates: ({ id: number } & Record<string, unknown>)[] = [];
        const skipped: ({ id: number } & Record<string, unknown>)[] = [];
        for (const b of cut) {
          for (const s of b.systems) {
            const w = windowOf(s.id);
            if (b.notBeforeMs === null) {
              const e = earliestFor(w, now);
              skipped.push({ id: s.row.id, status: 'skipped', completed_at: at, next_window: w, earliest: null, patched: false,
                error: `not applied: no maintenance window to patch it in (${'never' in e ? e.never : 'none'})` });
            } else updates.push({ id: s.row.id, batch: b.batch, next_window: w, earliest: new Date(b.notBeforeMs ?? now).toISOString() });
          }
        }
        await db.transaction().execute(async (trx) => {
          await updateRows(trx, updates, { batch: 'integer', next_window: 'jsonb', earliest: 'timestamptz' });
          await updateRows(trx, skipped, { status: 'text', completed_at: 'timestamptz', next_window: 'jsonb', earliest: 'timestamptz', patched: 'boolean', error: 'text' });
        });
        return cut.filter((b) => b.notBeforeMs !== null).map((b) => ({
          batch: b.batch, systemIds: b.systems.map((x) => x.id), earliest: new Date(b.notBeforeMs ?? now).toISOString(),
          requiresReboot: b.systems.some((x) => (x.row.services as Meta)?.requiresReboot ?? input.requiresReboot),
        }));
      }
      const batches = new Map<number, WaveBatch>();
      for (const r of rows) {
        if (input.byWindow && r.status !== 'pending' && r.status !== 'applying') continue;
        const b = r.batch ?? 0;
        let entry = batches.get(b);
        if (!entry) batches.set(b, (entry = { batch: b, systemIds: [], requiresReboot: false, ...(input.byWindow ? { earliest: new Date(0).toISOString() } : {}) }));
        entry.systemIds.push(r.system_id);
        entry.requiresReboot ||= (r.services as Meta)?.requiresReboot ?? input.requiresReboot;
        if (entry.earliest !== undefined && r.earliest && r.earliest.toISOString() > entry.earliest) entry.earliest = r.earliest.toISOString();
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
        const rows = await inBatch(input.rolloutId, input.wave, input.batch)
          .select([...BASE, sql<boolean>`inventory_before is not null and kernel_before is not null and boot_before is not null`.as('has_restore_point')])
          .where('status', 'in', ['pending', 'applying'])
          .execute();
        const now = new Date();
        const pending = rows.filter((r) => r.status === 'pending');
        if (pending.length) {
          await db.updateTable('patch_deployments').set({ status: 'applying', started_at: now }).where('id', 'in', pending.map((r) => r.id)).where('status', '=', 'pending').execute();
        }
        const need = rows.filter((r) => !r.has_restore_point);
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
     *
     * `earliest` is never before now (UYUNI checks it, not the time the action runs: a stale one would let it
     * run outside the window). With `reschedule` (batches by window, issue 15) fault 1334 — a system not in its
     * maintenance window then — is no failure and no skip: the batch's systems whose windows are open go on in
     * one call, the others move to new batches of the wave at their next window's start (their restore point is
     * taken again then), returned in `rescheduled` (read back from the rows, so a retry returns the same); only a
     * system whose schedule has no window at all is skipped, with why. Without it (rollouts started before),
     * such a system is skipped with when its window opens.
     */
    async deployBatchSchedule(input: {
      rolloutId: string; wave: number; batch: number; earliest: string; errataIds: number[]; advisoryNames: string[]; reschedule?: boolean;
    }): Promise<{ scheduled: number; adopted: number; failed: number; skipped: number; rescheduled: WaveBatch[] }> {
      return keepAlive(async () => {
        const rows = await inBatch(input.rolloutId, input.wave, input.batch).select(BASE).where('status', '=', 'applying').where('uyuni_action_id', 'is', null).where('inventory_before', 'is not', null).execute();
        if (rows.length === 0) return { scheduled: 0, adopted: 0, failed: 0, skipped: 0, rescheduled: await movedFrom(input) };
        const errataIds = meta(rows[0]!)?.errataIds ?? input.errataIds;
        const names = meta(rows[0]!)?.advisoryNames ?? input.advisoryNames;
        const sids = rows.map((r) => r.system_id);
        // Whole seconds, as XML-RPC's dateTime sends them (truncated): a future earliest rounded up, never to the
        // second before its window opens; a past one becomes now (a window's start is a whole second, so now
        // truncated is still inside a window that opened by now) — no delay for a batch that may go at once.
        const asked = Date.parse(input.earliest);
        const nowMs = Date.now();
        const atMs = asked > nowMs ? Math.ceil(asked / 1000) * 1000 : Math.floor(nowMs / 1000) * 1000;
        const earliest = new Date(atMs);
        const assigned = new Map<number, number>();
        /** Systems to move to a later window: system id → that window. */
        const later = new Map<number, NextWindow>();
        const failed: ({ id: number } & Record<string, unknown>)[] = [];
        let adopted = 0;
        const take = async (ids: number[]) => {
          const got = await uyuni.scheduleApplyErrata(ids, errataIds, earliest);
          if (got.length === 1) for (const s of ids) assigned.set(s, got[0] as number);
          else for (const [s, a] of await whichAction(got, ids)) assigned.set(s, a);
        };
        try {
          await take(sids);
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
          if (input.reschedule && err instanceof UyuniNotInMaintenanceError) {
            // Who is in a window at `earliest` by the calendars: those go on in one call, the rest wait for theirs.
            const windows = await nextMaintenanceWindows(deps, sids, earliest);
            const split = batchesByWindow(sids, windows, atMs);
            const inside = split.batches.find((b) => b.earliest === earliest.toISOString())?.systemIds ?? [];
            for (const b of split.batches) if (b.earliest !== earliest.toISOString()) for (const id of b.systemIds) later.set(id, windows[String(id)] ?? null);
            for (const u of split.unschedulable) {
              const r = rows.find((x) => x.system_id === u.systemId)!;
              failed.push({ id: r.id, status: 'skipped', completed_at: new Date().toISOString(), patched: false,
                error: `not applied: outside its maintenance window and none to patch it in (${u.reason}); not scheduled (${messageOf(err)})` });
            }
            if (inside.length > 0 && inside.length < sids.length) {
              await take(inside).catch((e: unknown) => {
                if (!(isUyuniError(e) && !e.retryable)) throw mapError(e);
              });
            }
          }
        }
        let retracted: string | undefined;
        const settled = new Set(failed.map((f) => f.id));
        for (const r of rows) {
          if (assigned.has(r.system_id) || later.has(r.system_id) || settled.has(r.id)) continue;
          // Alone: the one UYUNI refuses fails alone (counted against the budget), the others go ahead.
          const one = await scheduleErratumOnce(uyuni, { systemId: r.system_id, errataIds, advisoryNames: names }, input.reschedule ? earliest : undefined).catch((e: unknown) => {
            if (isUyuniError(e) && e.retryable) throw mapError(e);
            return { refused: messageOf(e) };
          });
          const at = new Date().toISOString();
          if ('refused' in one) failed.push({ id: r.id, status: 'failed', error: one.refused, completed_at: at, patched: false });
          // Neither is a failure of the patch (no budget): a retraction (2602) halts the rollout, recorded below;
          // outside the system's maintenance window (1334) it waits for its next one (without `reschedule`: is
          // not scheduled, and says when it could be).
          else if ('retracted' in one) {
            retracted = one.retracted;
            failed.push({ id: r.id, status: 'skipped', error: `not applied: ${one.retracted}`, completed_at: at, patched: false });
          } else if ('outsideWindow' in one) {
            const w = (await nextMaintenanceWindows(deps, [r.system_id], new Date()))[String(r.system_id)] ?? null;
            const next = earliestFor(w, Date.now());
            if (input.reschedule && !('never' in next) && next.atMs > atMs) later.set(r.system_id, w);
            else if (input.reschedule) {
              // The calendar shows no later window, or one open now that UYUNI refuses: nothing to wait for.
              const why = 'never' in next ? next.never : `its calendar shows a window open at ${earliest.toISOString()}, yet UYUNI refuses it`;
              failed.push({ id: r.id, status: 'skipped', error: `not applied: outside its maintenance window (${why}); not scheduled (${one.outsideWindow})`, completed_at: at, patched: false });
            } else {
              const when = 'never' in next ? next.never : `the next one opens at ${new Date(next.atMs).toISOString()}`;
              failed.push({ id: r.id, status: 'skipped', error: `outside its maintenance window: ${when}, after this batch; not scheduled (${one.outsideWindow})`, completed_at: at, patched: false });
            }
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
        await db.transaction().execute(async (trx) => {
          await updateRows(trx, rows.filter((r) => assigned.has(r.system_id)).map((r) => ({ id: r.id, uyuni_action_id: assigned.get(r.system_id), earliest: earliest.toISOString() })),
            { uyuni_action_id: 'integer', earliest: 'timestamptz' });
          await updateRows(trx, failed, { status: 'text', error: 'text', completed_at: 'timestamptz', patched: 'boolean' });
          if (later.size) await moveToWindows(trx, input, rows.filter((r) => later.has(r.system_id) && !assigned.has(r.system_id)), later, atMs);
        });
        return {
          scheduled: assigned.size - adopted, adopted, failed: failed.filter((f) => f.status === 'failed').length, skipped: failed.filter((f) => f.status === 'skipped').length,
          rescheduled: await movedFrom(input),
        };
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
        const open = await inBatch(input.rolloutId, input.wave, input.batch).select([...BASE, 'uyuni_action_id']).where('status', '=', 'applying').where('uyuni_action_id', 'is not', null).execute();
        if (open.length === 0) break;
        type Open = (typeof open)[number];
        const byAction = new Map<number, Open[]>();
        for (const r of open) byAction.set(r.uyuni_action_id as number, [...(byAction.get(r.uyuni_action_id as number) ?? []), r]);
        const done: { row: Open; outcome: ActionSystem; ok: boolean }[] = [];
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
          // The restore points of the finished systems only: what changed is computed against them.
          const beforeOf = new Map<number, PackageInventory>();
          for (const part of chunk(done, 1000)) {
            for (const r of await db.selectFrom('patch_deployments').select(['id', 'inventory_before']).where('id', 'in', part.map((d) => d.row.id)).execute()) beforeOf.set(r.id, r.inventory_before as PackageInventory);
          }
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
            const changes: InventoryChanges = diffInventory(beforeOf.get(d.row.id) as PackageInventory, inv.value);
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
          const still = await inBatch(input.rolloutId, input.wave, input.batch).select([...BASE, 'uyuni_action_id']).where('status', '=', 'applying').where('uyuni_action_id', 'is not', null).execute();
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
      const rows = await inBatch(input.rolloutId, input.wave, input.batch).select([...BASE, 'boot_before']).where('status', '=', 'rebooting').execute();
      if (rows.length === 0) return { back: 0, failed: 0 };
      const boot = (r: (typeof rows)[number]) => Number(r.boot_before ?? 0);
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
        const rows = await inBatch(input.rolloutId, input.wave, input.batch).select(BASE).where('status', '=', 'verifying').execute();
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
            // skipped (a retraction, no maintenance window) is settled too: the wave is complete without it
            sql<number>`count(*) filter (where status not in ('applied', 'failed', 'skipped'))::integer`.as('open'),
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

  /**
   * Moves systems UYUNI refused outside their window (1334) to new batches of the wave, one per window start
   * (after the wave's last batch number, under a lock per rollout and wave: the wave's batches run side by side),
   * back to `pending` without their restore point (taken again when the window opens), `rescheduled_from` the
   * batch they left.
   */
  async function moveToWindows(trx: Transaction<Database>, at: { rolloutId: string; wave: number; batch: number }, rows: Pick<Row, 'id' | 'system_id'>[], windows: Map<number, NextWindow>, afterMs: number): Promise<void> {
    if (rows.length === 0) return;
    await sql`SELECT pg_advisory_xact_lock(hashtext(${at.rolloutId}), ${at.wave})`.execute(trx);
    const top = await trx.selectFrom('patch_deployments').select(sql<number>`coalesce(max(batch), -1)::integer`.as('n')).where('workflow_id', '=', at.rolloutId).where('wave', '=', at.wave).executeTakeFirstOrThrow();
    const byStart = new Map<number, Pick<Row, 'id' | 'system_id'>[]>();
    for (const r of rows) {
      const e = earliestFor(windows.get(r.system_id) ?? null, afterMs);
      const start = 'never' in e ? afterMs : e.atMs;
      byStart.set(start, [...(byStart.get(start) ?? []), r]);
    }
    let next = top.n + 1;
    const updates: ({ id: number } & Record<string, unknown>)[] = [];
    for (const start of [...byStart.keys()].sort((a, b) => a - b)) {
      const batch = next++;
      for (const r of byStart.get(start)!) {
        updates.push({ id: r.id, batch, status: 'pending', started_at: null, inventory_before: null, kernel_before: null, pre_versions: null, boot_before: null,
          next_window: windows.get(r.system_id) ?? null, earliest: new Date(start).toISOString(), rescheduled_from: at.batch });
      }
    }
    await updateRows(trx, updates, {
      batch: 'integer', status: 'text', started_at: 'timestamptz', inventory_before: 'jsonb', kernel_before: 'jsonb', pre_versions: 'jsonb', boot_before: 'bigint',
      next_window: 'jsonb', earliest: 'timestamptz', rescheduled_from: 'integer',
    });
  }

  /** The batches systems left `at.batch` for (1334), not started yet: what deployBatchSchedule hands back to the wave. */
  async function movedFrom(at: { rolloutId: string; wave: number; batch: number }): Promise<WaveBatch[]> {
    const rows = await db.selectFrom('patch_deployments').select(['system_id', 'batch', 'earliest', 'services'])
      .where('workflow_id', '=', at.rolloutId).where('wave', '=', at.wave).where('rescheduled_from', '=', at.batch).where('status', '=', 'pending')
      .orderBy('batch').orderBy('system_id').execute();
    const out = new Map<number, WaveBatch>();
    for (const r of rows) {
      const b = r.batch ?? 0;
      let e = out.get(b);
      if (!e) out.set(b, (e = { batch: b, systemIds: [], requiresReboot: false, earliest: (r.earliest ?? new Date()).toISOString() }));
      e.systemIds.push(r.system_id);
      e.requiresReboot ||= (r.services as Meta)?.requiresReboot ?? false;
    }
    return [...out.values()];
  }

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

function summaryOf(planned: { id: number; group: string; wave: number; batch: number; earliest: Date | null }[]): RolloutPlanSummary {
  const batches = new Map<string, RolloutBatch>();
  for (const p of planned) {
    const k = `${p.wave}/${p.batch}`;
    const b = batches.get(k);
    const at = p.earliest ? p.earliest.toISOString() : null;
    // Rows of one batch share their earliest; after a move (1334) the latest of them is when all may start.
    if (b) {
      b.systems++;
      if (at === null || (b.earliest !== null && at > b.earliest)) b.earliest = at;
    } else batches.set(k, { wave: p.wave, batch: p.batch, systems: 1, earliest: at });
  }
  const ordered = [...batches.values()].sort((a, b) => a.wave - b.wave || a.batch - b.batch);
  return { targets: planned.length, waves: summarizePlan(planned), batches: ordered };
}

async function moveToPromoting(db: Kysely<Database>, queueId: number): Promise<void> {
  const item = await db.selectFrom('patch_test_queue').select('status').where('id', '=', queueId).executeTakeFirstOrThrow();
  if (item.status !== 'promoting') await db.updateTable('patch_test_queue').set({ status: 'promoting' }).where('id', '=', queueId).execute();
}
