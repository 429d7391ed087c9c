// NVD's rate limit, respected by construction: at most `limit` requests in any rolling `windowMs`
// (5 per 30 s without a key, 50 with one). Every request first takes a slot; a slot is a row in
// nvd_request_log taken under a transaction-scoped advisory lock, so every worker process (and the ops CLI)
// shares one window — a retried activity on another worker cannot add its own five. `marginMs` widens the
// window so the server, which counts arrivals, never sees six inside 30 s because one request travelled
// faster than the one before it.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { sleep } from '../shared/intel-http.js';

const defaultMargin = (windowMs: number) => Math.min(1_000, windowMs / 20);

export interface RateLimiter {
  /** Resolves once a request may be sent now (the slot is taken). */
  acquire(signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void>;
  readonly limit: number;
  readonly windowMs: number;
}

export interface RollingWindow {
  limit: number;
  windowMs: number;
  /** extra spacing beyond the window (default 1 s, at most a 20th of the window) */
  marginMs?: number;
}

/** The shared limiter: one window across every process that uses this database. */
export class PgRollingWindowLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly marginMs: number;
  private taken = 0;

  constructor(
    private readonly db: Kysely<Database>,
    w: RollingWindow,
  ) {
    this.limit = w.limit;
    this.windowMs = w.windowMs;
    this.marginMs = w.marginMs ?? defaultMargin(w.windowMs);
  }

  async acquire(signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    for (;;) {
      const waitMs = await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('spm.nvd-rate-limit'))`.execute(trx);
        const span = this.windowMs + this.marginMs;
        const { rows } = await sql<{ at: Date; now: Date }>`
          select at, clock_timestamp() as now from nvd_request_log
          where at > clock_timestamp() - make_interval(secs => ${span / 1000})
          order by at desc limit ${this.limit}`.execute(trx);
        if (rows.length < this.limit) {
          await sql`insert into nvd_request_log default values`.execute(trx);
          if (++this.taken % 200 === 0) await sql`delete from nvd_request_log where at < clock_timestamp() - interval '1 hour'`.execute(trx);
          return 0;
        }
        const oldest = rows[rows.length - 1]!;
        return Math.max(1, oldest.at.getTime() + span - oldest.now.getTime());
      });
      if (waitMs === 0) return;
      onWait?.(waitMs);
      await sleep(Math.min(waitMs, 5_000), signal);
    }
  }
}

/** The same rule inside one process (the offline tools and unit tests, which have no shared window). */
export class MemoryRollingWindowLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly marginMs: number;
  private readonly sent: number[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(w: RollingWindow, private readonly now: () => number = Date.now) {
    this.limit = w.limit;
    this.windowMs = w.windowMs;
    this.marginMs = w.marginMs ?? defaultMargin(w.windowMs);
  }

  acquire(signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    const next = this.chain.then(async () => {
      for (;;) {
        const span = this.windowMs + this.marginMs;
        const t = this.now();
        while (this.sent.length && this.sent[0]! <= t - span) this.sent.shift();
        if (this.sent.length < this.limit) {
          this.sent.push(t);
          return;
        }
        const waitMs = this.sent[0]! + span - t;
        onWait?.(waitMs);
        await sleep(waitMs, signal);
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
