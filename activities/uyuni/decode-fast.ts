// The fast decoder: a hand-written single-pass tokenizer (indexOf-driven, no DOM, no per-character
// callbacks) that drives the same value-stack machine as the xmlrpc package's Deserializer. It is
// incremental — StreamingDecoder is fed the body chunk by chunk as it arrives; decodeFast(string)
// is one push and end() — so there is one parser for both. Mirroring that machine — not just the
// XML-RPC grammar — is what makes the two produce identical values, including on lenient inputs
// the package accepts (values directly inside <array> without <data>, untyped <value>text</value>,
// case-insensitive tag names, text spread over comments and CDATA).
//
// Where it is deliberately stricter than sax's loose mode (reported as UyuniProtocolError):
// mismatched closing tags (sax turns them into text), a root other than <methodResponse>, DOCTYPE
// declarations, struct members without a value, typed elements containing other elements. And one
// deliberate difference on valid XML: a struct member named `__proto__` becomes an own property
// (the package's plain assignment would replace the struct's prototype).
import { StringDecoder } from 'node:string_decoder';
import { extendSummary, faultFromValue, protocolError, type BodySummary, type DecodeOptions } from './decode-common.js';
import { decodeUyuniDateTime, InvalidDateTimeError } from './iso8601.js';
import { UyuniError } from './errors.js';
import { SAX_ENTITIES } from './xmlrpc-package.js';
import type { XmlRpcResult, XmlRpcStruct, XmlRpcValue } from './values.js';

const T_UNKNOWN = 0;
const T_VALUE = 1;
const T_STRING = 2;
const T_INT = 3;
const T_I4 = 4;
const T_I8 = 5;
const T_BOOLEAN = 6;
const T_DOUBLE = 7;
const T_DATETIME = 8;
const T_BASE64 = 9;
const T_NIL = 10;
const T_ARRAY = 11;
const T_DATA = 12;
const T_STRUCT = 13;
const T_MEMBER = 14;
const T_NAME = 15;
const T_PARAMS = 16;
const T_PARAM = 17;
const T_FAULT = 18;
const T_METHOD_RESPONSE = 19;

/** Canonical spellings, used to match closing tags without slicing their names. */
const TAG_NAMES = [
  '',
  'value',
  'string',
  'int',
  'i4',
  'i8',
  'boolean',
  'double',
  'dateTime.iso8601',
  'base64',
  'nil',
  'array',
  'data',
  'struct',
  'member',
  'name',
  'params',
  'param',
  'fault',
  'methodResponse',
];

function tagCode(name: string): number {
  switch (name) {
    case 'value':
      return T_VALUE;
    case 'member':
      return T_MEMBER;
    case 'name':
      return T_NAME;
    case 'string':
      return T_STRING;
    case 'int':
      return T_INT;
    case 'i4':
      return T_I4;
    case 'struct':
      return T_STRUCT;
    case 'array':
      return T_ARRAY;
    case 'data':
      return T_DATA;
    case 'boolean':
      return T_BOOLEAN;
    case 'i8':
      return T_I8;
    case 'double':
      return T_DOUBLE;
    case 'dateTime.iso8601':
    case 'datetime.iso8601':
      return T_DATETIME;
    case 'base64':
      return T_BASE64;
    case 'nil':
      return T_NIL;
    case 'params':
      return T_PARAMS;
    case 'param':
      return T_PARAM;
    case 'fault':
      return T_FAULT;
    case 'methodResponse':
    case 'methodresponse':
      return T_METHOD_RESPONSE;
    default: {
      // sax's loose mode upper-cases tag names, so the package accepts any case.
      const lower = name.toLowerCase();
      return lower === name ? T_UNKNOWN : tagCode(lower);
    }
  }
}

const CH_GT = 62;
const CH_SLASH = 47;
const CH_BANG = 33;
const CH_QUESTION = 63;
const CH_SPACE = 32;
const CH_DQUOTE = 34;
const CH_SQUOTE = 39;

