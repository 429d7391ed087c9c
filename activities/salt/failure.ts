// Bridge to Temporal for the activity layer, like the UYUNI one: a SaltError becomes an
// ApplicationFailure whose `type` is the error's stable type and whose `nonRetryable` mirrors
// `retryable`. Details carry only structured, already-redacted fields (never a cause chain: it could
// hold request data).
import { ApplicationFailure } from '@temporalio/common';
import {
  isSaltError,
  SaltAuthError,
  SaltExecutionError,
  SaltFunctionUnavailableError,
  SaltHttpError,
  SaltNoAnswerError,
  SaltTimeoutError,
  SaltTransportError,
  type SaltError,
} from './errors.js';

export interface SaltFailureDetails {
  fun?: string;
  minion?: string;
  jid?: string;
  retcode?: number;
  reason?: string;
  status?: number;
  phase?: string;
  code?: string;
  timeoutMs?: number;
  /** For SaltFunctionUnavailableError: the module Salt named, the form, and its reason. */
  unavailable?: { module: string; function?: string; form: string; detail?: string };
}

export function saltFailureDetails(error: SaltError): SaltFailureDetails {
  const details: SaltFailureDetails = {};
  if (error.fun !== undefined) details.fun = error.fun;
  if (error instanceof SaltExecutionError) {
    details.minion = error.minion;
    details.reason = error.reason;
    if (error.retcode !== undefined) details.retcode = error.retcode;
  }
  if (error instanceof SaltFunctionUnavailableError) details.unavailable = { ...error.unavailable };
  if (error instanceof SaltNoAnswerError) {
    details.minion = error.minion;
    if (error.jid !== undefined) details.jid = error.jid;
  }
  if (error instanceof SaltAuthError) details.phase = error.phase;
  if (error instanceof SaltHttpError) details.status = error.status;
  if (error instanceof SaltTransportError && error.code !== undefined) details.code = error.code;
  if (error instanceof SaltTimeoutError) details.timeoutMs = error.timeoutMs;
  return details;
}

/** Maps SaltErrors to ApplicationFailure; anything else is returned unchanged for the caller to rethrow. */
export function toApplicationFailure(error: unknown): unknown {
  if (!isSaltError(error)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    details: [saltFailureDetails(error)],
  });
}
