// Typed results of the Prometheus HTTP API (reference §2.1), with sample values already numbers.

export type Labels = Record<string, string>;

export interface Sample {
  /** Unix seconds, possibly fractional. */
  timestamp: number;
  /** `"NaN"` → NaN, `"+Inf"`/`"-Inf"` → ±Infinity. */
  value: number;
}

export interface InstantSample extends Sample {
  metric: Labels;
}

export interface RangeSeries {
  metric: Labels;
  values: Sample[];
}

export type VectorResult = { resultType: 'vector'; result: InstantSample[]; warnings: string[] };
export type MatrixResult = { resultType: 'matrix'; result: RangeSeries[]; warnings: string[] };
export type ScalarResult = { resultType: 'scalar'; result: Sample; warnings: string[] };
export type StringResult = { resultType: 'string'; result: { timestamp: number; value: string }; warnings: string[] };

export type QueryResult = VectorResult | MatrixResult | ScalarResult | StringResult;

/** A Date, or unix seconds (fractions allowed). */
export type PromTime = Date | number;

export interface NodeSnapshot {
  cpuPercent: number;
  memoryPercent: number;
  /** Points averaged (the smaller of the two series' counts). */
  samples: number;
  /** End of the averaged range, ISO 8601. */
  takenAt: string;
  /** Start of the averaged range, ISO 8601. */
  from?: string;
  /** The points averaged, [epoch seconds, value] (the evidence a verdict was based on). */
  series?: { cpu: [number, number][]; memory: [number, number][] };
}

/** Either n points `intervalSeconds` apart, or a range sampled every `stepSeconds` (default range/10). */
export type SnapshotSpec = { samples: number; intervalSeconds: number } | { rangeSeconds: number; stepSeconds?: number };