// sax's entity-name character classes, so `&` sequences end where sax ends them.
const ENTITY_START =
  /[#:_A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/;
// sax's class verbatim: combining marks (U+0300–036F) are legal after an entity name's first character.
const ENTITY_BODY =
  // eslint-disable-next-line no-misleading-character-class -- see above
  /[#:_A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u00B7\u0300-\u036F\u203F-\u2040.\d-]/;
const I8_PATTERN = /^-?\d+$/;
const COMMENT_OPEN = '<!--';
const CDATA_OPEN = '<![CDATA[';

class InvalidEntityError extends Error {}

/** sax's parseEntity: named (case-insensitive fallback), decimal and hex references. */
function resolveEntity(name: string): string {
  const named = Object.hasOwn(SAX_ENTITIES, name) ? SAX_ENTITIES[name] : undefined;
  if (named) return named;
  const lower = name.toLowerCase();
  const namedLower = Object.hasOwn(SAX_ENTITIES, lower) ? SAX_ENTITIES[lower] : undefined;
  if (namedLower) return namedLower;
  let digits = lower;
  let code = NaN;
  let canonical = '';
  if (lower.charCodeAt(0) === 35 /* # */) {
    if (lower.charCodeAt(1) === 120 /* x */) {
      digits = lower.slice(2);
      code = parseInt(digits, 16);
      canonical = code.toString(16);
    } else {
      digits = lower.slice(1);
      code = parseInt(digits, 10);
      canonical = code.toString(10);
    }
  }
  digits = digits.replace(/^0+/, '');
  // Like sax: a reference that doesn't round-trip (`&#0;`, `&#12ab;`, `&bogus;`) stays literal text.
  if (Number.isNaN(code) || canonical !== digits) return `&${name};`;
  if (code > 0x10ffff) throw new InvalidEntityError(`Invalid code point ${code}`);
  return String.fromCodePoint(code);
}

function decodeEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp === -1) return text;
  let out = '';
  let last = 0;
  const length = text.length;
  while (amp !== -1) {
    out += text.slice(last, amp);
    let end = amp + 1;
    if (end < length && ENTITY_START.test(text.charAt(end))) {
      end++;
      while (end < length && ENTITY_BODY.test(text.charAt(end))) end++;
    }
    const name = text.slice(amp + 1, end);
    if (end >= length) {
      // Unterminated at the end of this text run.
      out += `&${name}`;
      last = length;
    } else if (text.charCodeAt(end) === 59 /* ; */) {
      out += resolveEntity(name);
      last = end + 1;
    } else {
      // sax keeps the '&', the partial name and the offending character (even another '&') as text.
      out += `&${name}${text.charAt(end)}`;
      last = end + 1;
    }
    amp = text.indexOf('&', last);
  }
  return out + text.slice(last);
}

const CUT_LOOKBACK = 1024;

/**
 * How far into `text[from, to)` — a text run whose end is not known yet — entity decoding can be
 * done now: just past the last character that can't belong to an entity reference (not `&`, not
 * a name character), where decoding is back in plain text whatever preceded it. Looks at most
 * CUT_LOOKBACK characters back; `from` when there is no such point.
 */
function safeTextCut(text: string, from: number, to: number): number {
  if (text.lastIndexOf('&', to - 1) < from) return to;
  const stop = Math.max(from, to - CUT_LOOKBACK);
  for (let i = to - 1; i >= stop; i--) {
    const ch = text.charAt(i);
    if (ch !== '&' && !ENTITY_BODY.test(ch)) return i + 1;
  }
  return from;
}

/** Returned by a token reader when the token isn't complete in the buffer yet. */
const NEED_MORE = -1;

/** A failure found by the tokenizer; turned into a UyuniProtocolError once the whole body is known. */
class DecodeFailure extends Error {}

