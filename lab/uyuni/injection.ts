/**
 * Per-call latency and fault injection. Rules are one-shot by default, or N-times, or 'always';
 * the first matching rule with shots left fires. Faults short-circuit before the handler runs,
 * so an injected fault never has side effects on the fleet.
 */
export type InjectedFaultKind = 'slow' | 'http500' | 'sessionExpiry' | 'malformed' | 'hang';
export const INJECTED_FAULT_KINDS: readonly InjectedFaultKind[] = ['slow', 'http500', 'sessionExpiry', 'malformed', 'hang'];

export interface FaultSpec {
  /** Exact XML-RPC method name; omitted or '*' = any method. */
  method?: string;
  kind: InjectedFaultKind;
  /** How many calls it hits (default 1), or 'always' until cleared. */
  times?: number | 'always';
  /** Extra delay for kind 'slow' (default 1000 ms). */
  extraMs?: number;
}

export interface FaultRule {
  readonly id: number;
  readonly method: string;
  readonly kind: InjectedFaultKind;
  readonly times: number | 'always';
  readonly extraMs: number;
  remaining: number | 'always';
  fired: number;
}

export interface LatencyConfig {
  globalMs: number;
  perMethod: Record<string, number>;
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly firedByKind = new Map<InjectedFaultKind, number>();
  readonly latency: LatencyConfig;
  private readonly initialLatency: LatencyConfig;

  constructor(latency: Partial<LatencyConfig> = {}) {
    this.initialLatency = { globalMs: latency.globalMs ?? 0, perMethod: { ...(latency.perMethod ?? {}) } };
    this.latency = { globalMs: this.initialLatency.globalMs, perMethod: { ...this.initialLatency.perMethod } };
  }

  inject(spec: FaultSpec): FaultRule {
    if (!INJECTED_FAULT_KINDS.includes(spec.kind)) throw new RangeError(`unknown fault kind: ${String(spec.kind)}`);
    const times = spec.times ?? 1;
    if (times !== 'always' && (!Number.isInteger(times) || times < 1)) throw new RangeError('times must be a positive integer or "always"');
    const rule: FaultRule = {
      id: this.nextId++,
      method: spec.method ?? '*',
      kind: spec.kind,
      times,
      extraMs: spec.extraMs ?? (spec.kind === 'slow' ? 1000 : 0),
      remaining: times,
      fired: 0,
    };
    this.rules.push(rule);
    return { ...rule };
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /**
   * Consumes and returns the rule that applies to this call, if any. A sessionExpiry rule only
   * matches calls that carry a session key (auth.login has none to expire).
   */
  take(method: string, hasSession: boolean): FaultRule | undefined {
    const rule = this.rules.find(
      (r) => (r.method === '*' || r.method === method) && (r.remaining === 'always' || r.remaining > 0) && (r.kind !== 'sessionExpiry' || hasSession),
    );
    if (!rule) return undefined;
    if (rule.remaining !== 'always') rule.remaining -= 1;
    rule.fired += 1;
    this.firedByKind.set(rule.kind, (this.firedByKind.get(rule.kind) ?? 0) + 1);
    if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
    return { ...rule };
  }

  setLatency(patch: Partial<LatencyConfig>): LatencyConfig {
    if (patch.globalMs !== undefined) this.latency.globalMs = Math.max(0, patch.globalMs);
    if (patch.perMethod) {
      for (const [m, ms] of Object.entries(patch.perMethod)) {
        if (ms > 0) this.latency.perMethod[m] = ms;
        else delete this.latency.perMethod[m];
      }
    }
    return this.getLatency();
  }

  /** Back to the latency the lab was started with. */
  resetLatency(): LatencyConfig {
    this.latency.globalMs = this.initialLatency.globalMs;
    this.latency.perMethod = { ...this.initialLatency.perMethod };
    return this.getLatency();
  }

  getLatency(): LatencyConfig {
    return { globalMs: this.latency.globalMs, perMethod: { ...this.latency.perMethod } };
  }

  latencyFor(method: string): number {
    return this.latency.globalMs + (this.latency.perMethod[method] ?? 0);
  }

  firedCounts(): Record<string, number> {
    return Object.fromEntries(this.firedByKind);
  }

  resetCounts(): void {
    this.firedByKind.clear();
  }
}
