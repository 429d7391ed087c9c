// Narrowing decoded XML-RPC values into typed fields. Every mismatch is a UyuniProtocolError naming
// the method and the member, so a server that changed a shape fails loudly with a useful message.
import { UyuniProtocolError } from './errors.js';
import { parseUyuniDate } from './uyuni-date.js';
import { isXmlRpcStruct, type XmlRpcStruct, type XmlRpcValue } from './values.js';

function kindOf(value: XmlRpcValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'dateTime';
  if (Buffer.isBuffer(value)) return 'base64';
  return typeof value === 'object' ? 'struct' : typeof value;
}

export class WireReader {
  constructor(
    private readonly method: string,
    private readonly timeZone: string,
  ) {}

  fail(what: string, expected: string, value: XmlRpcValue | undefined): never {
    throw new UyuniProtocolError(`unexpected response shape: ${what} should be ${expected}, got ${kindOf(value)}`, {
      method: this.method,
    });
  }

  struct(value: XmlRpcValue | undefined, what = 'result'): XmlRpcStruct {
    if (!isXmlRpcStruct(value)) this.fail(what, 'a struct', value);
    return value;
  }

  array(value: XmlRpcValue | undefined, what = 'result'): XmlRpcValue[] {
    if (!Array.isArray(value)) this.fail(what, 'an array', value);
    return value;
  }

  structs(value: XmlRpcValue | undefined, what = 'result'): XmlRpcStruct[] {
    return this.array(value, what).map((item, index) => this.struct(item, `${what}[${index}]`));
  }

  /** i4/int, or a numeric string (i8, or ids Uyuni sends as strings such as system_id, size). */
  int(value: XmlRpcValue | undefined, what = 'result'): number {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) {
      const parsed = Number(value.trim());
      if (Number.isSafeInteger(parsed)) return parsed;
    }
    return this.fail(what, 'an integer', value);
  }

  string(value: XmlRpcValue | undefined, what = 'result'): string {
    if (typeof value !== 'string') this.fail(what, 'a string', value);
    return value;
  }

  /** Booleans, plus the 0/1 ints some SQL-backed structs use for flags. */
  boolean(value: XmlRpcValue | undefined, what = 'result'): boolean {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1 || value === '0' || value === '1') return value === 1 || value === '1';
    return this.fail(what, 'a boolean', value);
  }

  strings(value: XmlRpcValue | undefined, what = 'result'): string[] {
    return this.array(value, what).map((item, index) => this.string(item, `${what}[${index}]`));
  }

  // Member accessors: `req*` for members the server always sends, `opt*` for ones omitted when null.

  reqInt(s: XmlRpcStruct, member: string): number {
    return this.int(s[member], member);
  }

  optInt(s: XmlRpcStruct, member: string): number | null {
    const value = s[member];
    return value === undefined || value === null || value === '' ? null : this.int(value, member);
  }

  reqString(s: XmlRpcStruct, member: string): string {
    return this.string(s[member], member);
  }

  optString(s: XmlRpcStruct, member: string): string | null {
    const value = s[member];
    return value === undefined || value === null ? null : this.string(value, member);
  }

  reqBoolean(s: XmlRpcStruct, member: string): boolean {
    return this.boolean(s[member], member);
  }

  optBoolean(s: XmlRpcStruct, member: string): boolean | null {
    const value = s[member];
    return value === undefined || value === null ? null : this.boolean(value, member);
  }

  /** Any Uyuni date shape (dateTime or one of the string forms) → instant, null when absent. */
  optDate(s: XmlRpcStruct, member: string): Date | null {
    const value = s[member];
    if (value !== undefined && value !== null && typeof value !== 'string' && !(value instanceof Date)) {
      this.fail(member, 'a date', value);
    }
    try {
      return parseUyuniDate(value, this.timeZone);
    } catch (error) {
      if (error instanceof UyuniProtocolError) {
        throw new UyuniProtocolError(`${member}: ${error.message}`, { method: this.method });
      }
      throw error;
    }
  }

  optStrings(s: XmlRpcStruct, member: string): string[] {
    const value = s[member];
    return value === undefined || value === null ? [] : this.strings(value, member);
  }
}
