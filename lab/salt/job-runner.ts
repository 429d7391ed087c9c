/**
 * Publishes a job to the targeted minions and runs each minion's execution function over the
 * fleet. A minion that is down (rebooting, hung) when the job is published, or when it would
 * finish, never returns. Long functions finish after their configured duration (real timers);
 * the fleet's state changes when they finish.
 */
import type { Fleet, LabSystem } from '../fleet/index.js';
import { parseCallArgs } from './args.js';
import { hostFunctions } from './exec-host.js';
import { pkgFunctions } from './exec-pkg.js';
import { snapperFunctions } from './exec-snapper.js';
import { cmdFunctions } from './exec-cmd.js';
import { CommandExecutionError, InvalidArgumentsError, notAvailable, WithRetcode, type ExecContext, type ExecFunction } from './exec-types.js';
import { grainsOf } from './grains.js';
import { JobStore, type JobRecord, type MinionReturn } from './jobs.js';
import { JobCacheFaults } from './faults.js';
import type { MinionModules } from './modules.js';
import type { SnapshotStore } from './snapshots.js';
import type { SaltStats } from './stats.js';
import { matchMinions } from './targeting.js';

export interface JobDurations {
  /** pkg.install (and any package transaction). */
  pkgInstallMs: number;
  /** snapper.undo. */
  snapperMs: number;
  /** system.reboot until its (empty) return; the minion then stays away for the fleet's rebootMs. */
  rebootMs: number;
  /** One `at_time` minute of system.reboot, scaled down for the lab. */
  shutdownMinuteMs: number;
}

export const DEFAULT_JOB_DURATIONS: JobDurations = { pkgInstallMs: 300, snapperMs: 200, rebootMs: 50, shutdownMinuteMs: 1000 };

export interface PublishRequest {
  tgt: unknown;
  tgtType: string;
  fun: string;
  arg: unknown;
  kwarg: unknown;
  user: string;
}

const REGISTRY: ReadonlyMap<string, ExecFunction> = new Map([...hostFunctions, ...pkgFunctions, ...snapperFunctions, ...cmdFunctions].map((f) => [f.name, f]));

export function saltFunctionNames(): string[] {
  return [...REGISTRY.keys()];
}

export class JobRunner {
  readonly jobs = new JobStore();
  /** Faults of the job cache as read through /jobs/<jid> and jobs.list_job. */
  readonly jobFaults = new JobCacheFaults();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly byMinionId = new Map<string, LabSystem>();
  private closed = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly snapshots: SnapshotStore,
    private readonly stats: SaltStats,
    private readonly durations: JobDurations,
    readonly modules: MinionModules,
  ) {
    for (const s of fleet.systems) this.byMinionId.set(s.minionId, s);
  }

  system(minionId: string): LabSystem | undefined {
    return this.byMinionId.get(minionId);
  }

  target(tgt: unknown, tgtType: string): LabSystem[] {
    return matchMinions(this.fleet.systems, tgt, tgtType, (s) => grainsOf(this.fleet, s));
  }

  publish(req: PublishRequest): JobRecord {
    this.fleet.tick();
    const targets = this.target(req.tgt, req.tgtType);
    const args = parseCallArgs(req.arg, req.kwarg);
    const argList = req.arg === undefined || req.arg === null ? [] : Array.isArray(req.arg) ? [...(req.arg as unknown[])] : [req.arg];
    if (req.kwarg && typeof req.kwarg === 'object' && Object.keys(req.kwarg).length > 0) argList.push({ ...req.kwarg, __kwarg__: true });
    const job: JobRecord = {
      jid: this.jobs.nextJid(this.fleet.now()),
      fun: req.fun,
      arguments: argList,
      tgt: req.tgt,
      tgtType: req.tgtType,
      user: req.user,
      startMs: this.fleet.now(),
      minions: targets.map((s) => s.minionId),
      returns: new Map(),
      running: new Set(),
      settled: Promise.resolve(),
    };
    this.jobs.add(job);
    this.stats.recordJob(req.fun);
    const def = REGISTRY.get(req.fun);
    const finishing: Promise<void>[] = [];
    for (const sys of targets) {
      if (!sys.up) continue; // the publish never reaches it
      this.stats.recordExecution(sys.minionId, req.fun);
      job.running.add(sys.minionId);
      const durationMs = def?.duration ? this.durations[def.duration] : 0;
      finishing.push(
        new Promise<void>((resolve) => {
          const finish = () => {
            job.running.delete(sys.minionId);
            this.fleet.tick();
            if (sys.up && !this.closed) this.execute(job, sys, def, args);
            resolve();
          };
          if (durationMs > 0) this.schedule(finish, durationMs);
          else finish();
        }),
      );
    }
    job.settled = Promise.all(finishing).then(() => undefined);
    return job;
  }

  private execute(job: JobRecord, sys: LabSystem, def: ExecFunction | undefined, args: ReturnType<typeof parseCallArgs>): void {
    const after: { fn: () => void; delayMs: number }[] = [];
    let result: MinionReturn;
    const missing = !def ? notAvailable(job.fun) : def.optionalModule ? this.modules.unavailableText(sys, job.fun) : undefined;
    if (missing !== undefined) {
      result = { ret: missing, retcode: 1, success: false };
    } else if (def) {
      const ctx: ExecContext = {
        fleet: this.fleet,
        system: sys,
        jid: job.jid,
        fun: job.fun,
        args,
        snapshots: this.snapshots,
        stats: this.stats,
        shutdownMinuteMs: this.durations.shutdownMinuteMs,
        afterReturn: (fn, delayMs = 0) => after.push({ fn, delayMs }),
      };
      try {
        const ret = def.run(ctx);
        result = ret instanceof WithRetcode ? { ret: ret.value, retcode: ret.retcode, success: ret.retcode === 0 } : { ret, retcode: 0, success: true };
      } catch (err) {
        result = { ret: errorString(job.fun, err), retcode: 1, success: false };
      }
    } else {
      return;
    }
    job.returns.set(sys.minionId, result);
    for (const a of after) {
      if (a.delayMs > 0) this.schedule(a.fn, a.delayMs);
      else a.fn();
    }
  }

  private schedule(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Stops pending work; jobs still running never finish. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function errorString(fun: string, err: unknown): string {
  if (err instanceof CommandExecutionError) return `ERROR: ${err.message}${err.info ? `. Additional info follows:\n\n${err.info}` : ''}`;
  if (err instanceof InvalidArgumentsError) return `Passed invalid arguments to ${fun}: ${err.message}`;
  // An unexpected exception in a module: Salt returns the traceback text.
  return `The minion function caused an exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}
