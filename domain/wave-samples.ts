// The samples a wave verdict compares (domain/judge.ts): every point of every system of a side, pooled per
// metric. Pure, no I/O.
//
// With a baseline window (the systems' own level before the wave was patched), each system's points become
// changes from its own baseline median: hosts of one group idle at different levels (5 % here, 30 % there),
// and raw levels would compare the canary's host with other hosts rather than the patch with no patch. The
// peers over the same window still carry what the whole group did meanwhile (a load peak), so the comparison
// stays patched vs unpatched over the same window — a difference in differences. Without a baseline, the raw
// levels are compared (Kayenta's canary-vs-baseline form, right when the hosts are alike).

export interface SystemSamples {
  systemId: number;
  /** The window's points (percent); NaN allowed (the judge removes it). */
  cpu: readonly number[];
  memory: readonly number[];
  /** The system's own points before the wave; given for every system or for none. */
  baseline?: { cpu: readonly number[]; memory: readonly number[] };
}

export interface PooledSamples {
  cpu: number[];
  memory: number[];
  /** Systems that gave no point to a metric (no samples in the window, or no baseline to compare with), per metric. */
  missing: { cpu: number[]; memory: number[] };
}

/** The median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? (finite[mid] as number) : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
}

/** Pools a side's systems per metric; `relative` subtracts each system's baseline median from its points. */
export function poolSamples(systems: readonly SystemSamples[], relative: boolean): PooledSamples {
  const out: PooledSamples = { cpu: [], memory: [], missing: { cpu: [], memory: [] } };
  for (const s of systems) {
    for (const metric of ['cpu', 'memory'] as const) {
      const points = s[metric];
      const level = relative ? median(s.baseline?.[metric] ?? []) : 0;
      if (!points.some(Number.isFinite) || !Number.isFinite(level)) {
        out.missing[metric].push(s.systemId);
        continue;
      }
      for (const v of points) out[metric].push(v - level);
    }
  }
  return out;
}
