// Host metrics for the before/after comparison, read from node_exporter series. Every reading is
// checked against `up` for the same instance and every gap is a PrometheusNoDataError: an empty
// vector after a reboot means "unknown", and treating it as 0 % would pass any verdict.
import type { PrometheusClient } from './client.js';
import { PrometheusNoDataError, PrometheusProtocolError } from './errors.js';
import { cpuPercentQuery, fleetCpuPercentQuery, fleetMemoryPercentQuery, memoryPercentQuery, upQuery, type SelectorOptions } from './promql.js';
import type { MatrixResult, NodeSnapshot, PromTime, QueryResult, RangeSeries, SnapshotSpec } from './types.js';

export type PromQuerier = Pick<PrometheusClient, 'query' | 'queryRange'>;

export interface InstantOptions {
  time?: PromTime;
}

export interface CpuOptions extends InstantOptions {
  /** rate() window; it must cover ≥ 2 scrapes (4 is better). Default 30s. */
  window?: string;
}

export interface SnapshotOptions {
  /** rate() window for the CPU series. Default 30s. */
  window?: string;
  /** End of the averaged range. Default now. */
  end?: PromTime;
  /** Fewest points per series to average; default half the points the range should hold. */
  minSamples?: number;
}

const DEFAULT_WINDOW = '30s';

/** Instances per fleet query: keeps the regex (and the POST body) small; Prometheus matches it per series. */
export const FLEET_CHUNK = 100;

/** Per instance, the CPU % and memory % points of a range, [epoch seconds, percent] (NaN kept: the judge removes it). */
export type FleetSeries = Map<string, { cpu: [number, number][]; memory: [number, number][] }>;

function toSeconds(time: PromTime): number {
  return time instanceof Date ? time.getTime() / 1000 : time;
}

/** Normalises both spec forms to a range and a step, refusing specs that cannot average anything. */
export function snapshotRange(spec: SnapshotSpec): { rangeSeconds: number; stepSeconds: number; expectedPoints: number } {
  let rangeSeconds: number;
  let stepSeconds: number;
  if ('samples' in spec) {
    if (!Number.isInteger(spec.samples) || spec.samples < 2) throw new TypeError('samples must be an integer >= 2');
    if (!(spec.intervalSeconds > 0)) throw new TypeError('intervalSeconds must be > 0');
    rangeSeconds = (spec.samples - 1) * spec.intervalSeconds;
    stepSeconds = spec.intervalSeconds;
  } else {
    if (!(spec.rangeSeconds > 0) || !Number.isFinite(spec.rangeSeconds)) throw new TypeError('rangeSeconds must be > 0');
    stepSeconds = spec.stepSeconds ?? Math.max(1, spec.rangeSeconds / 10);
    if (!(stepSeconds > 0) || stepSeconds > spec.rangeSeconds) throw new TypeError('stepSeconds must be > 0 and <= rangeSeconds');
    rangeSeconds = spec.rangeSeconds;
  }
  // The epsilon absorbs float division noise (0.3 / 0.1 = 2.9999999999999996).
  return { rangeSeconds, stepSeconds, expectedPoints: Math.floor(rangeSeconds / stepSeconds + 1e-9) + 1 };
}

export class NodeMetrics {
  constructor(
    private readonly prometheus: PromQuerier,
    private readonly selector: SelectorOptions = {},
  ) {}

  /** `up` for the instance: true when the last scrape succeeded. No series at all is no data. */
  async up(instance: string, options: InstantOptions = {}): Promise<boolean> {
    const query = upQuery(instance, this.selector);
    return (await this.instant(instance, query, options.time)) === 1;
  }

  async cpuPercent(instance: string, options: CpuOptions = {}): Promise<number> {
    return this.checkedInstant(instance, cpuPercentQuery(instance, options.window ?? DEFAULT_WINDOW, this.selector), options.time);
  }

  async memoryPercent(instance: string, options: InstantOptions = {}): Promise<number> {
    return this.checkedInstant(instance, memoryPercentQuery(instance, this.selector), options.time);
  }

