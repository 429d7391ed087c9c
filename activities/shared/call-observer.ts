// A hook the UYUNI, salt-api and Prometheus clients call after every request, so the worker can count calls,
// errors and latency per method (activities/shared/call-metrics.ts) without the clients knowing prom-client.

export type ExternalSystem = 'uyuni' | 'salt' | 'prometheus';

export interface ObservedCall {
  system: ExternalSystem;
  /** The XML-RPC method, the salt function or endpoint, or the Prometheus API path. */
  method: string;
  seconds: number;
  /** Set when the call failed (a fault, a timeout, a refused connection). */
  error?: unknown;
}

export type CallObserver = (call: ObservedCall) => void;

/** Times `fn` and reports it; the observer never changes the call's result or error. */
export async function observed<T>(observer: CallObserver | undefined, system: ExternalSystem, method: string, fn: () => Promise<T>): Promise<T> {
  if (!observer) return fn();
  const started = performance.now();
  try {
    const result = await fn();
    safely(observer, { system, method, seconds: (performance.now() - started) / 1000 });
    return result;
  } catch (error) {
    safely(observer, { system, method, seconds: (performance.now() - started) / 1000, error });
    throw error;
  }
}

function safely(observer: CallObserver, call: ObservedCall): void {
  try {
    observer(call);
  } catch {
    // metrics must never break a call
  }
}
