// Request encoding: the xmlrpc package's serializer, fed with values we have already checked and
// converted, so that nothing global (xmlrpc.dateFormatter) or lossy (null → <nil/>) can leak into a
// request. Dates and 64-bit integers become CustomType instances carrying their final text.
import { UyuniProgrammingError } from './errors.js';
import { formatUyuniDateTime } from './time-zone.js';
import { XmlrpcCustomType, xmlrpcSerializer, type CustomTypeInstance } from './xmlrpc-package.js';
import type { XmlRpcParam } from './values.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

type WireValue = string | number | boolean | Buffer | CustomTypeInstance | WireValue[] | { [member: string]: WireValue };

function scalar(tagName: string, text: string): CustomTypeInstance {
  const value = new XmlrpcCustomType(text);
  value.tagName = tagName;
  return value;
}

function describe(path: string): string {
  return path === '' ? 'the value' : path;
}

/**
 * Converts a parameter tree into what the package's serializer should see. `path` names the
 * offending position in errors (never the value: it may be the password).
 */
export function toWireValue(value: XmlRpcParam | null | undefined, timeZone: string, method: string, path = ''): WireValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new UyuniProgrammingError(`${describe(path)} is not a finite number`, { method });
      }
      // The package writes every integer as <int>; Uyuni parses that as a Java int.
      if (Number.isInteger(value) && (value < INT32_MIN || value > INT32_MAX)) {
        if (!Number.isSafeInteger(value)) {
          throw new UyuniProgrammingError(`${describe(path)} is an integer beyond 2^53`, { method });
        }
        return scalar('i8', String(value));
      }
      return value;
    case 'bigint':
      return scalar('i8', value.toString());
    case 'undefined':
      throw new UyuniProgrammingError(`${describe(path)} is undefined; Uyuni accepts no <nil/>`, { method });
    case 'object': {
      if (value === null) {
        throw new UyuniProgrammingError(`${describe(path)} is null; Uyuni accepts no <nil/>`, { method });
      }
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) {
          throw new UyuniProgrammingError(`${describe(path)} is an invalid Date`, { method });
        }
        return scalar('dateTime.iso8601', formatUyuniDateTime(value, timeZone));
      }
      if (Buffer.isBuffer(value)) return value;
      if (Array.isArray(value)) {
        return (value as readonly XmlRpcParam[]).map((item, index) => toWireValue(item, timeZone, method, `${path}[${index}]`));
      }
      const struct: { [member: string]: WireValue } = {};
      for (const [key, member] of Object.entries(value as { readonly [member: string]: XmlRpcParam })) {
        struct[key] = toWireValue(member, timeZone, method, path === '' ? key : `${path}.${key}`);
      }
      return struct;
    }
    default:
      throw new UyuniProgrammingError(`${describe(path)} has type ${typeof value}, which XML-RPC can't carry`, { method });
  }
}

export function encodeMethodCall(method: string, params: readonly XmlRpcParam[], timeZone: string): string {
  const wire = params.map((param, index) => toWireValue(param, timeZone, method, `params[${index}]`));
  return xmlrpcSerializer.serializeMethodCall(method, wire);
}

/** Response encoding with the same conversions; used by tests and the benchmark to build payloads. */
export function encodeMethodResponse(value: XmlRpcParam, timeZone: string): string {
  return xmlrpcSerializer.serializeMethodResponse(toWireValue(value, timeZone, 'response'));
}
