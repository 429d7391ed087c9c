/**
 * The job cache: one record per published job with its expected minions and the returns so
 * far. `settled` resolves when every minion that will ever answer has answered — minions that
 * were down at publish time, or went down before finishing, never do (they stay missing from
 * `returns`, like a real job cache).
 */
import type { JobFaultKind } from './faults.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface MinionReturn {
  readonly ret: unknown;
  readonly retcode: number;
  readonly success: boolean;
}

export interface JobRecord {
  readonly jid: string;
  readonly fun: string;
  /** `arg` as sent (Salt's Arguments), kwargs appended as a `__kwarg__` object. */
  readonly arguments: readonly unknown[];
  readonly tgt: unknown;
  readonly tgtType: string;
  readonly user: string;
  readonly startMs: number;
  readonly minions: readonly string[];
  readonly returns: Map<string, MinionReturn>;
  /** Minions still working on it (up when published, not finished yet). */
  readonly running: Set<string>;
  settled: Promise<void>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Salt jids are `YYYYMMDDhhmmssffffff` (microseconds). */
export function jidFromMs(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}` +
    `${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds() * 1000, 6)}`
  );
}

/** salt.utils.jid.jid_to_time: "2026, Jan 01 12:00:00.123456" ('' for a string that is not a jid). */
export function jidToTime(jid: string): string {
  if (!/^\d{20}$/.test(jid)) return '';
  const month = MONTHS[Number(jid.slice(4, 6)) - 1] ?? 'Jan';
  return `${jid.slice(0, 4)}, ${month} ${jid.slice(6, 8)} ${jid.slice(8, 10)}:${jid.slice(10, 12)}:${jid.slice(12, 14)}.${jid.slice(14, 20)}`;
}

export class JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private lastJid = 0n;

  constructor(private readonly maxJobs = 10_000) {}

  /** A fresh jid from the lab clock, strictly increasing even when the clock stands still. */
  nextJid(nowMs: number): string {
    let jid = BigInt(jidFromMs(nowMs));
    if (jid <= this.lastJid) jid = this.lastJid + 1n;
    this.lastJid = jid;
    return jid.toString();
  }

  add(job: JobRecord): void {
    this.jobs.set(job.jid, job);
    if (this.jobs.size > this.maxJobs) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) this.jobs.delete(oldest);
    }
  }

  get(jid: string): JobRecord | undefined {
    return this.jobs.get(jid);
  }

  all(): IterableIterator<JobRecord> {
    return this.jobs.values();
  }
}

/** `info[0]` of GET /jobs/<jid> and the runner jobs.list_job. */
export function jobInfo(job: JobRecord): Record<string, unknown> {
  return {
    jid: job.jid,
    Function: job.fun,
    Arguments: job.arguments,
    Target: job.tgt,
    'Target-type': job.tgtType,
    User: job.user,
    StartTime: jidToTime(job.jid),
    Minions: job.minions,
    Result: Object.fromEntries(
      [...job.returns].map(([mid, r]) => [mid, { return: r.ret, retcode: r.retcode, success: r.success }]),
    ),
  };
}

/** salt/runners/jobs.py's text when the job cache has no load for a jid. */
export const NO_SUCH_JOB = 'Cannot contact returner or no job with this jid';

/**
 * The jobs.list_job runner: the job's load formatted (or `Error` when the cache has none), its StartTime, and
 * `Result` read separately from the returns — so a lost load (fault `loadMissing`) still has its returns.
 */
export function listJob(job: JobRecord | undefined, jid: string, fault?: JobFaultKind): Record<string, unknown> {
  if (!job || fault === 'cacheUnreachable') return { jid, Error: NO_SUCH_JOB, StartTime: jidToTime(jid), Result: {} };
  const info = jobInfo(job);
  if (fault === 'loadMissing') return { jid, Error: NO_SUCH_JOB, StartTime: info.StartTime, Result: info.Result };
  return info;
}

/** salt-api's Jobs.GET: `return[0]` is built from `info[0].Result` (each minion's `return`). */
export function returnsFromResult(info: Record<string, unknown>): Record<string, unknown> {
  const result = info.Result && typeof info.Result === 'object' ? (info.Result as Record<string, { return?: unknown }>) : {};
  return Object.fromEntries(Object.entries(result).map(([mid, r]) => [mid, r.return]));
}

export function jobReturns(job: JobRecord): Record<string, unknown> {
  return Object.fromEntries([...job.returns].map(([mid, r]) => [mid, r.ret]));
}
