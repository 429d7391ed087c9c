// Is a test system at rest? The baseline a patch is judged against must describe the system as it runs
// normally — not the tail of an earlier test's spike, a rollback's reboot or a leak still climbing. A window
// of samples is *settled* when neither CPU nor memory moves by more than a tolerance across it.

export interface Series {
  cpu: readonly (readonly [number, number])[];
  memory: readonly (readonly [number, number])[];
}

export interface SettleTolerance {
  /** Largest allowed max − min of CPU % over the window, in percentage points. */
  cpuSpread: number;
  /** Largest allowed max − min of memory % over the window, in percentage points. */
  memorySpread: number;
  /** Fewest points per series for a judgement. */
  minSamples: number;
}

export interface SettleVerdict {
  settled: boolean;
  cpuSpread: number;
  memorySpread: number;
  /** Why the window is not settled; empty when it is. */
  reasons: string[];
}

const spread = (points: readonly (readonly [number, number])[]) => {
  const values = points.map(([, v]) => v);
  return values.length ? Math.round((Math.max(...values) - Math.min(...values)) * 1e6) / 1e6 : Number.NaN;
};

/** A spread exactly at its tolerance is settled; above it is not. Too few points are never settled. */
export function judgeSettled(series: Series, tolerance: SettleTolerance): SettleVerdict {
  const cpuSpread = spread(series.cpu);
  const memorySpread = spread(series.memory);
  const reasons: string[] = [];
  const fewest = Math.min(series.cpu.length, series.memory.length);
  if (fewest < tolerance.minSamples) reasons.push(`only ${fewest} samples, at least ${tolerance.minSamples} needed`);
  else {
    if (cpuSpread > tolerance.cpuSpread) reasons.push(`cpu moved ${cpuSpread} pp across the window (at most ${tolerance.cpuSpread} pp when at rest)`);
    if (memorySpread > tolerance.memorySpread) reasons.push(`memory moved ${memorySpread} pp across the window (at most ${tolerance.memorySpread} pp when at rest)`);
  }
  return { settled: reasons.length === 0, cpuSpread, memorySpread, reasons };
}

/**
 * A settled window is still no baseline when the system already runs above a ceiling (percent): whatever the
 * patch does, the after-metrics would be judged by the level the system had before it. Reasons, or none.
 */
export function aboveCeilings(level: { cpuPercent: number; memoryPercent: number }, ceilings: { cpu: number; memory: number }): string[] {
  const reasons: string[] = [];
  if (level.cpuPercent > ceilings.cpu) reasons.push(`cpu is at ${level.cpuPercent} % before the patch, above the ${ceilings.cpu} % ceiling`);
  if (level.memoryPercent > ceilings.memory) reasons.push(`memory is at ${level.memoryPercent} % before the patch, above the ${ceilings.memory} % ceiling`);
  return reasons;
}