/**
 * The fast decoder, fed the body in pieces as it arrives (`push`), answering at `end()`.
 *
 * Chunks may split the body anywhere — inside a tag name, an entity, a UTF-8 sequence (bytes go
 * through a StringDecoder), a comment or CDATA. The tokenizer reads complete tokens only: one cut
 * short waits in the buffer for the next chunk, and at `end()` fails exactly as it would in a
 * whole-body decode. Text consumed is dropped after each push: element text is decoded into the
 * pending value as it comes (up to a point no entity reference straddles), so the buffer holds
 * just the unfinished token; decoded values are all that grows.
 *
 * A malformed body is not reported at the push that reveals it: the decoder stops parsing, keeps
 * counting the body (head, tail, length) and throws at `end()` — so the UyuniProtocolError,
 * `truncated` flag included, is the one a whole-body decode would give.
 */
export class StreamingDecoder {
  // ---- tokenizer ----
  /** Unconsumed text; buf[0] is body offset `base`. */
  private buf = '';
  private base = 0;
  /** Where the next token search starts (after the last consumed token). */
  private pos = 0;
  /** No '<' in [pos, scan): where the next search for '<' starts. */
  private scan = 0;
  private started = false;
  private final = false;
  private ended = false;
  private readonly utf8 = new StringDecoder('utf8');
  private pendingBytes = false;
  private readonly summary: BodySummary = { head: '', tail: '', length: 0, blank: true };
  private failure: unknown = undefined;
  private failed = false;

  // ---- the package's value machine ----
  private readonly stack: (XmlRpcValue | undefined)[] = [];
  private readonly marks: number[] = [];
  private readonly open: number[] = [];
  private valueFlag = false;
  /** The text since the last opening tag: `dataPrefix` (already decoded) + buf[dataStart, …). */
  private dataStart = 0;
  private dataPrefix = '';
  /** Whether a comment/CDATA/PI/closing tag sits between dataStart and the current position. */
  private dataHasMarkup = false;
  private sawRoot = false;
  private rootClosed = false;
  private responseType: 'params' | 'fault' | null = null;
  private readonly timeZone: string;

  constructor(private readonly options: DecodeOptions = {}) {
    this.timeZone = options.timeZone ?? 'UTC';
  }

  /** Feeds the next piece of the body: bytes (UTF-8) or text. Never throws for a bad body. */
  push(chunk: Uint8Array | string): void {
    if (this.ended) throw new Error('StreamingDecoder: push() after end()');
    if (typeof chunk === 'string') {
      const pending = this.pendingBytes ? this.utf8.end() : '';
      this.pendingBytes = false;
      this.feed(pending === '' ? chunk : pending + chunk);
    } else {
      this.pendingBytes = true;
      this.feed(this.utf8.write(chunk));
    }
  }

  /** The body is complete: the decoded result, or the UyuniError a whole-body decode would throw. */
  end(): XmlRpcResult {
    if (this.ended) throw new Error('StreamingDecoder: end() called twice');
    if (this.pendingBytes) this.feed(this.utf8.end());
    this.ended = true;
    this.final = true;
    try {
      if (this.failed) throw this.failure;
      this.run();
      return this.finish();
    } catch (error) {
      throw this.asUyuniError(error);
    } finally {
      this.buf = '';
    }
  }

  /** Characters held for unfinished tokens and text (not decoded values): for tests and diagnostics. */
  get bufferedChars(): number {
    return this.buf.length;
  }

  private asUyuniError(error: unknown): unknown {
    if (error instanceof UyuniError) return error;
    if (error instanceof DecodeFailure || error instanceof InvalidDateTimeError || error instanceof InvalidEntityError) {
      return protocolError(error.message, this.summary, this.options);
    }
    if (error instanceof RangeError) return protocolError(`document too deeply nested (${error.message})`, this.summary, this.options);
    return error;
  }

  private feed(text: string): void {
    if (text === '') return;
    extendSummary(this.summary, text);
    if (this.failed) return;
    this.buf = this.buf === '' ? text : this.buf + text;
    if (!this.started) {
      this.started = true;
      if (this.buf.charCodeAt(0) === 0xfeff) this.pos = this.scan = 1;
    }
    try {
      this.run();
      this.compact();
    } catch (error) {
      this.failed = true;
      this.failure = error;
      this.buf = '';
    }
  }

