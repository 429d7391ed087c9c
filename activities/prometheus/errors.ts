// Error taxonomy of the Prometheus client, shaped like the UYUNI and Salt ones: a stable `type` and
// `retryable` per error, which is all the activity layer needs for a Temporal ApplicationFailure.
// The decisive rule for metric checks: missing data is an error (PrometheusNoDataError), never a
// zero and never a pass.

export type PrometheusErrorType =
  | 'PrometheusQueryError'
  | 'PrometheusUnavailableError'
  | 'PrometheusNoDataError'
  | 'PrometheusProtocolError';

export abstract class PrometheusError extends Error {
  abstract readonly type: PrometheusErrorType;
  abstract readonly retryable: boolean;

  protected constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

// bad_data (400: parse error, too many points) and execution (422: e.g. many-to-many matching) fail
// the same way every time; timeout/canceled/internal/unavailable (503, 499, 500) are server load.
const PERMANENT_ERROR_TYPES = new Set(['bad_data', 'execution', 'not_found']);

/** Prometheus answered `{"status":"error","errorType":...,"error":...}`. */
export class PrometheusQueryError extends PrometheusError {
  readonly type: PrometheusErrorType = 'PrometheusQueryError';
  readonly retryable: boolean;
  readonly errorType: string;
  readonly status: number;
  readonly query: string;

  constructor(errorType: string, detail: string, status: number, query: string) {
    super(`${errorType} (HTTP ${status}): ${detail} [query: ${query}]`);
    this.errorType = errorType;
    this.status = status;
    this.query = query;
    this.retryable = !PERMANENT_ERROR_TYPES.has(errorType);
  }
}

/** Connection refused/reset, timeout, or a non-Prometheus 5xx (proxy, /-/ready while starting). */
export class PrometheusUnavailableError extends PrometheusError {
  readonly type: PrometheusErrorType = 'PrometheusUnavailableError';
  readonly retryable: boolean = true;
  readonly code: string | undefined;
  readonly status: number | undefined;

  constructor(message: string, options: { code?: string; status?: number; cause?: unknown } = {}) {
    super(message, options.cause);
    this.code = options.code;
    this.status = options.status;
  }
}

/**
 * Why a metric has no usable value: `no-series` (empty vector: not scraped yet, stale, wrong
 * instance label), `nan`, `down` (`up == 0`) or `sparse` (a range with too few points to average).
 */
export type NoDataReason = 'no-series' | 'nan' | 'down' | 'sparse';

/** Retryable: the target may not have been scraped yet, or may be back after a reboot. */
export class PrometheusNoDataError extends PrometheusError {
  readonly type: PrometheusErrorType = 'PrometheusNoDataError';
  readonly retryable: boolean = true;
  readonly instance: string;
  readonly query: string;
  readonly reason: NoDataReason;

  constructor(instance: string, query: string, reason: NoDataReason, detail?: string) {
    super(`no data for instance ${instance} (${reason}${detail === undefined ? '' : `: ${detail}`}) [query: ${query}]`);
    this.instance = instance;
    this.query = query;
    this.reason = reason;
  }
}

/** A body that isn't the documented API (404 page, HTML, wrong resultType, several series for one host). */
export class PrometheusProtocolError extends PrometheusError {
  readonly type: PrometheusErrorType = 'PrometheusProtocolError';
  readonly retryable: boolean = false;
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export function isPrometheusError(error: unknown): error is PrometheusError {
  return error instanceof PrometheusError;
}
