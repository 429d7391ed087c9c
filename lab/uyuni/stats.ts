/**
 * Call counters per XML-RPC method, and per first argument after the session key (advisory name,
 * system id, each id of a list of system ids, ...), so tests can prove call patterns: one login per cycle, CVEs fetched only for
 * security advisories, each advisory fetched once.
 */
export interface CallStatsSnapshot {
  totalCalls: number;
  calls: Record<string, number>;
}

export interface MethodCallDetail {
  method: string;
  calls: number;
  byArgument: Record<string, number>;
}

export class CallStats {
  private readonly calls = new Map<string, number>();
  private readonly byArgument = new Map<string, Map<string, number>>();
  private total = 0;

  record(method: string, argument?: unknown): void {
    this.total++;
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    // A list of ids (system.scheduleApplyErrata's systems) counts once for each of them.
    const keys = Array.isArray(argument) ? argument.filter((a) => typeof a === 'number') : [argument];
    for (const a of keys) {
      if (typeof a !== 'string' && typeof a !== 'number') continue;
      let perArg = this.byArgument.get(method);
      if (!perArg) {
        perArg = new Map();
        this.byArgument.set(method, perArg);
      }
      const key = String(a);
      perArg.set(key, (perArg.get(key) ?? 0) + 1);
    }
  }

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  detail(method: string): MethodCallDetail {
    return { method, calls: this.count(method), byArgument: Object.fromEntries(this.byArgument.get(method) ?? []) };
  }

  snapshot(): CallStatsSnapshot {
    const calls = Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return { totalCalls: this.total, calls };
  }

  reset(): void {
    this.calls.clear();
    this.byArgument.clear();
    this.total = 0;
  }
}