  /** Reads every complete token in the buffer (at end(), the incomplete one too: it fails). */
  private run(): void {
    const xml = this.buf;
    const length = xml.length;
    let pos = this.pos;
    let from = Math.max(this.scan, pos);
    while (pos < length) {
      const lt = xml.indexOf('<', from);
      if (lt === -1) {
        from = length;
        break;
      }
      let next: number;
      if (lt + 1 < length) {
        const ch = xml.charCodeAt(lt + 1);
        if (ch === CH_SLASH) next = this.closeTag(lt);
        else if (ch === CH_BANG) next = this.declaration(lt);
        else if (ch === CH_QUESTION) next = this.processingInstruction(lt);
        else next = this.openTag(lt);
      } else {
        next = this.final ? this.openTag(lt) : NEED_MORE;
      }
      if (next === NEED_MORE) {
        from = lt;
        break;
      }
      pos = from = next;
    }
    this.pos = pos;
    this.scan = Math.max(from, pos);
  }

  /**
   * Drops consumed text: the pending element text up to the unfinished token (or, inside a text
   * run still arriving, up to a point no entity reference straddles) is decoded into dataPrefix.
   */
  private compact(): void {
    const xml = this.buf;
    const cut = this.scan < xml.length ? this.scan : safeTextCut(xml, this.pos, xml.length);
    let keep = cut;
    if (cut > this.dataStart) {
      try {
        this.dataPrefix = this.data(cut);
        this.dataStart = cut;
        this.dataHasMarkup = false;
        this.pos = cut;
      } catch (error) {
        // An out-of-range reference (`&#x110000;`) fails only when its text is read, as in a
        // whole-body decode, and the text between structural tags never is: keep it undecoded.
        if (!(error instanceof InvalidEntityError)) throw error;
        keep = this.dataStart;
      }
    }
    if (keep === 0) return;
    this.buf = xml.slice(keep);
    this.base += keep;
    this.pos -= keep;
    this.scan -= keep;
    this.dataStart -= keep;
  }

  private fail(reason: string): never {
    throw new DecodeFailure(reason);
  }

  /** A token cut short: wait for more, or — at end() — fail as a whole-body decode would. */
  private incomplete(reason: string): number {
    if (this.final) this.fail(reason);
    return NEED_MORE;
  }

  private openTag(lt: number): number {
    const xml = this.buf;
    const length = xml.length;
    let i = lt + 1;
    while (i < length) {
      const ch = xml.charCodeAt(i);
      if (ch === CH_GT || ch === CH_SLASH || ch <= CH_SPACE) break;
      i++;
    }
    if (i >= length) return this.incomplete('unexpected end of document inside a tag');
    const name = xml.slice(lt + 1, i);
    if (name === '') this.fail(`unexpected '<' at offset ${this.base + lt}`);
    let gt: number;
    let selfClosing = false;
    const ch = xml.charCodeAt(i);
    if (ch === CH_GT) {
      gt = i;
    } else if (ch === CH_SLASH && xml.charCodeAt(i + 1) === CH_GT) {
      gt = i + 1;
      selfClosing = true;
    } else {
      gt = this.skipAttributes(i);
      if (gt === NEED_MORE) return NEED_MORE;
      selfClosing = xml.charCodeAt(gt - 1) === CH_SLASH;
    }

    const code = tagCode(name);
    if (!this.sawRoot) {
      if (code !== T_METHOD_RESPONSE) this.fail(`expected <methodResponse> as the root element, got <${name}>`);
      this.sawRoot = true;
    } else if (this.rootClosed) {
      this.fail(`element <${name}> after </methodResponse>`);
    } else if (code === T_UNKNOWN || code === T_METHOD_RESPONSE) {
      this.fail(`Unknown XML-RPC tag '${name}'`);
    } else if (this.isScalar(this.open[this.open.length - 1])) {
      this.fail(`<${name}> inside a scalar element`);
    }

    if (code === T_ARRAY || code === T_STRUCT) this.marks.push(this.stack.length);
    this.valueFlag = code === T_VALUE;
    this.dataStart = gt + 1;
    this.dataPrefix = '';
    this.dataHasMarkup = false;
    if (selfClosing) this.leave(code, gt + 1);
    else this.open.push(code);
    return gt + 1;
  }

