/**
 * Evaluates a LabQuery straight from the fleet: the values a real Prometheus scraping the lab's
 * exporters converges to. Down systems have no fresh samples (`[]`) except for `up`, which is 0.
 */
import type { Fleet, LabSystem } from '../fleet/index.js';
import { matches, type LabQuery } from './promql.js';

export interface SeriesSource {
  readonly fleet: Fleet;
  /** The instance label of a system (`<ip>:<exporter port>`). */
  instanceOf(sys: LabSystem): string;
  /** Target labels besides instance (default `{job: 'node'}`). */
  readonly targetLabels?: Readonly<Record<string, string>>;
  /** Systems with a scrape target; all by default. */
  readonly systems?: readonly LabSystem[];
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

function percent(x: number): number {
  // Keep the fleet's 0.1 resolution: avoids 23.400000000000002 from the arithmetic.
  return Math.round(x * 1e9) / 1e9;
}

/** `atFleetMs` is the evaluation time on the fleet's clock. */
export function evaluate(src: SeriesSource, q: LabQuery, atFleetMs: number): Sample[] {
  const { fleet } = src;
  fleet.tick();
  const target = { job: 'node', ...src.targetLabels };
  const out: Sample[] = [];
  for (const sys of src.systems ?? fleet.systems) {
    const labels = { ...target, instance: src.instanceOf(sys) };
    if (!matches(q.matchers, labels)) continue;
    if (q.kind === 'up') {
      out.push({ metric: { __name__: 'up', ...labels }, value: sys.up ? 1 : 0 });
      continue;
    }
    if (!sys.up) continue;
    const m = fleet.metrics(sys.id, atFleetMs);
    // Aggregation `avg by (instance)` keeps only instance; a binary operation drops __name__.
    if (q.kind === 'cpu') out.push({ metric: { instance: labels.instance }, value: percent(m.cpuPercent) });
    else out.push({ metric: labels, value: percent(m.memoryPercent) });
  }
  return out;
}

/** Prometheus renders sample values as strings, NaN and ±Inf included. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
