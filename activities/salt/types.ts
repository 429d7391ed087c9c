// Public result and option types of the Salt client.
import type { SaltExecutionReason } from './errors.js';

/** salt's `tgt_type`; `list` takes an array of exact minion ids (what the per-minion helpers use). */
export type SaltTargetType =
  | 'glob'
  | 'pcre'
  | 'list'
  | 'grain'
  | 'grain_pcre'
  | 'pillar'
  | 'pillar_pcre'
  | 'nodegroup'
  | 'range'
  | 'compound'
  | 'ipcidr';

/**
 * What one minion made of a call. `no-answer` is a minion that was targeted but did not return in
 * time (`false` in the full_return map, or absent from it / from the job's returns); a function that
 * really returned `false` is `{ kind: 'ok', ret: false, retcode: 0 }`.
 */
export type MinionResult =
  | { kind: 'ok'; ret: unknown; retcode: number }
  | { kind: 'no-answer' }
  | {
      kind: 'error';
      /** The minion's error text (redacted), or the JSON of `ret` when only the retcode says failure. */
      message: string;
      retcode: number | undefined;
      reason: SaltExecutionReason;
      /** The raw return, e.g. a state run's per-state results when retcode is 2. */
      ret: unknown;
      /** With reason `unavailable`: what Salt said cannot be loaded, and why. */
      unavailable?: FunctionUnavailable;
    };

/**
 * A function the minion cannot run (reference §1.4; salt/loader/lazy.py): `not-available` = the function is
 * unknown (module absent, or loaded without it), `virtual` = the module's __virtual__ refused to load (e.g.
 * snapper without python3-dbus or without snapperd), `command-missing` = the function needs a command that is
 * not installed. Not retryable: it stays so until someone installs what is missing.
 */
export interface FunctionUnavailable {
  /** The module Salt named (`snapper`). */
  module: string;
  /** The function, when Salt named it (`snapper.list_snapshots`). */
  function?: string;
  form: 'not-available' | 'virtual' | 'command-missing';
  /** The reason Salt gave, when it gave one (redacted). */
  detail?: string;
}

export type MinionResults = Record<string, MinionResult>;

export interface CallOptions {
  /** Aborts the HTTP request (and any polling) with the signal's reason: pass an activity's cancellationSignal. */
  signal?: AbortSignal;
  /** HTTP deadline for this request; the client's timeoutMs otherwise. */
  httpTimeoutMs?: number;
}

export interface LocalOptions extends CallOptions {
  /** Positional arguments; pass versions as strings (YAML parsing would turn 3006.10 into 3006.1). */
  arg?: readonly unknown[];
  kwarg?: Record<string, unknown>;
  /** Default `glob` (salt's default). */
  tgtType?: SaltTargetType;
  /** Salt's `timeout` in seconds: the wait after the last return, not a cap on the job's run time. */
  timeout?: number;
}

/** `jid: null` means the target matched no accepted minion, so nothing was published. */
export interface AsyncJob {
  jid: string | null;
  /** The minions salt expects to answer. */
  minions: string[];
}

/** A parsed `GET /jobs/<jid>`. */
export interface SaltJob {
  jid: string;
  fun: string | undefined;
  target: unknown;
  targetType: string | undefined;
  startTime: string | undefined;
  /** `info[0].Minions`: the minions expected to return (empty when `cacheError` is set: unknown). */
  minions: string[];
  /** Only minions that have returned so far. */
  results: MinionResults;
  /**
   * `info[0].Error` when the job cache has the returns but no load for the jid: Function, Target and the
   * expected minions are unknown, `results` are real.
   */
  cacheError?: string;
}

export interface JobProgress {
  jid: string;
  /** 1 for the first poll. */
  poll: number;
  returned: string[];
  pending: string[];
  elapsedMs: number;
  /** Type of a retryable error this poll hit (polling goes on until the deadline). */
  pollError?: string;
}

export interface WaitForJobOptions {
  /** Minions to wait for, normally `localAsync(...).minions`; the job's own `Minions` list otherwise. */
  minions?: readonly string[];
  /** How long to wait in total, from the call, before reporting missing minions as no-answer. */
  deadlineMs: number;
  /** Pause between polls. Default 2000 ms. */
  pollMs?: number;
  /** Called after every poll: where an activity calls heartbeat(progress). */
  onPoll?: (progress: JobProgress) => void | Promise<void>;
  /** Stops polling (and the poll in flight) with the signal's reason. */
  signal?: AbortSignal;
}

export interface JobOutcome {
  jid: string;
  /** Every awaited minion returned before the deadline. */
  complete: boolean;
  /** Awaited minions that did not return are `no-answer`. */
  results: MinionResults;
  polls: number;
}

export type PackageVersions = Record<string, string>;

/** pkg.install's changes: `''` for "not installed" on either side. */
export type PackageChanges = Record<string, { old: string; new: string }>;

export interface InstallPinnedOptions extends Omit<WaitForJobOptions, 'minions'> {
  /** pkg.install's `refresh` (default false there): refresh the repo metadata first. */
  refresh?: boolean;
}

/** cmd.run_all's answer. */
export interface CommandResult {
  retcode: number;
  stdout: string;
  stderr: string;
}

export type UptimeResult =
  | { kind: 'up'; seconds: number; /** Boot time, epoch seconds. */ sinceT: number; sinceIso: string }
  | { kind: 'no-answer' };

/** The grains the engine reads, typed; the rest are there untyped. */
export interface Grains {
  id?: string;
  os?: string;
  os_family?: string;
  osrelease?: string;
  osmajorrelease?: number;
  osfinger?: string;
  oscodename?: string;
  kernelrelease?: string;
  ipv4?: string[];
  fqdn?: string;
  host?: string;
  num_cpus?: number;
  mem_total?: number;
  [grain: string]: unknown;
}

export interface SnapperSnapshot {
  id: number;
  type: 'single' | 'pre' | 'post';
  /** The pre snapshot's id, for post snapshots. */
  pre: number | undefined;
  /** Epoch seconds. */
  timestamp: number;
  user: string | undefined;
  description: string;
  cleanup: string | undefined;
  userdata: Record<string, unknown>;
}

export interface SnapperCreateOptions {
  config?: string;
  snapshotType?: 'single' | 'pre' | 'post';
  preNumber?: number;
  cleanupAlgorithm?: string;
  userdata?: Record<string, string>;
}

/** snapper.undo's counts (strings on the wire). */
export interface SnapperUndoCounts {
  create: number;
  modify: number;
  delete: number;
}
