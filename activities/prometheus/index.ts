// Public surface of the Prometheus client module.
export { PrometheusClient, formatTime, type PrometheusClientOptions } from './client.js';
export { NodeMetrics, snapshotRange, type CpuOptions, type InstantOptions, type PromQuerier, type SnapshotOptions } from './metrics.js';
export {
  cpuPercentQuery,
  instanceMatchers,
  memoryPercentQuery,
  nodeInstance,
  promString,
  upQuery,
  type SelectorOptions,
} from './promql.js';
export { parseSampleValue } from './decode.js';
export type * from './types.js';
export { toApplicationFailure, prometheusFailureDetails, type PrometheusFailureDetails } from './failure.js';
export {
  isPrometheusError,
  PrometheusError,
  PrometheusNoDataError,
  PrometheusProtocolError,
  PrometheusQueryError,
  PrometheusUnavailableError,
  type NoDataReason,
  type PrometheusErrorType,
} from './errors.js';
