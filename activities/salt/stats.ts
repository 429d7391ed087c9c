// Per-client counters, always on: the activity layer logs them and tests assert on them (one shared
// login, one re-login per rejected token).

export interface SaltClientStats {
  /** HTTP requests per salt function or endpoint (`/login`, `/jobs`, `test.ping`), retries counted. */
  calls: Record<string, number>;
  totalCalls: number;
  logins: number;
  /** Logins caused by salt-api rejecting a token with 401. */
  relogins: number;
  /** GET /jobs/<jid> polls made by waitForJob. */
  jobPolls: number;
}

export class SaltCallStats {
  private readonly calls = new Map<string, number>();
  private totalCalls = 0;
  private jobPolls = 0;

  countCall(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    this.totalCalls++;
  }

  countPoll(): void {
    this.jobPolls++;
  }

  snapshot(session: { logins: number; relogins: number }): SaltClientStats {
    return {
      calls: Object.fromEntries(this.calls),
      totalCalls: this.totalCalls,
      logins: session.logins,
      relogins: session.relogins,
      jobPolls: this.jobPolls,
    };
  }
}
