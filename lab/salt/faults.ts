/**
 * Faults of salt-api's job cache, for GET /jobs/<jid> and the jobs.list_job runner (salt/runners/jobs.py):
 * - `loadMissing`: the cache has the minions' returns but not the job's load, so `info[0]` carries
 *   `Error: "Cannot contact returner or no job with this jid"` beside a filled `Result` (no Function, no
 *   Minions), as an external master_job_cache that lost or delayed the load write answers;
 * - `cacheUnreachable`: the returner cannot be read at all: the same Error and an empty Result.
 * Rules fire on the next N reads (of one jid, or of any), then expire.
 */
export type JobFaultKind = 'loadMissing' | 'cacheUnreachable';
export const JOB_FAULT_KINDS: readonly JobFaultKind[] = ['loadMissing', 'cacheUnreachable'];

export interface JobFaultSpec {
  kind: JobFaultKind;
  /** Only reads of this jid; any jid when omitted. */
  jid?: string;
  /** Reads it answers (default 1), or 'always' until cleared. */
  times?: number | 'always';
}

interface JobFaultRule {
  readonly id: number;
  readonly kind: JobFaultKind;
  readonly jid: string | undefined;
  remaining: number | 'always';
  fired: number;
}

export class JobCacheFaults {
  private rules: JobFaultRule[] = [];
  private nextId = 1;

  inject(spec: JobFaultSpec): { id: number } {
    if (!JOB_FAULT_KINDS.includes(spec.kind)) throw new RangeError(`unknown job cache fault: ${String(spec.kind)}`);
    const times = spec.times ?? 1;
    if (times !== 'always' && (!Number.isInteger(times) || times < 1)) throw new RangeError('times must be a positive integer or "always"');
    const rule: JobFaultRule = { id: this.nextId++, kind: spec.kind, jid: spec.jid, remaining: times, fired: 0 };
    this.rules.push(rule);
    return { id: rule.id };
  }

  /** The fault this read of `jid` gets, if any (consumes one shot). */
  take(jid: string): JobFaultKind | undefined {
    const rule = this.rules.find((r) => (r.jid === undefined || r.jid === jid) && (r.remaining === 'always' || r.remaining > 0));
    if (!rule) return undefined;
    if (rule.remaining !== 'always') rule.remaining--;
    rule.fired++;
    this.rules = this.rules.filter((r) => r.remaining === 'always' || r.remaining > 0);
    return rule.kind;
  }

  list(): Array<{ id: number; kind: JobFaultKind; jid?: string; remaining: number | 'always'; fired: number }> {
    return this.rules.map((r) => ({ id: r.id, kind: r.kind, ...(r.jid === undefined ? {} : { jid: r.jid }), remaining: r.remaining, fired: r.fired }));
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }
}
