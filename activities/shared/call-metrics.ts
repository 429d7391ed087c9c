import { Counter, Histogram, type Registry } from 'prom-client';
import type { CallObserver } from './call-observer.js';

// UYUNI / salt-api / Prometheus calls of this worker process, as they happen: counts by outcome, errors by
// type and latency. Served on the worker's metrics port beside the Temporal SDK's series.

const MAX_METHODS = 200;

/** The error's class name (UyuniFault, SaltAuthError, PrometheusUnavailableError, ...): a small, fixed set. */
function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor.name || error.name || 'Error';
  return typeof error;
}

export function createCallMetrics(registry: Registry): CallObserver {
  const calls = new Counter({
    name: 'spm_external_calls_total',
    help: 'Calls to UYUNI (XML-RPC method), salt-api (function or endpoint) and Prometheus (API path), by outcome',
    labelNames: ['system', 'method', 'outcome'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'spm_external_call_errors_total',
    help: 'Failed calls to UYUNI, salt-api and Prometheus by error type',
    labelNames: ['system', 'method', 'error'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'spm_external_call_duration_seconds',
    help: 'Latency of calls to UYUNI, salt-api and Prometheus',
    labelNames: ['system', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const methods = new Set<string>();
  return ({ system, method, seconds, error }) => {
    // A method name comes from our own code, but cap the label set anyway.
    const key = `${system}:${method}`;
    if (!methods.has(key)) {
      if (methods.size >= MAX_METHODS) method = 'other';
      else methods.add(key);
    }
    calls.inc({ system, method, outcome: error === undefined ? 'ok' : 'error' });
    duration.observe({ system, method }, seconds);
    if (error !== undefined) errors.inc({ system, method, error: errorType(error) });
  };
}
