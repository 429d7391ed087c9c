/**
 * node_cpu_seconds_total for a simulated system: per-CPU counters that grow by (1 - cpu%) per
 * second in `idle` and by cpu% (split over the busy modes) elsewhere, integrated lazily at each
 * read with the CPU % the fleet reports at that moment. So
 * `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[w])))` is the fleet's
 * CPU %. Counters restart from the uptime when the boot time changes (a reboot), as on Linux.
 */
export const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const;
export type CpuMode = (typeof CPU_MODES)[number];

/** How busy time splits over the non-idle modes (sums to 1). */
const BUSY_SHARES: Readonly<Record<Exclude<CpuMode, 'idle'>, number>> = {
  user: 0.62,
  system: 0.22,
  iowait: 0.05,
  softirq: 0.04,
  irq: 0.03,
  nice: 0.02,
  steal: 0.02,
};

export type CpuSeconds = Record<CpuMode, number>;

interface SystemCounters {
  bootTimeSec: number;
  lastMs: number;
  perCpu: CpuSeconds[];
}

function advance(c: CpuSeconds, seconds: number, busyFraction: number): void {
  c.idle += seconds * (1 - busyFraction);
  for (const [mode, share] of Object.entries(BUSY_SHARES) as [Exclude<CpuMode, 'idle'>, number][]) c[mode] += seconds * busyFraction * share;
}

export class CpuCounters {
  private readonly bySystem = new Map<number, SystemCounters>();

  /** `clock` drives the counters (wall clock by default: what a scraper's rate() divides by). */
  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Counters now. `uptimeSec` seeds fresh counters (first read, or after a reboot) as if the
   * system had run at this CPU % since boot; only their growth matters to rate().
   */
  read(systemId: number, cpus: number, cpuPercent: number, bootTimeSec: number, uptimeSec: number): readonly CpuSeconds[] {
    const now = this.clock();
    const busy = Math.min(1, Math.max(0, cpuPercent / 100));
    let s = this.bySystem.get(systemId);
    if (!s || s.bootTimeSec !== bootTimeSec || s.perCpu.length !== cpus) {
      const perCpu: CpuSeconds[] = [];
      for (let i = 0; i < cpus; i++) {
        const c: CpuSeconds = { idle: 0, iowait: 0, irq: 0, nice: 0, softirq: 0, steal: 0, system: 0, user: 0 };
        // A little skew per CPU so the series are not identical; it does not change the rates.
        advance(c, Math.max(0, uptimeSec) + i * 3.7, busy);
        perCpu.push(c);
      }
      s = { bootTimeSec, lastMs: now, perCpu };
      this.bySystem.set(systemId, s);
      return s.perCpu;
    }
    const dt = Math.max(0, now - s.lastMs) / 1000;
    s.lastMs = Math.max(s.lastMs, now);
    if (dt > 0) for (const c of s.perCpu) advance(c, dt, busy);
    return s.perCpu;
  }
}
