// Turns salt-api bodies into typed per-minion results. The point of full_return: `false` for a
// minion is ambiguous in a plain `local` reply (no answer, or a function that returned false); with
// full_return a real return is `{ret, retcode, jid, ...}` and a non-responder stays a plain `false`.
// Minion-side failures arrive as values, not HTTP errors (reference §1.4), so they are detected here.
import type { SaltExecutionReason } from './errors.js';
import { SaltProtocolError } from './errors.js';
import type { AsyncJob, FunctionUnavailable, MinionResult, MinionResults, SaltJob } from './types.js';

const INVALID_ARGUMENTS = /^Passed invalid arguments/;
const ERROR_PREFIX = /^ERROR/;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// The loader's words for a function it cannot run (salt/loader/lazy.py missing_fun_string, salt/minion.py
// _thread_return): the module or function it names, and a reason when there is one.
const NOT_AVAILABLE = /^'([^']+)' is not available\.(?: Possible reasons: '([\s\S]*)')?$/;
const VIRTUAL_FALSE = /^'([^']+)' __virtual__ returned False(?:: ([\s\S]*))?$/;
const COMMAND_MISSING = /^Command required for '([^']+)' not found: ([\s\S]*)$/;
// CommandExecutionError / SaltInvocationError wrappers around the same text.
const WRAPPER = /^ERROR(?: executing '[^']+')?: /;

const moduleOf = (fun: string): string => fun.split('.')[0] ?? fun;

/**
 * Whether `text` says that `fun` cannot be run on this minion, in any of Salt's forms: `'<fun>' is not
 * available.` (unknown function, module absent; the loader may append `Possible reasons: '<error>'`),
 * `'<module>' __virtual__ returned False[: <reason>]` (the module refused to load, e.g. snapper without
 * python3-dbus), `Command required for '<fun>' not found: <error>`; bare or inside `ERROR: ` /
 * `ERROR executing '<fun>': `. The named function or module must be the one called (`fun` '' = unknown, any
 * name): a missing dependency named inside some other error is a failure of the call, not its absence.
 */
export function parseFunctionUnavailable(fun: string, text: string): FunctionUnavailable | undefined {
  const bare = text.replace(WRAPPER, '');
  const calledModule = fun === '' ? undefined : moduleOf(fun);
  let match = NOT_AVAILABLE.exec(bare);
  if (match) {
    const named = match[1] as string;
    if (fun !== '' && named !== fun) return undefined;
    return { module: moduleOf(named), function: named, form: 'not-available', ...(match[2] ? { detail: match[2] } : {}) };
  }
  match = VIRTUAL_FALSE.exec(bare);
  if (match) {
    const named = match[1] as string;
    if (calledModule !== undefined && named !== calledModule) return undefined;
    return { module: named, form: 'virtual', ...(match[2] ? { detail: match[2] } : {}) };
  }
  match = COMMAND_MISSING.exec(bare);
  if (match) {
    const named = match[1] as string;
    if (fun !== '' && named !== fun) return undefined;
    return { module: moduleOf(named), function: named, form: 'command-missing', detail: match[2] as string };
  }
  return undefined;
}

/** The string form, or the sys.doc variant (`{ "<fun>": "<missing text>", <neighbours' docs> }`). */
function unavailableIn(ret: unknown, fun: string): { text: string; unavailable: FunctionUnavailable } | undefined {
  const texts = typeof ret === 'string' ? [ret] : isRecord(ret) ? (fun === '' ? Object.values(ret) : [ret[fun]]) : [];
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    const unavailable = parseFunctionUnavailable(fun, text);
    if (unavailable !== undefined) return { text, unavailable };
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
 * Classifies one minion's return. Failure is: unavailable (parseFunctionUnavailable, whatever the retcode),
 * invalid arguments, an `ERROR...` string, a non-zero retcode, or `success: false` (job cache entries carry it).
 */
export function classifyReturn(
  fun: string,
  ret: unknown,
  retcode: number | undefined,
  success: boolean | undefined,
  redact: (text: string) => string,
): MinionResult {
  const error = (reason: SaltExecutionReason, text: string, unavailable?: FunctionUnavailable): MinionResult => ({
    kind: 'error',
    message: redact(text),
    retcode,
    reason,
    ret,
    ...(unavailable === undefined ? {} : { unavailable }),
  });
  const missing = unavailableIn(ret, fun);
  if (missing !== undefined) return error('unavailable', missing.text, redactUnavailable(missing.unavailable, redact));
  if (typeof ret === 'string' && INVALID_ARGUMENTS.test(ret)) return error('invalid-arguments', ret);
  if (typeof ret === 'string' && ERROR_PREFIX.test(ret)) return error('failed', ret);
  if ((retcode !== undefined && retcode !== 0) || success === false) return error('failed', describe(ret));
  return { kind: 'ok', ret, retcode: retcode ?? 0 };
}

function redactUnavailable(u: FunctionUnavailable, redact: (text: string) => string): FunctionUnavailable {
  return u.detail === undefined ? u : { ...u, detail: redact(u.detail) };
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
 * `return[0]` maps the minions that returned so far.
 *
 * `info[0].Error` ("Cannot contact returner or no job with this jid", salt/runners/jobs.py) only says the
 * job cache has no *load* for the jid: Function, Target and Minions are unknown. The returns come from a
 * separate read (`get_jid`) and can be there all the same, so they win: the job is parsed from them, with
 * `cacheError` set and no expected-minion list. An Error with no returns at all is a retryable
 * SaltProtocolError: the returner may be unreachable, or not have the job yet; a poll goes on until its deadline.
 */
export function parseJob(body: unknown, jid: string, redact: (text: string) => string): SaltJob {
  const name = '/jobs';
  const returned = firstReturn(body, name);
  const infoList = isRecord(body) ? body.info : undefined;
  const info = Array.isArray(infoList) ? (infoList[0] as unknown) : undefined;
  if (!isRecord(info)) throw new SaltProtocolError(`job ${jid}: response has no info[0]`, { fun: name });
  const cacheError = typeof info.Error === 'string' ? redact(info.Error) : undefined;
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
  if (cacheError !== undefined && Object.keys(results).length === 0) {
    throw new SaltProtocolError(`job ${jid} unknown to the job cache: ${cacheError}`, { fun: name, retryable: true });
  }
  return {
    jid,
    fun,
    target: info.Target,
    targetType: typeof info['Target-type'] === 'string' ? info['Target-type'] : undefined,
    startTime: typeof info.StartTime === 'string' ? info.StartTime : undefined,
    minions,
    results,
    ...(cacheError === undefined ? {} : { cacheError }),
  };
}
