// Error taxonomy of the Salt client, shaped like the UYUNI client's: every error carries a stable
// `type` (a literal, so minification can't change it) and `retryable`, which is all the activity
// layer needs to build a Temporal ApplicationFailure. Messages are built from already-redacted
// text: the client passes anything the server or a minion sent through its Redactor first.
import type { FunctionUnavailable } from './types.js';

export type SaltErrorType =
  | 'SaltAuthError'
  | 'SaltHttpError'
  | 'SaltTimeoutError'
  | 'SaltTransportError'
  | 'SaltExecutionError'
  | 'SaltFunctionUnavailableError'
  | 'SaltNoAnswerError'
  | 'SaltProtocolError';

export abstract class SaltError extends Error {
  abstract readonly type: SaltErrorType;
  abstract readonly retryable: boolean;
  /** Salt function (`pkg.install`) or salt-api endpoint (`/login`); never arguments or headers. */
  readonly fun: string | undefined;

  protected constructor(message: string, fun: string | undefined, cause?: unknown) {
    super(fun === undefined ? message : `${fun}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.fun = fun;
  }
}

/**
 * salt-api answered 401. On /login that means bad credentials, a user missing from external_auth,
 * or an eauth backend that is not configured; on a call it means a token that was rejected right
 * after a fresh login (the client already re-logged in once), typically an ACL that does not allow
 * the function. Neither gets better by retrying.
 */
export class SaltAuthError extends SaltError {
  readonly type: SaltErrorType = 'SaltAuthError';
  readonly retryable: boolean = false;
  readonly phase: 'login' | 'call';

  constructor(message: string, phase: 'login' | 'call', fun?: string) {
    super(message, fun);
    this.phase = phase;
  }
}

/** Any other non-2xx status. salt-api's 400/503/504 bodies are CherryPy HTML: the status decides. */
export class SaltHttpError extends SaltError {
  readonly type: SaltErrorType = 'SaltHttpError';
  readonly retryable: boolean;
  readonly status: number;

  constructor(status: number, detail: string, fun?: string) {
    super(`HTTP ${status}${detail === '' ? '' : `: ${detail}`}`, fun);
    this.status = status;
    // 5xx: master down (503) or a runner past rest_timeout (504); 408/429: come back later.
    // 400 (client disabled, bad lowstate) and 406 are configuration or programming errors.
    this.retryable = status >= 500 || status === 408 || status === 429;
  }
}

export class SaltTimeoutError extends SaltError {
  readonly type: SaltErrorType = 'SaltTimeoutError';
  readonly retryable: boolean = true;
  readonly timeoutMs: number;

  constructor(timeoutMs: number, fun?: string) {
    super(`no complete response within ${timeoutMs} ms`, fun);
    this.timeoutMs = timeoutMs;
  }
}

/** Connection refused/reset, DNS failure, TLS failure, socket closed mid-response. */
export class SaltTransportError extends SaltError {
  readonly type: SaltErrorType = 'SaltTransportError';
  readonly retryable: boolean = true;
  readonly code: string | undefined;

  constructor(message: string, options: { fun?: string; code?: string; cause?: unknown } = {}) {
    super(message, options.fun, options.cause);
    this.code = options.code;
  }
}

/**
 * Why a minion-side call failed: `failed` is an `"ERROR: ..."` string or a non-zero retcode,
 * `unavailable` is Salt saying the function cannot run there (unknown function, a module whose
 * __virtual__ refused to load, e.g. snapper without dbus, a missing command; results.ts
 * parseFunctionUnavailable), `invalid-arguments` is "Passed invalid arguments".
 */
export type SaltExecutionReason = 'failed' | 'unavailable' | 'invalid-arguments';

/** The function ran (or was refused) on the minion and reported failure. */
export class SaltExecutionError extends SaltError {
  readonly type: SaltErrorType = 'SaltExecutionError';
  readonly retryable: boolean;
  readonly minion: string;
  readonly retcode: number | undefined;
  readonly reason: SaltExecutionReason;

  constructor(
    minion: string,
    fun: string,
    detail: string,
    options: { retcode?: number; reason?: SaltExecutionReason; retryable?: boolean } = {},
  ) {
    super(`failed on ${minion}${options.retcode === undefined ? '' : ` (retcode ${options.retcode})`}: ${detail}`, fun);
    this.minion = minion;
    this.retcode = options.retcode;
    this.reason = options.reason ?? 'failed';
    // A failed pkg.install or a missing module fails the same way next time; callers that know
    // better (e.g. a dpkg lock) can say so.
    this.retryable = options.retryable ?? false;
  }
}

/**
 * The function cannot run on that minion (reason `unavailable`): what Salt named and why, so a caller can
 * fall back (snapper unavailable → the package restore point). `isSaltFunctionUnavailable` tests for it.
 */
export class SaltFunctionUnavailableError extends SaltExecutionError {
  override readonly type: SaltErrorType = 'SaltFunctionUnavailableError';
  readonly unavailable: FunctionUnavailable;

  constructor(minion: string, fun: string, detail: string, unavailable: FunctionUnavailable, options: { retcode?: number } = {}) {
    super(minion, fun, detail, { ...options, reason: 'unavailable', retryable: false });
    this.unavailable = unavailable;
  }
}

export function isSaltFunctionUnavailable(error: unknown): error is SaltFunctionUnavailableError {
  return error instanceof SaltFunctionUnavailableError;
}

/**
 * The minion did not answer in time (`false` in a full_return map, missing from it, missing from a
 * job's returns at the deadline) or is not among the accepted keys the target matched. Minions come
 * back (reboots, network blips), so this is retryable.
 */
export class SaltNoAnswerError extends SaltError {
  readonly type: SaltErrorType = 'SaltNoAnswerError';
  readonly retryable: boolean = true;
  readonly minion: string;
  readonly jid: string | undefined;

  constructor(minion: string, fun: string, options: { jid?: string; detail?: string } = {}) {
    super(`${minion} did not answer${options.jid === undefined ? '' : ` (jid ${options.jid})`}${options.detail === undefined ? '' : `: ${options.detail}`}`, fun);
    this.minion = minion;
    this.jid = options.jid;
  }
}

/** A 2xx body that isn't the documented shape (not JSON, no `return` list, wrong value types). */
export class SaltProtocolError extends SaltError {
  readonly type: SaltErrorType = 'SaltProtocolError';
  readonly retryable: boolean;

  constructor(message: string, options: { fun?: string; retryable?: boolean } = {}) {
    super(message, options.fun);
    // A truncated body (dropped connection) may be fine next time; a wrong shape will be wrong again.
    this.retryable = options.retryable ?? false;
  }
}

export function isSaltError(error: unknown): error is SaltError {
  return error instanceof SaltError;
}
