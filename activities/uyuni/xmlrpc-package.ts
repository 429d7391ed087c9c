// Typed access to the parts of the `xmlrpc` package we use standalone (the codec, not its HTTP
// client). Loaded through createRequire because they are CommonJS files without type declarations;
// sax is resolved from xmlrpc's own location so we get exactly the copy its deserializer uses.
import { createRequire } from 'node:module';

/** The xmlbuilder node the serializer hands to CustomType#serialize. */
export interface XmlBuilderNode {
  ele(name: string): XmlBuilderNode;
  txt(text: string): XmlBuilderNode;
}

export interface CustomTypeInstance {
  raw: string;
  tagName: string;
  serialize(xml: XmlBuilderNode): XmlBuilderNode;
}

interface Serializer {
  serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: unknown): string;
}

/** The minimal stream surface `deserializeMethodResponse` touches. */
export interface DeserializerSource {
  setEncoding(encoding: string): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  pipe(destination: SaxStream): unknown;
}

export interface SaxStream {
  write(chunk: string): boolean;
  end(): void;
}

export interface DeserializerInstance {
  value: boolean;
  push(value: unknown): void;
  endDateTime(this: DeserializerInstance, data: string): void;
  deserializeMethodResponse(source: DeserializerSource, callback: (error: unknown, value?: unknown) => void): void;
}

interface DateFormatterExport {
  constructor: { ISO8601: RegExp };
}

const requireHere = createRequire(import.meta.url);
const requireFromXmlrpc = createRequire(requireHere.resolve('xmlrpc'));

export const xmlrpcSerializer = requireHere('xmlrpc/lib/serializer') as Serializer;

export const XmlrpcDeserializer = requireHere('xmlrpc/lib/deserializer') as new (encoding?: string) => DeserializerInstance;

export const XmlrpcCustomType = requireHere('xmlrpc/lib/customtype') as new (raw: string) => CustomTypeInstance;

/** The package's own dateTime pattern; a test pins iso8601.ts's corrected copy to it. */
export const XMLRPC_PACKAGE_ISO8601: RegExp = (requireHere('xmlrpc/lib/date_formatter') as DateFormatterExport).constructor
  .ISO8601;

/**
 * sax in loose mode (how the xmlrpc deserializer runs it) resolves HTML's named entities too
 * (`&nbsp;` → U+00A0); the fast decoder borrows the same table so both decode identically.
 */
export const SAX_ENTITIES = (requireFromXmlrpc('sax') as { ENTITIES: Record<string, string> }).ENTITIES;
