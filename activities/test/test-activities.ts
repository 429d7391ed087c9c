import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { json } from '../../db/json.js';
import { getTest, insertTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { acquireLease, leaseHeldBy, quarantine, releaseLease } from '../../db/queries/test-systems.js';
import { compareMetrics } from '../../domain/metric-verdict.js';
import type { NodeMetrics } from '../prometheus/metrics.js';
import { nodeInstance } from '../prometheus/promql.js';
import { toApplicationFailure as prometheusFailure } from '../prometheus/failure.js';
import type { SaltClient } from '../salt/client.js';
import { toApplicationFailure as saltFailure } from '../salt/failure.js';
import type { UyuniClient } from '../uyuni/client.js';
import { toApplicationFailure as uyuniFailure } from '../uyuni/failure.js';
import { scheduleErratumOnce, waitForAction } from '../shared/errata-action.js';
import { waitForBoot } from '../shared/reboot.js';
import { loadTestSettings } from './settings.js';

// The side effects of patchTest, one activity per phase. Each writes its patch_test_phases row when it
// starts and when it ends (a retry rewrites the same row), keeps what a retry needs in patch_tests, and
// returns only small verdicts: the workflow decides what happens next.

export interface TestDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  uyuni: UyuniClient;
  salt: SaltClient;
  metrics: NodeMetrics;
  /** For leases: a lease whose holder workflow is no longer running is taken back. */
  temporal: Client;
}

export interface TestInfo {
  testId: number;
  advisoryName: string;
  targetOs: string;
  uyuniErrataId: number;
  requiresReboot: boolean;
  packageNames: string[];
  candidateSystems: number[];
}

export interface LeasedSystem {
  systemId: number;
  name: string;
  minion: string;
  ip: string;
}

export interface PhaseVerdict {
  ok: boolean;
  reason?: string;
}

export interface MetricsReading {
  cpuPercent: number;
  memoryPercent: number;
  samples: number;
  takenAt: string;
}

const mapError = (err: unknown): unknown => {
  const a = uyuniFailure(err);
  if (a !== err) return a;
  const b = saltFailure(err);
  if (b !== err) return b;
  return prometheusFailure(err);
};

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}

function workflowOf(): { workflowId: string; runId: string } {
  const w = activityInfo().workflowExecution;
  if (!w) throw new Error('test activities run inside a workflow');
  return w;
}

const pinsOf = (versions: Record<string, string>, names: string[]) =>
  Object.fromEntries(names.filter((n) => versions[n] !== undefined).map((n) => [n, versions[n] as string]));

