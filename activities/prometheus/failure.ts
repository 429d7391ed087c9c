// Bridge to Temporal for the activity layer, like the UYUNI and Salt ones: a PrometheusError becomes
// an ApplicationFailure with the error's stable `type` and `nonRetryable = !retryable`.
import { ApplicationFailure } from '@temporalio/common';
import {
  isPrometheusError,
  PrometheusNoDataError,
  PrometheusProtocolError,
  PrometheusQueryError,
  PrometheusUnavailableError,
  type PrometheusError,
} from './errors.js';

export interface PrometheusFailureDetails {
  instance?: string;
  query?: string;
  reason?: string;
  errorType?: string;
  status?: number;
  code?: string;
}

export function prometheusFailureDetails(error: PrometheusError): PrometheusFailureDetails {
  const details: PrometheusFailureDetails = {};
  if (error instanceof PrometheusNoDataError) {
    details.instance = error.instance;
    details.query = error.query;
    details.reason = error.reason;
  }
  if (error instanceof PrometheusQueryError) {
    details.errorType = error.errorType;
    details.status = error.status;
    details.query = error.query;
  }
  if (error instanceof PrometheusUnavailableError) {
    if (error.status !== undefined) details.status = error.status;
    if (error.code !== undefined) details.code = error.code;
  }
  if (error instanceof PrometheusProtocolError && error.status !== undefined) details.status = error.status;
  return details;
}

/** Maps PrometheusErrors to ApplicationFailure; anything else is returned unchanged for the caller to rethrow. */
export function toApplicationFailure(error: unknown): unknown {
  if (!isPrometheusError(error)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    details: [prometheusFailureDetails(error)],
  });
}