  /**
   * CPU and memory averaged over a range, so one noisy scrape cannot decide a verdict. The target
   * must have been up for every point of the range, and each series must hold at least
   * `minSamples` points, all finite.
   */
  async snapshot(instance: string, spec: SnapshotSpec, options: SnapshotOptions = {}): Promise<NodeSnapshot> {
    const { rangeSeconds, stepSeconds, expectedPoints } = snapshotRange(spec);
    const minSamples = options.minSamples ?? Math.max(1, Math.ceil(expectedPoints / 2));
    const end = toSeconds(options.end ?? new Date());
    const start = end - rangeSeconds;
    const queries = {
      up: upQuery(instance, this.selector),
      cpu: cpuPercentQuery(instance, options.window ?? DEFAULT_WINDOW, this.selector),
      memory: memoryPercentQuery(instance, this.selector),
    };
    const [up, cpu, memory] = await Promise.all([
      this.prometheus.queryRange(queries.up, start, end, stepSeconds),
      this.prometheus.queryRange(queries.cpu, start, end, stepSeconds),
      this.prometheus.queryRange(queries.memory, start, end, stepSeconds),
    ]);
    const upSeries = onlySeries(instance, queries.up, up);
    const down = upSeries.values.find((s) => s.value !== 1);
    if (down !== undefined) {
      throw new PrometheusNoDataError(instance, queries.up, 'down', `up was ${down.value} at ${new Date(down.timestamp * 1000).toISOString()}`);
    }
    const cpuMean = average(instance, queries.cpu, cpu, minSamples);
    const memoryMean = average(instance, queries.memory, memory, minSamples);
    const points = (m: MatrixResult) => (m.result[0] as RangeSeries).values.map((v): [number, number] => [v.timestamp, v.value]);
    return {
      cpuPercent: cpuMean.mean,
      memoryPercent: memoryMean.mean,
      samples: Math.min(cpuMean.count, memoryMean.count),
      takenAt: new Date(end * 1000).toISOString(),
      from: new Date(start * 1000).toISOString(),
      series: { cpu: points(cpu), memory: points(memory) },
    };
  }

  /**
   * CPU % and memory % of many instances over one range, one query per metric per FLEET_CHUNK instances. An
   * instance without series (down for the whole range, or never scraped) is absent from the map: no data,
   * never 0 %. Points are only where Prometheus had a sample (a host down for part of the range has fewer).
   */
  async fleetRange(instances: readonly string[], range: { start: PromTime; end: PromTime; stepSeconds: number }, options: { window?: string } = {}): Promise<FleetSeries> {
    const out: FleetSeries = new Map();
    const unique = [...new Set(instances)];
    const window = options.window ?? DEFAULT_WINDOW;
    for (let i = 0; i < unique.length; i += FLEET_CHUNK) {
      const chunk = unique.slice(i, i + FLEET_CHUNK);
      const [cpu, memory] = await Promise.all([
        this.prometheus.queryRange(fleetCpuPercentQuery(chunk, window, this.selector), range.start, range.end, range.stepSeconds),
        this.prometheus.queryRange(fleetMemoryPercentQuery(chunk, this.selector), range.start, range.end, range.stepSeconds),
      ]);
      for (const [kind, matrix] of [['cpu', cpu], ['memory', memory]] as const) {
        for (const series of matrix.result) {
          const instance = series.metric.instance;
          if (instance === undefined) continue;
          const entry = out.get(instance) ?? { cpu: [], memory: [] };
          entry[kind].push(...series.values.map((v): [number, number] => [v.timestamp, v.value]));
          out.set(instance, entry);
        }
      }
    }
    return out;
  }

  /** A metric reading that only counts while `up == 1` for the same instance. */
  private async checkedInstant(instance: string, query: string, time: PromTime | undefined): Promise<number> {
    const upExpression = upQuery(instance, this.selector);
    const [upValue, value] = await Promise.all([this.instant(instance, upExpression, time), this.instant(instance, query, time)]);
    if (upValue !== 1) throw new PrometheusNoDataError(instance, upExpression, 'down', `up is ${upValue}`);
    return value;
  }

  /** The single finite value of an instant vector query. */
  private async instant(instance: string, query: string, time: PromTime | undefined): Promise<number> {
    const result: QueryResult = await this.prometheus.query(query, time);
    if (result.resultType !== 'vector') throw new PrometheusProtocolError(`expected a vector, got ${result.resultType} [query: ${query}]`);
    if (result.result.length === 0) throw new PrometheusNoDataError(instance, query, 'no-series', 'empty vector');
    if (result.result.length > 1) throw ambiguous(instance, query, result.result.length);
    const value = (result.result[0] as { value: number }).value;
    if (!Number.isFinite(value)) throw new PrometheusNoDataError(instance, query, 'nan', `value is ${value}`);
    return value;
  }
}

function ambiguous(instance: string, query: string, count: number): PrometheusProtocolError {
  return new PrometheusProtocolError(`${count} series match instance ${instance}; select a job too [query: ${query}]`);
}

function onlySeries(instance: string, query: string, matrix: MatrixResult): RangeSeries {
  if (matrix.result.length === 0) throw new PrometheusNoDataError(instance, query, 'no-series', 'empty matrix');
  if (matrix.result.length > 1) throw ambiguous(instance, query, matrix.result.length);
  return matrix.result[0] as RangeSeries;
}

function average(instance: string, query: string, matrix: MatrixResult, minSamples: number): { mean: number; count: number } {
  const { values } = onlySeries(instance, query, matrix);
  const bad = values.find((s) => !Number.isFinite(s.value));
  if (bad !== undefined) throw new PrometheusNoDataError(instance, query, 'nan', `value ${bad.value} at ${new Date(bad.timestamp * 1000).toISOString()}`);
  if (values.length < minSamples) {
    throw new PrometheusNoDataError(instance, query, 'sparse', `${values.length} points, at least ${minSamples} needed`);
  }
  return { mean: values.reduce((sum, s) => sum + s.value, 0) / values.length, count: values.length };
}
