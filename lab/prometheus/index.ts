/** Public surface of the lab's Prometheus side: the fallback query API and the real-Prometheus launcher. */
export { registerPrometheusApi, startPrometheusApi } from './api.js';
export type { EmptyResultMode, PrometheusApiOptions, PrometheusApiServer } from './api.js';
export { evaluate, formatSampleValue } from './evaluate.js';
export type { Sample, SeriesSource } from './evaluate.js';
export { matches, parseDuration, parseLabQuery, parseMatchers, PromQlError } from './promql.js';
export type { LabQuery, Matcher, MatchOp } from './promql.js';
export { findPrometheusBinary, prometheusConfig, PrometheusNotFoundError, startPrometheus } from './launcher.js';
export type { PrometheusOptions, RunningPrometheus } from './launcher.js';