export function createTestActivities(deps: TestDeps) {
  const { db, uyuni, salt, metrics, config, log } = deps;
  const signal = () => cancellationSignal();

  return {
    /** Marks the queue item as testing and opens its patch_tests row. */
    async beginTest(input: { queueId: number }): Promise<TestInfo> {
      const { workflowId, runId } = workflowOf();
      return db.transaction().execute(async (trx) => {
        const item = await trx.selectFrom('patch_test_queue').selectAll().where('id', '=', input.queueId).forUpdate().executeTakeFirst();
        if (!item) throw ApplicationFailure.nonRetryable(`queue item ${input.queueId} does not exist`, 'QueueItemNotFound');
        if (item.status === 'queued') {
          await trx.updateTable('patch_test_queue').set({ status: 'testing', workflow_id: workflowId }).where('id', '=', item.id).execute();
        } else if (!(item.status === 'testing' && item.workflow_id === workflowId)) {
          throw ApplicationFailure.nonRetryable(`queue item ${item.id} is ${item.status}, not queued`, 'QueueItemNotQueued');
        }
        const testId = await insertTest(trx, { queueId: item.id, workflowId, runId });
        const erratum = await trx
          .selectFrom('errata_cache')
          .select(['uyuni_errata_id', 'packages', 'test_system_ids'])
          .where('advisory_name', '=', item.advisory_name)
          .executeTakeFirstOrThrow();
        if (erratum.uyuni_errata_id === null) throw ApplicationFailure.nonRetryable(`${item.advisory_name} has no UYUNI errata id; sync first`, 'NotSynced');
        await trx.updateTable('patch_tests').set({ requires_reboot: item.requires_reboot }).where('id', '=', testId).execute();
        return {
          testId,
          advisoryName: item.advisory_name,
          targetOs: item.target_os,
          uyuniErrataId: erratum.uyuni_errata_id,
          requiresReboot: item.requires_reboot,
          packageNames: [...new Set((erratum.packages ?? []).map((p) => p.name))].sort(),
          candidateSystems: erratum.test_system_ids,
        };
      });
    },

    /**
     * Leases a free test system of the OS the advisory is relevant to, or null when none is free. Leases left
     * by workflows that are no longer running (terminated, timed out) are taken back first.
     */
    async acquireTestSystem(input: { testId: number; os: string; candidates: number[] }): Promise<LeasedSystem | null> {
      const { workflowId, runId } = workflowOf();
      await phaseStarted(db, input.testId, 'lease', { os: input.os, candidates: input.candidates.length });
      let lease = await leaseHeldBy(db, workflowId);
      if (!lease) {
        const held = await db
          .selectFrom('test_systems')
          .select(['system_id', 'leased_by', 'leased_run_id'])
          .where('os', '=', input.os)
          .where('leased_by', 'is not', null)
          .execute();
        for (const h of held) {
          const running = await deps.temporal.workflow
            .getHandle(h.leased_by as string, h.leased_run_id ?? undefined)
            .describe()
            .then((d) => d.status.name === 'RUNNING', () => false);
          if (!running) {
            log.warn({ systemId: h.system_id, holder: h.leased_by }, 'taking back the lease of a test that is not running');
            await releaseLease(db, h.leased_by as string);
          }
        }
        lease = await acquireLease(db, { os: input.os, candidates: input.candidates, workflowId, runId });
      }
      if (!lease) return null;
      const network = await guarded(() => uyuni.getNetwork(lease.system_id));
      const system: LeasedSystem = { systemId: lease.system_id, name: lease.name, minion: lease.minion_id ?? lease.name, ip: network.ip };
      await updateTest(db, input.testId, {
        test_system_id: system.systemId,
        test_system_name: system.name,
        test_system_minion: system.minion,
        test_system_ip: system.ip,
      });
      await db.updateTable('patch_test_queue').set({ test_system_id: system.systemId }).where('workflow_id', '=', workflowId).execute();
      await phaseFinished(db, input.testId, 'lease', 'passed', { system });
      return system;
    },

    /** A forced rollback leases the very system the test ran on (null while another test holds it). */
    async leaseSystemOfTest(input: { testId: number }): Promise<(LeasedSystem & { os: string }) | null> {
      const { workflowId, runId } = workflowOf();
      const test = await getTest(db, input.testId);
      if (!test?.test_system_id || !test.test_system_minion || !test.test_system_ip) {
        throw ApplicationFailure.nonRetryable(`test ${input.testId} ran on no known system`, 'NothingToRollBack');
      }
      const os = (await db.selectFrom('test_systems').select('os').where('system_id', '=', test.test_system_id).executeTakeFirstOrThrow()).os;
      const lease = (await leaseHeldBy(db, workflowId)) ?? (await acquireLease(db, { os, candidates: [test.test_system_id], workflowId, runId }));
      if (!lease) return null;
      return { systemId: test.test_system_id, name: test.test_system_name ?? lease.name, minion: test.test_system_minion, ip: test.test_system_ip, os };
    },

    /** The end of a forced rollback: the test and its queue item are rolled back (or marked failed when it failed). */
    async finishForcedRollback(input: { testId: number; queueId: number; verified: boolean; reason: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('patch_tests')
          .set({ status: input.verified ? 'rolled_back' : 'failed', failure_phase: 'rollback', failure_reason: input.reason })
          .where('id', '=', input.testId)
          .execute();
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (['passed', 'pending_approval'].includes(item.status) && input.verified) {
          await trx.updateTable('patch_test_queue').set({ status: 'rolled_back' }).where('id', '=', input.queueId).execute();
        }
      });
    },

    async waitingForTestSystem(input: { testId: number; os: string }): Promise<void> {
      await phaseStarted(db, input.testId, 'lease', { os: input.os, waiting: `no free ${input.os} test system yet` });
    },

    async releaseTestSystem(): Promise<boolean> {
      return releaseLease(db, workflowOf().workflowId);
    },

    async quarantineTestSystem(input: { systemId: number; reason: string }): Promise<void> {
      await quarantine(db, input.systemId, input.reason);
      log.warn(input, 'test system quarantined');
    },

    /**
     * The restore points: a snapper snapshot where the system has snapper (btrfs), and always the installed
     * versions of the erratum's packages (the package-level restore point); then the metrics baseline.
     */
    async snapshotPhase(input: { testId: number; system: LeasedSystem; advisoryName: string; packageNames: string[]; timing: { metricsRangeSeconds: number; metricsWindowSeconds: number } }) {
      const { testId, system } = input;
      await phaseStarted(db, testId, 'snapshot');
      const existing = await getTest(db, testId);
      let restorePoint = existing?.restore_point ?? null;
      if (!restorePoint) {
        const installed = await guarded(() => salt.listPackages(system.minion, { signal: signal() }));
        restorePoint = pinsOf(installed, input.packageNames);
        await updateTest(db, testId, { restore_point: json(restorePoint) });
      }
      let snapshotId = existing?.snapshot_id ?? null;
      let snapshotType: 'snapper' | 'package' = existing?.snapshot_type ?? 'package';
      if (!existing?.snapshot_type) {
        if (await guarded(() => salt.snapperAvailable(system.minion, { signal: signal() }))) {
          snapshotId = String(await guarded(() => salt.snapperCreate(system.minion, `spm: before ${input.advisoryName} (test ${testId})`, { signal: signal() })));
          snapshotType = 'snapper';
        }
        await updateTest(db, testId, { snapshot_id: snapshotId, snapshot_type: snapshotType });
      }
      const up = await guarded(() => salt.uptime(system.minion, { signal: signal() }));
      if (up.kind !== 'up') throw ApplicationFailure.retryable(`${system.minion} did not answer status.uptime`, 'SaltNoAnswerError');
      const instance = nodeInstance(system.ip, config.prometheus.nodeExporterPort);
      const baseline = await guarded(() =>
        metrics.snapshot(instance, { rangeSeconds: input.timing.metricsRangeSeconds }, { window: `${input.timing.metricsWindowSeconds}s` }),
      );
      await updateTest(db, testId, { metrics_before: json(baseline) });
      const details = { snapshotType, snapshotId, restorePoint, bootTime: up.sinceT, baseline, instance };
      await phaseFinished(db, testId, 'snapshot', 'passed', details);
      return { snapshotType, snapshotId, bootTime: up.sinceT, baseline };
    },

    /**
     * Applies the erratum through UYUNI and waits for the action. Never applies twice: the action id is kept
     * before polling, and UYUNI refuses (2600) an erratum that is already scheduled or no longer relevant,
     * in which case the existing action is adopted.
     */
    async patchPhase(input: { testId: number; systemId: number; errataId: number; advisoryName: string; timing: { pollSeconds: number; actionTimeoutSeconds: number } }): Promise<PhaseVerdict & { actionId: number | null }> {
      const { testId, systemId } = input;
      await phaseStarted(db, testId, 'patch', { advisory: input.advisoryName });
      let actionId = (await getTest(db, testId))?.uyuni_action_id ?? null;
      if (actionId === null) {
        const scheduled = await scheduleErratumOnce(uyuni, { systemId, errataId: input.errataId, advisoryName: input.advisoryName });
        if ('refused' in scheduled) {
          await phaseFinished(db, testId, 'patch', 'failed', {}, scheduled.refused);
          return { ok: false, reason: scheduled.refused, actionId: null };
        }
        actionId = scheduled.actionId;
        await updateTest(db, testId, { uyuni_action_id: actionId });
      }
      const outcome = await waitForAction(uyuni, { systemId, actionId }, { pollSeconds: input.timing.pollSeconds, timeoutSeconds: input.timing.actionTimeoutSeconds });
      if (outcome.status === 'Completed') {
        await phaseFinished(db, testId, 'patch', 'passed', { actionId, resultMessage: outcome.resultMsg });
        return { ok: true, actionId };
      }
      const reason =
        outcome.status === 'TimedOut'
          ? `UYUNI action ${actionId} still ${outcome.lastStatus} after ${input.timing.actionTimeoutSeconds} s`
          : `UYUNI action ${actionId} failed: ${outcome.resultMsg ?? 'no message'}`;
      await phaseFinished(db, testId, 'patch', 'failed', { actionId, outcome }, reason);
      return { ok: false, reason, actionId };
    },

    /** Reboots through UYUNI and proves it by the boot time; a host that never comes back fails the phase. */
    async rebootPhase(input: { testId: number; system: LeasedSystem; bootBefore: number; timing: { pollSeconds: number; rebootTimeoutSeconds: number } }): Promise<PhaseVerdict & { hung: boolean; seconds?: number }> {
      const { testId, system } = input;
      await phaseStarted(db, testId, 'reboot', { bootBefore: input.bootBefore });
      const started = Date.now();
      const before = await guarded(() => salt.uptime(system.minion, { signal: signal() })).catch(() => ({ kind: 'no-answer' as const }));
      // Only schedule when the host still runs the old boot (a retry after the reboot must not reboot again).
      if (before.kind === 'up' && before.sinceT <= input.bootBefore) {
        await guarded(() => uyuni.scheduleReboot(system.systemId, new Date()));
      }
      const result = await waitForBoot(salt, system.minion, input.bootBefore, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds, signal: signal() });
      if (!result.back) {
        const reason = `${system.name} did not come back from its reboot within ${input.timing.rebootTimeoutSeconds} s`;
        await phaseFinished(db, testId, 'reboot', 'failed', { bootBefore: input.bootBefore }, reason);
        return { ok: false, hung: true, reason };
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      await updateTest(db, testId, { reboot_duration_seconds: seconds });
      await phaseFinished(db, testId, 'reboot', 'passed', { bootBefore: input.bootBefore, bootAfter: result.sinceT, seconds });
      return { ok: true, hung: false, seconds };
    },

    /** After-metrics against the baseline; Prometheus down or no data is an error (retried), never a pass. */
    async validatePhase(input: { testId: number; system: LeasedSystem; baseline: MetricsReading; timing: { metricsRangeSeconds: number; metricsWindowSeconds: number } }): Promise<PhaseVerdict> {
      const { testId } = input;
      await phaseStarted(db, testId, 'validate');
      const instance = nodeInstance(input.system.ip, config.prometheus.nodeExporterPort);
      const after = await guarded(() =>
        metrics.snapshot(instance, { rangeSeconds: input.timing.metricsRangeSeconds }, { window: `${input.timing.metricsWindowSeconds}s` }),
      );
      const settings = await loadTestSettings(db, config);
      const verdict = compareMetrics(input.baseline, after, { cpuDelta: settings.cpuDelta, memoryDelta: settings.memoryDelta });
      await updateTest(db, testId, { metrics_after: json(after), cpu_delta: verdict.cpuDelta, memory_delta: verdict.memoryDelta });
      const details = { before: input.baseline, after, thresholds: { cpu: settings.cpuDelta, memory: settings.memoryDelta }, ...verdict };
      await phaseFinished(db, testId, 'validate', verdict.passed ? 'passed' : 'failed', details, verdict.passed ? null : verdict.reasons.join('; '));
      return verdict.passed ? { ok: true } : { ok: false, reason: verdict.reasons.join('; ') };
    },

    /** Records a validate phase that could not read metrics (after its retries): a failure, never a pass. */
    async validateUnavailable(input: { testId: number; reason: string }): Promise<void> {
      await phaseFinished(db, input.testId, 'validate', 'failed', {}, `no metrics: ${input.reason}`);
    },

    async servicesPhase(input: { testId: number; system: LeasedSystem; os: string }): Promise<PhaseVerdict> {
      await phaseStarted(db, input.testId, 'services');
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const status = names.length ? await guarded(() => salt.serviceStatus(input.system.minion, names, { signal: signal() })) : {};
      await updateTest(db, input.testId, { services: json(status) });
      const stopped = Object.entries(status).filter(([, up]) => !up).map(([name]) => name);
      const reason = stopped.length ? `critical service(s) not running: ${stopped.join(', ')}` : null;
      await phaseFinished(db, input.testId, 'services', stopped.length ? 'failed' : 'passed', { services: status }, reason);
      return stopped.length ? { ok: false, reason: reason as string } : { ok: true };
    },

    /** Marks a phase as skipped (the workflow did not need it, e.g. no reboot required). */
    async skipPhase(input: { testId: number; phase: 'reboot' | 'rollback' | 'verify_rollback' | 'validate' | 'services'; why: string }): Promise<void> {
      await phaseFinished(db, input.testId, input.phase, 'skipped', { why: input.why });
    },

    /**
     * Rolls the test system back by the seed's rule: package downgrade to the restore point when the patch
     * needed no reboot; snapshot restore (snapper undo, then a reboot onto the old kernel) when it did, or the
     * package restore point where no snapshot could be taken.
     */
    async rollbackPhase(input: { testId: number; queueId: number; system: LeasedSystem; requestedBy: string; reason: string; bootBefore?: number; timing: { pollSeconds: number; rebootTimeoutSeconds: number } }): Promise<PhaseVerdict & { rollbackType: 'package' | 'snapshot' }> {
      const { testId, system } = input;
      const test = await getTest(db, testId);
      if (!test) throw ApplicationFailure.nonRetryable(`test ${testId} not found`, 'TestNotFound');
      const rollbackType: 'package' | 'snapshot' = test.requires_reboot && test.snapshot_type === 'snapper' && test.snapshot_id ? 'snapshot' : 'package';
      await phaseStarted(db, testId, 'rollback', { rollbackType });
      await updateTest(db, testId, { rollback_type: rollbackType });
      const key = `test-${testId}`;
      await db
        .insertInto('patch_rollbacks')
        .values({
          queue_id: input.queueId, scope: 'test', test_id: testId, system_id: system.systemId, rollback_type: rollbackType,
          requested_by: input.requestedBy, reason: input.reason, idempotency_key: key,
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      try {
        let details: Record<string, unknown>;
        if (rollbackType === 'snapshot') {
          const undo = await guarded(() => salt.snapperUndo(system.minion, Number(test.snapshot_id), 0, { signal: signal() }));
          const up = await guarded(() => salt.uptime(system.minion, { signal: signal() }));
          const bootBefore = up.kind === 'up' ? up.sinceT : (input.bootBefore ?? 0);
          await guarded(() => uyuni.scheduleReboot(system.systemId, new Date()));
          const boot = await waitForBoot(salt, system.minion, bootBefore, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds, signal: signal() });
          if (!boot.back) throw ApplicationFailure.nonRetryable(`${system.name} did not come back from the rollback reboot`, 'RebootHung');
          details = { undo, rebooted: true };
        } else {
          const restore = test.restore_point ?? {};
          const current = await guarded(() => salt.listPackages(system.minion, { signal: signal() }));
          const pins = Object.fromEntries(Object.entries(restore).filter(([name, version]) => current[name] !== version));
          const changes = Object.keys(pins).length
            ? await guarded(() =>
                salt.installPinned(system.minion, pins, {
                  deadlineMs: input.timing.rebootTimeoutSeconds * 1000,
                  pollMs: input.timing.pollSeconds * 1000,
                  onPoll: () => heartbeat({ rollback: 'package' }),
                  signal: signal(),
                }),
              )
            : {};
          details = { pins, changes };
        }
        await db.updateTable('patch_rollbacks').set({ status: 'succeeded', completed_at: new Date(), details: json(details) }).where('idempotency_key', '=', key).execute();
        await phaseFinished(db, testId, 'rollback', 'passed', { rollbackType, ...details });
        return { ok: true, rollbackType };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (activityInfo().attempt >= 3 || (err instanceof ApplicationFailure && err.nonRetryable)) {
          await db.updateTable('patch_rollbacks').set({ status: 'failed', completed_at: new Date(), error: message }).where('idempotency_key', '=', key).execute();
          await phaseFinished(db, testId, 'rollback', 'failed', { rollbackType }, message);
          return { ok: false, rollbackType, reason: message };
        }
        throw mapError(err);
      }
    },

    /** The rollback verified: every package back at its restore-point version, every critical service up. */
    async verifyRollbackPhase(input: { testId: number; system: LeasedSystem; os: string }): Promise<PhaseVerdict> {
      await phaseStarted(db, input.testId, 'verify_rollback');
      const test = await getTest(db, input.testId);
      const restore = test?.restore_point ?? {};
      const current = await guarded(() => salt.listPackages(input.system.minion, { signal: signal() }));
      const wrong = Object.entries(restore).filter(([name, version]) => current[name] !== version).map(([name, version]) => `${name} is ${current[name] ?? 'missing'}, expected ${version}`);
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const services = names.length ? await guarded(() => salt.serviceStatus(input.system.minion, names, { signal: signal() })) : {};
      const stopped = Object.entries(services).filter(([, up]) => !up).map(([n]) => n);
      const ok = wrong.length === 0 && stopped.length === 0;
      const reason = [...wrong, ...(stopped.length ? [`not running: ${stopped.join(', ')}`] : [])].join('; ');
      await updateTest(db, input.testId, { rollback_verified: ok });
      await phaseFinished(db, input.testId, 'verify_rollback', ok ? 'passed' : 'failed', { versions: pinsOf(current, Object.keys(restore)), services }, ok ? null : reason);
      return ok ? { ok } : { ok, reason };
    },

    /** Closes the test: patch_tests and the queue item follow the verdict (the state machine is enforced by the database). */
    async finishTest(input: { testId: number; queueId: number; status: 'passed' | 'failed' | 'rolled_back'; failurePhase?: string; failureReason?: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('patch_tests')
          .set({
            status: input.status,
            completed_at: new Date(),
            failure_phase: input.failurePhase ?? null,
            failure_reason: input.failureReason ?? null,
          })
          .where('id', '=', input.testId)
          .execute();
        const item = await trx.selectFrom('patch_test_queue').select('status').where('id', '=', input.queueId).forUpdate().executeTakeFirstOrThrow();
        if (item.status === 'testing') {
          await trx.updateTable('patch_test_queue').set({ status: input.status }).where('id', '=', input.queueId).execute();
        }
      });
    },

    /** A test cancelled before anything was applied goes back to the queue. */
    async requeueUntested(input: { testId: number; queueId: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('patch_tests').set({ status: 'cancelled', completed_at: new Date() }).where('id', '=', input.testId).execute();
        await trx.updateTable('patch_test_queue').set({ status: 'queued', workflow_id: null, test_system_id: null }).where('id', '=', input.queueId).where('status', '=', 'testing').execute();
      });
    },
  };
}
