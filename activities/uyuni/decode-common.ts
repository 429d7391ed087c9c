// What both decoders share: options, how a broken body becomes a UyuniProtocolError, and how a
// <fault> becomes a classified error — so the two can only differ in parsing, never in policy.
import { classifyFault, UyuniProtocolError, type UyuniFault, type UyuniProgrammingError } from './errors.js';
import { isXmlRpcStruct, type XmlRpcValue } from './values.js';

export interface DecodeOptions {
  /** Zone in which zone-less dateTime.iso8601 values are read (Uyuni's JVM zone). Default 'UTC'. */
  timeZone?: string;
  /** Method name for error messages. */
  method?: string;
  /** Scrubs secrets out of fault strings and body snippets. */
  redact?: (text: string) => string;
}

export type XmlRpcDecoder = (xml: string, options?: DecodeOptions) => XmlRpcValue | Promise<XmlRpcValue>;

const CLOSING_ROOT = '</methodresponse';
const SNIPPET_LENGTH = 120;
const HEAD_LENGTH = 512;
const TAIL_LENGTH = 64;

/**
 * All an error message needs from a body: its start, its end, its length and whether it is blank.
 * A streaming decoder keeps this instead of the body, so a failure reports exactly what it would
 * have reported with the whole body in hand.
 */
export interface BodySummary {
  /** The first 512 chars. */
  head: string;
  /** The last 64 chars. */
  tail: string;
  /** In UTF-16 code units, like String#length. */
  length: number;
  /** Nothing but whitespace (String#trim() would leave ''). */
  blank: boolean;
}

export function summarizeBody(xml: string): BodySummary {
  return { head: xml.slice(0, HEAD_LENGTH), tail: xml.slice(-TAIL_LENGTH), length: xml.length, blank: xml.trim() === '' };
}

/** Extends a summary by the next piece of the body, in place. */
export function extendSummary(summary: BodySummary, text: string): void {
  if (text === '') return;
  summary.length += text.length;
  if (summary.head.length < HEAD_LENGTH) summary.head += text.slice(0, HEAD_LENGTH - summary.head.length);
  summary.tail = text.length >= TAIL_LENGTH ? text.slice(-TAIL_LENGTH) : (summary.tail + text).slice(-TAIL_LENGTH);
  if (summary.blank && text.trim() !== '') summary.blank = false;
}

const asSummary = (body: string | BodySummary): BodySummary => (typeof body === 'string' ? summarizeBody(body) : body);

/**
 * A methodResponse that stops before `</methodResponse>` (or an empty body) was cut off by a proxy
 * or a dropped connection rather than produced wrong by the server — the one protocol failure worth
 * retrying. A complete document of the wrong kind (an HTML page) is not truncated.
 */
export function looksTruncated(body: string | BodySummary): boolean {
  const { head, tail: end, blank } = asSummary(body);
  if (blank) return true;
  if (!head.toLowerCase().includes('<methodresponse')) return false;
  const tail = end.trimEnd().toLowerCase();
  if (!tail.endsWith('>')) return true;
  const at = tail.lastIndexOf(CLOSING_ROOT);
  return at === -1 || tail.slice(at + CLOSING_ROOT.length, -1).trim() !== '';
}

export function protocolError(reason: string, body: string | BodySummary, options: DecodeOptions): UyuniProtocolError {
  const summary = asSummary(body);
  const redact = options.redact ?? ((text: string) => text);
  const head = summary.head.slice(0, SNIPPET_LENGTH).replace(/\s+/g, ' ');
  const snippet =
    summary.length === 0
      ? 'empty body'
      : `body starts with '${redact(head)}${summary.length > SNIPPET_LENGTH ? '…' : ''}'`;
  const truncated = looksTruncated(summary);
  return new UyuniProtocolError(
    `malformed XML-RPC response${truncated ? ' (truncated)' : ''}: ${redact(reason)}; ${snippet} (${summary.length} chars)`,
    { method: options.method, truncated },
  );
}

export function faultFromParts(
  faultCode: unknown,
  faultString: unknown,
  body: string | BodySummary,
  options: DecodeOptions,
): UyuniFault | UyuniProgrammingError | UyuniProtocolError {
  if (typeof faultCode !== 'number' || !Number.isInteger(faultCode)) {
    return protocolError('fault without an integer faultCode', body, options);
  }
  if (faultString !== undefined && typeof faultString !== 'string') {
    return protocolError('fault with a non-string faultString', body, options);
  }
  return classifyFault(faultCode, faultString ?? '', { method: options.method, redact: options.redact });
}

export function faultFromValue(
  fault: XmlRpcValue | undefined,
  body: string | BodySummary,
  options: DecodeOptions,
): UyuniFault | UyuniProgrammingError | UyuniProtocolError {
  if (!isXmlRpcStruct(fault)) return protocolError('fault value is not a struct', body, options);
  return faultFromParts(fault.faultCode, fault.faultString, body, options);
}
