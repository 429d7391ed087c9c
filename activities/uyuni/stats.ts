// Per-client counters: calls per method, decode volume and time. Cheap enough to be always on;
// the benchmark and the sync's progress reporting read them.

export interface UyuniClientStats {
  /** Calls per XML-RPC method, auth.login/auth.logout included, retries counted. */
  calls: Record<string, number>;
  totalCalls: number;
  /** Calls answered with a <fault>. */
  faults: number;
  logins: number;
  /** Logins caused by the server rejecting a session. */
  relogins: number;
  bytesDecoded: number;
  decodeMs: number;
  /** bytesDecoded / decodeMs in MB/s (10^6 bytes), 0 before the first decode. */
  decodeMBps: number;
}

export class CallStats {
  private readonly calls = new Map<string, number>();
  private totalCalls = 0;
  private faults = 0;
  private bytesDecoded = 0;
  private decodeMs = 0;

  countCall(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    this.totalCalls++;
  }

  countFault(): void {
    this.faults++;
  }

  recordDecode(bytes: number, ms: number): void {
    this.bytesDecoded += bytes;
    this.decodeMs += ms;
  }

  snapshot(session: { logins: number; relogins: number }): UyuniClientStats {
    return {
      calls: Object.fromEntries(this.calls),
      totalCalls: this.totalCalls,
      faults: this.faults,
      logins: session.logins,
      relogins: session.relogins,
      bytesDecoded: this.bytesDecoded,
      decodeMs: this.decodeMs,
      decodeMBps: this.decodeMs > 0 ? this.bytesDecoded / 1e6 / (this.decodeMs / 1000) : 0,
    };
  }
}
