// Turns salt-api bodies into typed per-minion results. The point of full_return: `false` for a
// minion is ambiguous in a plain `local` reply (no answer, or a function that returned false); with
// full_return a real return is `{ret, retcode, jid, ...}` and a non-responder stays a plain `false`.
// Minion-side failures arrive as values, not HTTP errors (reference §1.4), so they are detected here.
import type { SaltExecutionReason } from './errors.js';
import { SaltProtocolError } from './errors.js';
import type { AsyncJob, MinionResult, MinionResults, SaltJob } from './types.js';

const NOT_AVAILABLE = /^'[^']+' is not available\./;
const INVALID_ARGUMENTS = /^Passed invalid arguments/;
const ERROR_PREFIX = /^ERROR/;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `"'x.y' is not available."` and the sys.doc variant (`{ "x.y": "'x.y' is not available." }`). */
function unavailableText(ret: unknown, fun: string): string | undefined {
  if (typeof ret === 'string') return NOT_AVAILABLE.test(ret) ? ret : undefined;
  if (isRecord(ret)) {
    const entry = ret[fun];
    if (typeof entry === 'string' && NOT_AVAILABLE.test(entry)) return entry;
  }
  return undefined;
}

function describe(ret: unknown): string {
  if (typeof ret === 'string') return ret;
  try {
    return JSON.stringify(ret) ?? String(ret);
  } catch {
    return String(ret);
  }
}

/**
 * Classifies one minion's return. Failure is: not available, invalid arguments, an `ERROR...`
 * string, a non-zero retcode, or `success: false` (job cache entries carry it).
 */
export function classifyReturn(
  fun: string,
  ret: unknown,
  retcode: number | undefined,
  success: boolean | undefined,
  redact: (text: string) => string,
): MinionResult {
  const error = (reason: SaltExecutionReason, text: string): MinionResult => ({
    kind: 'error',
    message: redact(text),
    retcode,
    reason,
    ret,
  });
  const unavailable = unavailableText(ret, fun);
  if (unavailable !== undefined) return error('unavailable', unavailable);
  if (typeof ret === 'string' && INVALID_ARGUMENTS.test(ret)) return error('invalid-arguments', ret);
  if (typeof ret === 'string' && ERROR_PREFIX.test(ret)) return error('failed', ret);
  if ((retcode !== undefined && retcode !== 0) || success === false) return error('failed', describe(ret));
  return { kind: 'ok', ret, retcode: retcode ?? 0 };
}

function optionalInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** `{"return":[X, ...]}` → X, the element for our single lowstate chunk. */
export function firstReturn(body: unknown, fun: string): unknown {
  if (!isRecord(body) || !Array.isArray(body.return) || body.return.length === 0) {
    throw new SaltProtocolError('response has no `return` list', { fun });
  }
  return body.return[0];
}

/** A `local` reply with full_return: one entry per minion that the master heard about. */
export function parseFullReturn(body: unknown, fun: string, redact: (text: string) => string): MinionResults {
  const map = firstReturn(body, fun);
  if (!isRecord(map)) throw new SaltProtocolError('`return[0]` is not a minion map', { fun });
  const results: MinionResults = {};
  for (const [minion, value] of Object.entries(map)) {
    if (value === false) {
      results[minion] = { kind: 'no-answer' };
    } else if (isRecord(value) && 'ret' in value) {
      results[minion] = classifyReturn(fun, value.ret, optionalInt(value.retcode), typeof value.success === 'boolean' ? value.success : undefined, redact);
    } else {
      throw new SaltProtocolError(`minion ${minion}: expected a full_return object or false`, { fun });
    }
  }
  return results;
}

/** `local_async`: `{jid, minions}`, or `{}` when the target matched no accepted minion. */
export function parseAsyncJob(body: unknown, fun: string): AsyncJob {
  const value = firstReturn(body, fun);
  if (!isRecord(value)) throw new SaltProtocolError('`return[0]` is not an object', { fun });
  if (Object.keys(value).length === 0) return { jid: null, minions: [] };
  const { jid, minions } = value;
  if (typeof jid !== 'string' || jid === '' || !Array.isArray(minions) || !minions.every((m) => typeof m === 'string')) {
    throw new SaltProtocolError('local_async reply lacks jid/minions', { fun });
  }
  return { jid, minions: minions as string[] };
}

/**
 * `GET /jobs/<jid>`: `info[0]` describes the job (`Minions` expected, `Result` with retcodes),
 * `return[0]` maps the minions that returned so far. An unknown jid has `info[0].Error`.
 */
export function parseJob(body: unknown, jid: string, redact: (text: string) => string): SaltJob {
  const name = '/jobs';
  const returned = firstReturn(body, name);
  const infoList = isRecord(body) ? body.info : undefined;
  const info = Array.isArray(infoList) ? (infoList[0] as unknown) : undefined;
  if (!isRecord(info)) throw new SaltProtocolError(`job ${jid}: response has no info[0]`, { fun: name });
  if (typeof info.Error === 'string') {
    throw new SaltProtocolError(`job ${jid} unknown to the job cache: ${redact(info.Error)}`, { fun: name });
  }
  const fun = typeof info.Function === 'string' ? info.Function : undefined;
  const minions = Array.isArray(info.Minions) ? info.Minions.filter((m): m is string => typeof m === 'string') : [];
  const detail = isRecord(info.Result) ? info.Result : {};
  const results: MinionResults = {};
  const returnMap = isRecord(returned) ? returned : {};
  for (const minion of new Set([...Object.keys(returnMap), ...Object.keys(detail)])) {
    const entry = detail[minion];
    const full = isRecord(entry) ? entry : undefined;
    const ret = full !== undefined && 'return' in full ? full.return : returnMap[minion];
    results[minion] = classifyReturn(
      fun ?? '',
      ret,
      optionalInt(full?.retcode),
      typeof full?.success === 'boolean' ? full.success : undefined,
      redact,
    );
  }
  return {
    jid,
    fun,
    target: info.Target,
    targetType: typeof info['Target-type'] === 'string' ? info['Target-type'] : undefined,
    startTime: typeof info.StartTime === 'string' ? info.StartTime : undefined,
    minions,
    results,
  };
}
