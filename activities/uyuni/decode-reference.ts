// The reference decoder: the xmlrpc package's own Deserializer (sax in loose mode), kept as the
// yardstick the fast decoder is proven equal to, and selectable at runtime as a fallback.
//
// Normalizations (applied identically by the fast decoder):
// - dateTime.iso8601 goes through iso8601.ts: zone-less values are read in the configured Uyuni
//   zone (the package reads them in the process's local zone) and explicit offsets are honoured
//   (the package's pattern mistakes `+02` for a fraction). We override `endDateTime` on this one
//   deserializer instance — no global state: xmlrpc.dateFormatter is shared process-wide.
// - faults become classified UyuniError subclasses; every other failure a UyuniProtocolError.
// - a response without any value (`<params/>`) is a protocol error instead of `undefined`.
// - an Invalid Date (e.g. month 13) is a protocol error instead of a Date holding NaN.
//
// The body is fed to sax synchronously through a minimal stream stand-in rather than a Readable:
// sax throws on some inputs (e.g. `&#x110000;`) and a throw inside a pipe would be uncaught.
import { faultFromParts, protocolError, type DecodeOptions } from './decode-common.js';
import { decodeIso8601, InvalidDateTimeError } from './iso8601.js';
import { UyuniError } from './errors.js';
import { XmlrpcDeserializer, type DeserializerInstance, type SaxStream } from './xmlrpc-package.js';
import type { XmlRpcResult, XmlRpcValue } from './values.js';

interface PackageFault {
  faultCode?: unknown;
  faultString?: unknown;
}

function isPackageFault(error: unknown): error is Error & PackageFault {
  return error instanceof Error && ('faultCode' in error || 'faultString' in error);
}

export function decodeReferenceSync(xml: string, options: DecodeOptions = {}): XmlRpcResult {
  const timeZone = options.timeZone ?? 'UTC';
  const deserializer = new XmlrpcDeserializer('utf8');
  deserializer.endDateTime = function endDateTime(this: DeserializerInstance, data: string): void {
    this.push(decodeIso8601(data, timeZone));
    this.value = false;
  };

  let outcome: { error: unknown; value?: unknown } | undefined;
  const source = {
    setEncoding: () => source,
    on: () => source,
    pipe(parser: SaxStream) {
      parser.write(xml);
      parser.end();
      return parser;
    },
  };
  try {
    deserializer.deserializeMethodResponse(source, (error, value) => {
      // The package can report more than once (an error, then the end of the document); first wins.
      outcome ??= { error, value };
    });
  } catch (thrown) {
    outcome ??= { error: thrown };
  }

  if (outcome === undefined) throw protocolError('the parser produced no result', xml, options);
  const { error } = outcome;
  if (error !== null && error !== undefined) {
    if (error instanceof UyuniError) throw error;
    if (isPackageFault(error)) throw faultFromParts(error.faultCode, error.faultString, xml, options);
    if (error instanceof InvalidDateTimeError) throw protocolError(error.message, xml, options);
    throw protocolError(error instanceof Error ? error.message : String(error), xml, options);
  }
  if (outcome.value === undefined) throw protocolError('Response has no value', xml, options);
  return outcome.value as XmlRpcValue;
}

export async function decodeReference(xml: string, options: DecodeOptions = {}): Promise<XmlRpcResult> {
  return decodeReferenceSync(xml, options);
}
