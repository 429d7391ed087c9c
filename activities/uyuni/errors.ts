// Error taxonomy of the UYUNI client. Every error carries a stable `type` (equal to its class name,
// but a literal so minification can't change it) and `retryable`, which is all the activity layer
// needs to build a Temporal ApplicationFailure. Messages are built from already-redacted text:
// callers pass fault strings through the client's Redactor before they get here.

export type UyuniErrorType =
  | 'UyuniTransportError'
  | 'UyuniTlsError'
  | 'UyuniTimeoutError'
  | 'UyuniHttpError'
  | 'UyuniProtocolError'
  | 'UyuniFault'
  | 'UyuniSessionError'
  | 'UyuniAuthError'
  | 'UyuniNotFoundError'
  | 'UyuniInvalidErrataError'
  | 'UyuniModulesNotAllowedError'
  | 'UyuniRetractedErrataError'
  | 'UyuniNotInMaintenanceError'
  | 'UyuniProgrammingError';

export abstract class UyuniError extends Error {
  abstract readonly type: UyuniErrorType;
  abstract readonly retryable: boolean;
  /** XML-RPC method name (never its parameters: they contain the session key or the password). */
  readonly method: string | undefined;

  protected constructor(message: string, method: string | undefined, cause?: unknown) {
    super(method === undefined ? message : `${method}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.method = method;
  }
}

/** Connection refused/reset, DNS failure, socket closed mid-response: worth retrying. */
export class UyuniTransportError extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniTransportError';
  readonly retryable: boolean = true;
  readonly code: string | undefined;

  constructor(message: string, options: { method?: string; code?: string; cause?: unknown } = {}) {
    super(message, options.method, options.cause);
    this.code = options.code;
  }
}

/** Certificate verification failed: a configuration problem (CA bundle, hostname), retrying won't fix it. */
export class UyuniTlsError extends UyuniTransportError {
  override readonly type: UyuniErrorType = 'UyuniTlsError';
  override readonly retryable: boolean = false;
}

export class UyuniTimeoutError extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniTimeoutError';
  readonly retryable: boolean = true;
  readonly timeoutMs: number;

  constructor(timeoutMs: number, method?: string) {
    super(`no complete response within ${timeoutMs} ms`, method);
    this.timeoutMs = timeoutMs;
  }
}

export class UyuniHttpError extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniHttpError';
  readonly retryable: boolean;
  readonly status: number;

  constructor(status: number, detail: string, method?: string) {
    super(`HTTP ${status}${detail === '' ? '' : `: ${detail}`}`, method);
    this.status = status;
    // 5xx: server or proxy trouble; 408/429: the server asked us to come back later.
    this.retryable = status >= 500 || status === 408 || status === 429;
  }
}

/**
 * The body is not a valid XML-RPC methodResponse. `truncated` (the body doesn't end with
 * `</methodResponse>`) is what a flaky proxy or a dropped connection produces, so it is retryable;
 * a complete-but-wrong body (HTML error page, unknown tag, bad scalar) will be wrong again.
 */
export class UyuniProtocolError extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniProtocolError';
  readonly retryable: boolean;
  readonly truncated: boolean;

  constructor(message: string, options: { method?: string; truncated?: boolean } = {}) {
    super(message, options.method);
    this.truncated = options.truncated ?? false;
    this.retryable = this.truncated;
  }
}

/** Misuse of the API that no retry fixes: null parameters, unknown method/overload, closed client. */
export class UyuniProgrammingError extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniProgrammingError';
  readonly retryable: boolean = false;
  readonly faultCode: number | undefined;
  readonly faultString: string | undefined;

  constructor(message: string, options: { method?: string; faultCode?: number; faultString?: string } = {}) {
    super(message, options.method);
    this.faultCode = options.faultCode;
    this.faultString = options.faultString;
  }
}

/** A `<fault>` the classification below has no specific class for. */
export class UyuniFault extends UyuniError {
  readonly type: UyuniErrorType = 'UyuniFault';
  readonly retryable: boolean;
  readonly faultCode: number;
  /** The fault text as sent, with the password and session keys redacted. */
  readonly faultString: string;

  constructor(faultCode: number, faultString: string, method?: string) {
    super(`fault ${faultCode}: ${faultString}`, method);
    this.faultCode = faultCode;
    this.faultString = faultString;
    // 2802 = Taskomatic (the scheduler backend) unreachable: transient by nature.
    this.retryable = faultCode === 2802;
  }
}

/** Session unknown/expired. The session cache re-logs in once; it only escapes if that didn't help. */
export class UyuniSessionError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniSessionError';
  override readonly retryable: boolean = true;
}

/** Login refused (2950): wrong credentials or disabled account. */
export class UyuniAuthError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniAuthError';
  override readonly retryable: boolean = false;
}

export type UyuniNotFoundKind = 'advisory' | 'system' | 'action' | 'group';

export class UyuniNotFoundError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniNotFoundError';
  override readonly retryable: boolean = false;
  readonly kind: UyuniNotFoundKind;
  /** The advisory name / id that was not found, when the fault text names it. */
  readonly subject: string | undefined;

  constructor(kind: UyuniNotFoundKind, subject: string | undefined, faultCode: number, faultString: string, method?: string) {
    super(faultCode, faultString, method);
    this.kind = kind;
    this.subject = subject;
  }
}

/** 2600: an errata id is unknown, not applicable, or already scheduled for one of the systems. */
export class UyuniInvalidErrataError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniInvalidErrataError';
  override readonly retryable: boolean = false;
}

/**
 * 2107 (ModulesNotAllowedException): a target system is subscribed to a modular channel (RHEL 8/9 AppStream)
 * and the call did not pass `allowModules=true`. The same call fails the same way until the caller passes it,
 * so it is not retryable. UYUNI's text is the web UI's `packagelist.jsp.modulespresent` warning.
 */
export class UyuniModulesNotAllowedError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniModulesNotAllowedError';
  override readonly retryable: boolean = false;
}

/**
 * 2602 (RetractedErrataException, `api.errata.retractederrata` naming the errata ids): the set holds an erratum
 * its vendor retracted (uyuni-api.md §3.9). Never a generic failure: the advisory must not be applied anywhere
 * (the caller records the retraction); the same call fails the same way forever.
 */
export class UyuniRetractedErrataError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniRetractedErrataError';
  override readonly retryable: boolean = false;
}

/**
 * NotInMaintenanceModeException: the action's `earliest` falls outside the maintenance window of a schedule
 * assigned to a target (uyuni-api.md §3.8). Fault 1334 on older servers, 11334 in current code's translator;
 * `Schedules '<names>' are not matching date <date>` (uyuni MaintenanceManager). Scheduling into the next
 * window succeeds, so the caller reschedules rather than fails; retrying at the same time does not help.
 */
export class UyuniNotInMaintenanceError extends UyuniFault {
  override readonly type: UyuniErrorType = 'UyuniNotInMaintenanceError';
  override readonly retryable: boolean = false;
}

export function isUyuniError(error: unknown): error is UyuniError {
  return error instanceof UyuniError;
}

const ADVISORY_NOT_FOUND = /The patch (.+?) cannot be found/;
const NO_SUCH_SYSTEM = /No such system(?: - sid = (\d+))?/;
const SERVER_NOT_FOUND = /Could not find server (\d+)/;
const ACTION_NOT_FOUND = /Could not find action with id: (\d+)/;

/**
 * Maps a fault to its class per the reference's §2.3: by code first, then for Redstone's generic -1
 * by the exception text. `faultString` is used for classification as received; `redact` produces the
 * text that ends up in the error.
 */
export function classifyFault(
  faultCode: number,
  faultString: string,
  options: { method?: string; redact?: (text: string) => string } = {},
): UyuniFault | UyuniProgrammingError {
  const { method } = options;
  const text = options.redact ? options.redact(faultString) : faultString;
  switch (faultCode) {
    case 2950:
      return new UyuniAuthError(faultCode, text, method);
    case 2600:
      return new UyuniInvalidErrataError(faultCode, text, method);
    case 2107:
      return new UyuniModulesNotAllowedError(faultCode, text, method);
    case 2602:
      return new UyuniRetractedErrataError(faultCode, text, method);
    case 1334:
    case 11334:
      return new UyuniNotInMaintenanceError(faultCode, text, method);
    case 2700:
      return new UyuniNotFoundError('action', undefined, faultCode, text, method);
    case 2201:
      return new UyuniNotFoundError('group', undefined, faultCode, text, method);
    case -208: {
      const advisory = ADVISORY_NOT_FOUND.exec(text);
      if (advisory) return new UyuniNotFoundError('advisory', advisory[1], faultCode, text, method);
      const system = NO_SUCH_SYSTEM.exec(text);
      if (system) return new UyuniNotFoundError('system', system[1], faultCode, text, method);
      return new UyuniFault(faultCode, text, method);
    }
    case -1: {
      if (faultString.includes('Could not find session') || faultString.includes('InvalidSessionIdException')) {
        return new UyuniSessionError(faultCode, text, method);
      }
      if (faultString.includes('Could not find method')) {
        return new UyuniProgrammingError(`fault ${faultCode}: ${text}`, { method, faultCode, faultString: text });
      }
      const server = SERVER_NOT_FOUND.exec(text);
      if (server) return new UyuniNotFoundError('system', server[1], faultCode, text, method);
      const action = ACTION_NOT_FOUND.exec(text);
      if (action) return new UyuniNotFoundError('action', action[1], faultCode, text, method);
      // A server whose translator lacks the code surfaces the exception by name (uyuni-api.md §3.8/§3.9).
      if (faultString.includes('NotInMaintenanceModeException')) return new UyuniNotInMaintenanceError(faultCode, text, method);
      if (faultString.includes('RetractedErrataException')) return new UyuniRetractedErrataError(faultCode, text, method);
      return new UyuniFault(faultCode, text, method);
    }
    default:
      return new UyuniFault(faultCode, text, method);
  }
}
