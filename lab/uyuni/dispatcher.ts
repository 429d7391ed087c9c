/**
 * Method dispatch the way UYUNI's BaseHandler does it: resolve the session first (so a dead key
 * wins over a wrong method), then pick the overload by argument count, then by argument types.
 * Serialized responses of read methods are cached until the fleet changes.
 */
import type { Fleet } from '../fleet/index.js';
import { encodeResponse } from './codec.js';
import { HANDLER_CLASSES, RpcFault, uyuniFaults } from './faults.js';
import type { ResponseCache } from './response-cache.js';
import type { SessionStore } from './sessions.js';

export type ParamType = 'session' | 'string' | 'int' | 'boolean' | 'dateTime' | 'array' | 'struct';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface HandlerContext {
  readonly fleet: Fleet;
  readonly sessions: SessionStore;
  readonly credentials: Credentials;
  /** Login of the session (empty for auth.login). */
  readonly login: string;
}

export interface Overload {
  /** Parameter types after conversion; 'session' is the resolved session key. */
  readonly params: readonly ParamType[];
  run(ctx: HandlerContext, args: unknown[]): unknown;
}

/**
 * 'fleet': cache until the fleet's version changes; 'static': errata metadata, never changes; 'errata':
 * errata metadata a retraction changes (advisory_status), cached until the next retraction; 'none': mutations
 * and auth.
 */
export type CachePolicy = 'fleet' | 'static' | 'errata' | 'none';

export interface MethodDef {
  readonly name: string;
  readonly cache: CachePolicy;
  readonly overloads: readonly Overload[];
}

export interface DispatchResult {
  readonly xml: string;
  readonly cached: boolean;
}

const USER_CLASS = 'com.redhat.rhn.domain.user.legacy.UserImpl';

export class Dispatcher {
  private readonly methods = new Map<string, MethodDef>();

  constructor(
    defs: readonly MethodDef[],
    private readonly base: Omit<HandlerContext, 'login'>,
    private readonly cache: ResponseCache,
  ) {
    for (const d of defs) this.methods.set(d.name, d);
  }

  has(method: string): boolean {
    return this.methods.has(method);
  }

  /** Runs one call and returns the serialized `<methodResponse>`; faults are thrown as RpcFault. */
  dispatch(method: string, params: unknown[]): DispatchResult {
    const dot = method.lastIndexOf('.');
    const namespace = dot > 0 ? method.slice(0, dot) : '';
    const short = method.slice(dot + 1);
    const handlerClass = HANDLER_CLASSES[namespace];
    if (!handlerClass) throw uyuniFaults.handlerNotFound(namespace || method);

    let login = '';
    let sessionResolved = false;
    if (namespace !== 'auth' && typeof params[0] === 'string') {
      login = this.base.sessions.touch(params[0]).login;
      sessionResolved = true;
    }

    const def = this.methods.get(method);
    const sameArity = def?.overloads.filter((o) => o.params.length === params.length) ?? [];
    const match = pick(sameArity, params, sessionResolved);
    if (!def || !match) {
      throw uyuniFaults.methodNotFound(short, handlerClass, params.map((p, i) => (i === 0 && sessionResolved ? USER_CLASS : javaType(p))));
    }

    const key = def.cache === 'none' ? undefined : cacheKey(method, sessionResolved ? params.slice(1) : params);
    // Versions below 0 never meet the fleet's: -1 static, -2 - n after the n-th retraction.
    const version = def.cache === 'static' ? -1 : def.cache === 'errata' ? -2 - this.base.fleet.retractions : this.base.fleet.version;
    if (key !== undefined) {
      const hit = this.cache.get(key, version);
      if (hit !== undefined) return { xml: hit, cached: true };
    }
    const value = match.overload.run({ ...this.base, login }, match.args);
    const xml = encodeResponse(value);
    // Reads never mutate, so the version read before running is still the right one.
    if (key !== undefined) this.cache.set(key, version, xml);
    return { xml, cached: false };
  }
}

function pick(
  overloads: readonly Overload[],
  params: unknown[],
  sessionResolved: boolean,
): { overload: Overload; args: unknown[] } | undefined {
  for (const strict of [true, false]) {
    for (const o of overloads) {
      const args = convert(o.params, params, strict, sessionResolved);
      if (args) return { overload: o, args };
    }
  }
  return undefined;
}

/** Exact match first; then UYUNI's lenient conversions (a numeric string for an int). */
function convert(types: readonly ParamType[], params: unknown[], strict: boolean, sessionResolved: boolean): unknown[] | undefined {
  const out: unknown[] = [];
  for (let i = 0; i < types.length; i++) {
    const t = types[i] as ParamType;
    const v = params[i];
    if (t === 'session') {
      if (!sessionResolved || i !== 0) return undefined;
      out.push(v);
      continue;
    }
    if (matches(t, v)) {
      out.push(v);
      continue;
    }
    if (!strict && t === 'int' && typeof v === 'string' && /^-?\d+$/.test(v)) {
      out.push(Number(v));
      continue;
    }
    return undefined;
  }
  return out;
}

function matches(t: ParamType, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'dateTime':
      return v instanceof Date;
    case 'array':
      return Array.isArray(v);
    case 'struct':
      return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
    default:
      return false;
  }
}

/** The Java class Redstone would have built for the value (used in "Could not find method"). */
export function javaType(v: unknown): string {
  if (typeof v === 'string') return 'java.lang.String';
  if (typeof v === 'number') return Number.isInteger(v) ? 'java.lang.Integer' : 'java.lang.Double';
  if (typeof v === 'boolean') return 'java.lang.Boolean';
  if (v instanceof Date) return 'java.util.Date';
  if (Array.isArray(v)) return 'redstone.xmlrpc.XmlRpcArray';
  if (Buffer.isBuffer(v)) return '[B';
  return 'redstone.xmlrpc.XmlRpcStruct';
}

function cacheKey(method: string, args: unknown[]): string {
  return `${method}\u0000${JSON.stringify(args)}`;
}

/** An int[] argument; a wrong element type fails like the Java cast would. */
export function intList(value: unknown): number[] {
  const list = value as unknown[];
  for (const v of list) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw uyuniFaults.unhandled(`java.lang.ClassCastException: class ${javaType(v)} cannot be cast to class java.lang.Integer`);
    }
  }
  return list as number[];
}

export { RpcFault };
