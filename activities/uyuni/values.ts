// The value model shared by both decoders and the encoder. Kept independent of the xmlrpc package's
// loose `any` so the typed client has to narrow every field it reads.

/** What a decoder hands back: `i8` stays a string (as the xmlrpc package does), base64 is a Buffer. */
export type XmlRpcValue =
  | string
  | number
  | boolean
  | Date
  | Buffer
  | null
  | XmlRpcValue[]
  | XmlRpcStruct;

export interface XmlRpcStruct {
  [member: string]: XmlRpcValue;
}

/** The decoded `<params>` value of a successful methodResponse (faults are thrown, never returned). */
export type XmlRpcResult = XmlRpcValue;

/**
 * What callers may send. No null/undefined: Uyuni rejects `<nil/>`, so the encoder refuses them.
 * bigint and integers beyond int32 go out as `<i8>`.
 */
export type XmlRpcParam =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Buffer
  | readonly XmlRpcParam[]
  | { readonly [member: string]: XmlRpcParam };

export function isXmlRpcStruct(value: XmlRpcValue | undefined): value is XmlRpcStruct {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value)
  );
}
