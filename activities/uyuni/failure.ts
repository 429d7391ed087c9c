// Bridge to Temporal for the activity layer: a UyuniError becomes an ApplicationFailure whose
// `type` is the error's stable type and whose `nonRetryable` mirrors `retryable`. Details carry
// only the structured, already-redacted fields (never a cause chain: it could hold request data).
import { ApplicationFailure } from '@temporalio/common';
import {
  UyuniFault,
  UyuniHttpError,
  UyuniNotFoundError,
  UyuniProgrammingError,
  UyuniProtocolError,
  UyuniTimeoutError,
  UyuniTransportError,
  type UyuniError,
} from './errors.js';
import { isUyuniError } from './errors.js';

export interface UyuniFailureDetails {
  method?: string;
  faultCode?: number;
  faultString?: string;
  status?: number;
  kind?: string;
  subject?: string;
  code?: string;
  timeoutMs?: number;
  truncated?: boolean;
}

export function uyuniFailureDetails(error: UyuniError): UyuniFailureDetails {
  const details: UyuniFailureDetails = {};
  if (error.method !== undefined) details.method = error.method;
  if (error instanceof UyuniFault || error instanceof UyuniProgrammingError) {
    if (error.faultCode !== undefined) details.faultCode = error.faultCode;
    if (error.faultString !== undefined) details.faultString = error.faultString;
  }
  if (error instanceof UyuniNotFoundError) {
    details.kind = error.kind;
    if (error.subject !== undefined) details.subject = error.subject;
  }
  if (error instanceof UyuniHttpError) details.status = error.status;
  if (error instanceof UyuniTransportError && error.code !== undefined) details.code = error.code;
  if (error instanceof UyuniTimeoutError) details.timeoutMs = error.timeoutMs;
  if (error instanceof UyuniProtocolError) details.truncated = error.truncated;
  return details;
}

/** Maps UyuniErrors to ApplicationFailure; anything else is returned unchanged for the caller to rethrow. */
export function toApplicationFailure(error: unknown): unknown {
  if (!isUyuniError(error)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    details: [uyuniFailureDetails(error)],
  });
}
