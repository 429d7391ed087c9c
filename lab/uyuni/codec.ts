/**
 * The XML-RPC wire codec, built on the `xmlrpc` package's serializer and deserializer and bent
 * to what UYUNI (Redstone) really puts on the wire: `<i4>` integers, compact zone-less UTC dates,
 * no `<nil/>`, null members omitted, strings escaped rather than wrapped in CDATA.
 *
 * Dates never go through `xmlrpc.dateFormatter` (process-global, local-time by default), and
 * zone-less dates are pinned to UTC before the deserializer reads them (it would assume local
 * time), so nothing here depends on the TZ environment variable.
 */
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';

interface XmlNode {
  ele(name: string): XmlNode;
  txt(value: string): XmlNode;
  raw(value: string): XmlNode;
}
interface CustomTypeInstance {
  serialize(xml: XmlNode): XmlNode;
}
type CustomTypeCtor = new (raw: unknown) => CustomTypeInstance;
interface SerializerModule {
  serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: unknown): string;
}
interface DeserializerInstance {
  deserializeMethodCall(stream: NodeJS.ReadableStream, cb: (err: Error | null | undefined, method?: string, params?: unknown[]) => void): void;
  deserializeMethodResponse(stream: NodeJS.ReadableStream, cb: (err: (Error & { faultCode?: number; faultString?: string }) | null | undefined, value?: unknown) => void): void;
}
type DeserializerCtor = new (encoding?: string) => DeserializerInstance;

const require = createRequire(import.meta.url);
const serializer = require('xmlrpc/lib/serializer') as SerializerModule;
const Deserializer = require('xmlrpc/lib/deserializer') as DeserializerCtor;
const CustomType = require('xmlrpc/lib/customtype') as CustomTypeCtor;

/** A value already serialized to XML (the content of one `<value>`), spliced in verbatim. */
export class WireRaw {
  constructor(readonly xml: string) {}
}

/** Thrown for requests the server cannot parse; UYUNI answers them with fault -1. */
export class WireParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireParseError';
  }
}

/** A decoded `<fault>` (client side). */
export class XmlRpcFaultError extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFaultError';
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `yyyyMMddTHH:mm:ss` in UTC, no suffix — UYUNI's format with the server in UTC. */
export function formatWireDate(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const COMPACT_DATE = /^(\d{8}T\d{2}:\d{2}:\d{2})Z?$/;
const DATE_ELEMENT = /<dateTime\.iso8601>([^<]*)<\/dateTime\.iso8601>/gi;

/** Rewrites zone-less compact dates to explicit UTC so the deserializer doesn't read them as local time. */
function pinDatesToUtc(xml: string, strict: boolean): string {
  return xml.replace(DATE_ELEMENT, (_m, text: string) => {
    const match = COMPACT_DATE.exec(text.trim());
    if (!match) {
      if (strict) throw new WireParseError(`Unparseable date: "${text.trim()}"`);
      return `<dateTime.iso8601>${text}</dateTime.iso8601>`;
    }
    return `<dateTime.iso8601>${match[1]}Z</dateTime.iso8601>`;
  });
}

function custom(serialize: (xml: XmlNode) => XmlNode): CustomTypeInstance {
  const value = new CustomType(null);
  value.serialize = serialize;
  return value;
}

// The xmlrpc serializer wraps strings containing < or & in CDATA; UYUNI escapes them instead.
const NEEDS_ESCAPE = /[<&]|\]\]>/;

