/**
 * The job cache: one record per published job with its expected minions and the returns so
 * far. `settled` resolves when every minion that will ever answer has answered — minions that
 * were down at publish time, or went down before finishing, never do (they stay missing from
 * `returns`, like a real job cache).
 */
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

/** salt.utils.jid.jid_to_time: "2026, Jan 01 12:00:00.123456". */
export function jidToTime(jid: string): string {
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

export function jobReturns(job: JobRecord): Record<string, unknown> {
  return Object.fromEntries([...job.returns].map(([mid, r]) => [mid, r.ret]));
}