  private isScalar(code: number | undefined): boolean {
    return code !== undefined && ((code >= T_STRING && code <= T_NIL) || code === T_NAME);
  }

  private skipAttributes(from: number): number {
    const xml = this.buf;
    let i = from;
    while (i < xml.length) {
      const ch = xml.charCodeAt(i);
      if (ch === CH_GT) return i;
      if (ch === CH_DQUOTE || ch === CH_SQUOTE) {
        const close = xml.indexOf(ch === CH_DQUOTE ? '"' : "'", i + 1);
        if (close === -1) break;
        i = close;
      }
      i++;
    }
    return this.incomplete('unexpected end of document inside a tag');
  }

  private closeTag(lt: number): number {
    const xml = this.buf;
    const expected = this.open[this.open.length - 1];
    if (expected === undefined) this.fail(`closing tag without an open element at offset ${this.base + lt}`);
    const canonical = TAG_NAMES[expected] ?? '';
    let gt = lt + 2 + canonical.length;
    if (!(xml.startsWith(canonical, lt + 2) && xml.charCodeAt(gt) === CH_GT)) {
      // Other case, whitespace before '>', or not all here yet: compare the long way.
      gt = xml.indexOf('>', lt + 2);
      if (gt === -1) return this.incomplete('unexpected end of document inside a closing tag');
      const name = xml.slice(lt + 2, gt).trimEnd();
      if (tagCode(name) !== expected) this.fail(`mismatched closing tag </${name}>, expected </${canonical}>`);
    }
    this.open.pop();
    this.leave(expected, lt);
    this.dataHasMarkup = true;
    return gt + 1;
  }

  private declaration(lt: number): number {
    const xml = this.buf;
    if (!this.final && xml.length - lt < CDATA_OPEN.length) {
      // `<!-` or `<![CD` so far: which declaration this is isn't known yet.
      const start = xml.slice(lt);
      if (COMMENT_OPEN.startsWith(start) || CDATA_OPEN.startsWith(start)) return NEED_MORE;
    }
    if (xml.startsWith(COMMENT_OPEN, lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end === -1) return this.incomplete('unexpected end of document inside a comment');
      this.dataHasMarkup = true;
      return end + 3;
    }
    if (xml.startsWith(CDATA_OPEN, lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end === -1) return this.incomplete('unexpected end of document inside CDATA');
      this.dataHasMarkup = true;
      return end + 3;
    }
    return this.fail('DOCTYPE and other declarations are not accepted in XML-RPC');
  }

  private processingInstruction(lt: number): number {
    const end = this.buf.indexOf('?>', lt + 2);
    if (end === -1) return this.incomplete('unexpected end of document inside a processing instruction');
    this.dataHasMarkup = true;
    return end + 2;
  }

  /** The text since the last opening tag, as the package accumulates it (sax text + CDATA events). */
  private data(end: number): string {
    const xml = this.buf;
    let out = this.dataPrefix;
    if (!this.dataHasMarkup) return out + decodeEntities(xml.slice(this.dataStart, end));
    let pos = this.dataStart;
    while (pos < end) {
      const lt = xml.indexOf('<', pos);
      if (lt === -1 || lt >= end) {
        out += decodeEntities(xml.slice(pos, end));
        break;
      }
      out += decodeEntities(xml.slice(pos, lt));
      if (xml.startsWith(CDATA_OPEN, lt)) {
        const close = xml.indexOf(']]>', lt + 9);
        out += xml.slice(lt + 9, close);
        pos = close + 3;
      } else if (xml.startsWith(COMMENT_OPEN, lt)) {
        pos = xml.indexOf('-->', lt + 4) + 3;
      } else if (xml.startsWith('<?', lt)) {
        pos = xml.indexOf('?>', lt + 2) + 2;
      } else {
        pos = xml.indexOf('>', lt) + 1;
      }
    }
    return out;
  }

  private pushValue(value: XmlRpcValue): void {
    this.stack.push(value);
    this.valueFlag = false;
  }