/** Turns a JS value into what the xmlrpc serializer should see; drops null/undefined members. */
function prepare(value: unknown): unknown {
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? custom((x) => x.ele('string').txt(value)) : value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot serialize ${value}`);
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (value instanceof Date) {
    const text = formatWireDate(value);
    return custom((x) => x.ele('dateTime.iso8601').txt(text));
  }
  if (value instanceof WireRaw) return custom((x) => x.raw(value.xml));
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    return value.map((v: unknown) => {
      if (v === null || v === undefined) throw new TypeError('null array element: UYUNI never sends <nil/>');
      return prepare(v);
    });
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue; // UYUNI's serializer helper omits null members
      out[k] = prepare(v);
    }
    return out;
  }
  throw new TypeError(`cannot serialize ${typeof value}`);
}

function toI4(xml: string): string {
  // Safe: every string with '<' was escaped by prepare(), so '<int>' can only be a tag.
  return xml.replace(/<int>/g, '<i4>').replace(/<\/int>/g, '</i4>');
}

const RESPONSE_HEAD = '<?xml version="1.0"?><methodResponse><params><param><value><array><data>';
const RESPONSE_TAIL = '</data></array></value></param></params></methodResponse>';

/** A complete `<methodResponse>`; a null/undefined result becomes `<string>void</string>` like Redstone. */
export function encodeResponse(value: unknown): string {
  // Fast path for the hot list calls (getRelevantErrata): splicing pre-serialized fragments into
  // the envelope gives the serializer's exact bytes at a fraction of the cost.
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof WireRaw)) {
    let xml = RESPONSE_HEAD;
    for (const v of value as WireRaw[]) xml += `<value>${v.xml}</value>`;
    return xml + RESPONSE_TAIL;
  }
  return toI4(serializer.serializeMethodResponse(prepare(value ?? 'void')));
}

/** The serializer path only (used to prove the fast path is byte-identical). */
export function encodeResponseViaSerializer(value: unknown): string {
  return toI4(serializer.serializeMethodResponse(prepare(value ?? 'void')));
}

export function encodeFault(faultCode: number, faultString: string): string {
  return toI4(serializer.serializeFault(prepare({ faultCode, faultString })));
}

/** Serializes one value once so it can be spliced into many responses (errata are immutable). */
export function encodeFragment(value: unknown): WireRaw {
  const xml = encodeResponseViaSerializer(value);
  const open = '<param><value>';
  const start = xml.indexOf(open) + open.length;
  const end = xml.lastIndexOf('</value></param>');
  return new WireRaw(xml.slice(start, end));
}

/** Client side: a method call the way a careful UYUNI client sends it (`<int>`, compact UTC dates). */
export function encodeMethodCall(method: string, params: readonly unknown[]): string {
  return serializer.serializeMethodCall(method, params.map((p) => prepare(p)));
}

export interface MethodCall {
  method: string;
  params: unknown[];
}

/**
 * Server side: parses a `<methodCall>`. Rejects what UYUNI rejects — `<nil/>` and hyphenated
 * dates — and reads `<i8>` as a number (Redstone gives a Long, which matches int parameters).
 */
export function decodeMethodCall(xml: string): Promise<MethodCall> {
  let prepared: string;
  try {
    prepared = pinDatesToUtc(xml, true).replace(/<i8>/gi, '<int>').replace(/<\/i8>/gi, '</int>');
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new WireParseError(String(err)));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const stream = new PassThrough();
    new Deserializer().deserializeMethodCall(stream, (err, method, params) => {
      if (settled) return;
      settled = true;
      if (err || method === undefined) {
        reject(new WireParseError(err?.message ?? 'Invalid XML-RPC message'));
        return;
      }
      const list = params ?? [];
      if (containsNull(list)) {
        reject(new WireParseError('Unsupported value type: <nil/>'));
        return;
      }
      resolve({ method, params: list });
    });
    stream.end(prepared);
  });
}

/** Client side: decodes a `<methodResponse>`, dates as UTC; faults reject with XmlRpcFaultError. */
export function decodeResponse(xml: string): Promise<unknown> {
  const prepared = pinDatesToUtc(xml, false);
  return new Promise((resolve, reject) => {
    let settled = false;
    const stream = new PassThrough();
    new Deserializer().deserializeMethodResponse(stream, (err, value) => {
      if (settled) return;
      settled = true;
      if (err) {
        if (typeof err.faultCode === 'number') reject(new XmlRpcFaultError(err.faultCode, err.faultString ?? ''));
        else reject(err);
        return;
      }
      resolve(value);
    });
    stream.end(prepared);
  });
}

function containsNull(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.some(containsNull);
  if (typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return Object.values(value as Record<string, unknown>).some(containsNull);
  }
  return false;
}
