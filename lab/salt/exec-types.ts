/** The contract between the salt lab's job runner and its execution functions. */
import type { Fleet, LabSystem } from '../fleet/index.js';
import type { CallArgs } from './args.js';
import type { SnapshotStore } from './snapshots.js';
import type { SaltStats } from './stats.js';

/** Which configurable duration a long-running function takes (see JobDurations). */
export type DurationKey = 'pkgInstallMs' | 'snapperMs' | 'rebootMs';

export interface ExecContext {
  readonly fleet: Fleet;
  readonly system: LabSystem;
  readonly jid: string;
  readonly fun: string;
  readonly args: CallArgs;
  readonly snapshots: SnapshotStore;
  readonly stats: SaltStats;
  /** Real milliseconds one `at_time` minute of system.reboot lasts in the lab. */
  readonly shutdownMinuteMs: number;
  /** Runs after the minion's return is recorded (a reboot takes the minion away only then). */
  afterReturn(fn: () => void, delayMs?: number): void;
}

export interface ExecFunction {
  readonly name: string;
  readonly duration?: DurationKey;
  /** Part of the optional snapper module: runs only where MinionModules says it loaded. */
  readonly optionalModule?: 'snapper';
  /** Returns the minion's return value; throws the errors below for Salt's error strings. */
  run(ctx: ExecContext): unknown;
}

/** Salt's CommandExecutionError: the minion returns `"ERROR: ..."` with retcode 1. */
export class CommandExecutionError extends Error {
  constructor(
    message: string,
    /** Rendered like Salt's nested outputter after "Additional info follows". */
    readonly info?: string,
  ) {
    super(message);
    this.name = 'CommandExecutionError';
  }
}

/** Salt's SaltInvocationError: `"Passed invalid arguments to <fun>: ..."`, retcode 1. */
export class InvalidArgumentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentsError';
  }
}

/**
 * A return that carries its own retcode: cmd.run / cmd.run_all set the job's retcode to the
 * command's exit code (cmdmod._run stores it in `__context__["retcode"]`), success = retcode 0.
 */
export class WithRetcode {
  constructor(
    readonly value: unknown,
    readonly retcode: number,
  ) {}
}

export function notAvailable(fun: string): string {
  return `'${fun}' is not available.`;
}