  private leave(code: number, dataEnd: number): void {
    switch (code) {
      case T_VALUE:
        if (this.valueFlag) this.pushValue(this.data(dataEnd));
        return;
      case T_STRING:
      case T_NAME:
        this.pushValue(this.data(dataEnd));
        return;
      case T_INT:
      case T_I4: {
        const text = this.data(dataEnd);
        const value = parseInt(text, 10);
        if (Number.isNaN(value)) this.fail(`Expected an integer but got '${text}'`);
        this.pushValue(value);
        return;
      }
      case T_STRUCT:
        this.endStruct();
        return;
      case T_ARRAY: {
        const mark = this.marks.pop() ?? 0;
        const items = this.stack.slice(mark) as XmlRpcValue[];
        this.stack.length = mark;
        this.pushValue(items);
        return;
      }
      case T_BOOLEAN: {
        const text = this.data(dataEnd);
        if (text === '1') this.pushValue(true);
        else if (text === '0') this.pushValue(false);
        else this.fail(`Illegal boolean value '${text}'`);
        return;
      }
      case T_DOUBLE: {
        const text = this.data(dataEnd);
        const value = parseFloat(text);
        if (Number.isNaN(value)) this.fail(`Expected a double but got '${text}'`);
        this.pushValue(value);
        return;
      }
      case T_I8: {
        const text = this.data(dataEnd);
        if (!I8_PATTERN.test(text)) this.fail(`Expected integer (I8) value but got '${text}'`);
        this.pushValue(text);
        return;
      }
      case T_DATETIME:
        this.pushValue(decodeUyuniDateTime(this.data(dataEnd), this.timeZone));
        return;
      case T_BASE64:
        this.pushValue(Buffer.from(this.data(dataEnd), 'base64'));
        return;
      case T_NIL:
        this.pushValue(null);
        return;
      case T_PARAMS:
        this.responseType = 'params';
        return;
      case T_FAULT:
        this.responseType = 'fault';
        return;
      case T_METHOD_RESPONSE:
        this.rootClosed = true;
        return;
      default:
        // <data>, <param>, <member>: structure only, as in the package.
        return;
    }
  }

  private endStruct(): void {
    const mark = this.marks.pop() ?? 0;
    const stack = this.stack;
    if ((stack.length - mark) % 2 !== 0) this.fail('struct member without a name or a value');
    const struct: XmlRpcStruct = {};
    for (let i = mark; i < stack.length; i += 2) {
      const key = String(stack[i]);
      const value = stack[i + 1] as XmlRpcValue;
      if (key === '__proto__') Object.defineProperty(struct, key, { value, enumerable: true, writable: true, configurable: true });
      else struct[key] = value;
    }
    stack.length = mark;
    this.pushValue(struct);
  }

  private finish(): XmlRpcResult {
    const innermost = this.open[this.open.length - 1];
    if (innermost !== undefined) this.fail(`unexpected end of document inside <${TAG_NAMES[innermost] ?? ''}>`);
    if (!this.sawRoot) this.fail('no <methodResponse> element');
    if (this.responseType === null) this.fail('Invalid method response');
    if (this.responseType === 'fault') throw faultFromValue(this.stack[0], this.summary, this.options);
    if (this.stack.length > 1) this.fail('Response has more than one param');
    const value = this.stack[0];
    if (value === undefined) this.fail('Response has no value');
    return value;
  }
}

/** Decodes a whole body held as one string: one push, then end(). */
export function decodeFast(xml: string, options: DecodeOptions = {}): XmlRpcResult {
  const decoder = new StreamingDecoder(options);
  decoder.push(xml);
  return decoder.end();
}

/** Decodes a body arriving as a stream of UTF-8 chunks (an undici/Node body, a web stream). */
export async function decodeStream(
  source: AsyncIterable<Uint8Array | string>,
  options: DecodeOptions = {},
): Promise<XmlRpcResult> {
  const decoder = new StreamingDecoder(options);
  for await (const chunk of source) decoder.push(chunk);
  return decoder.end();
}
