// Public surface of the UYUNI client module.
export { UyuniClient, type UyuniClientOptions } from './client.js';
export type * from './types.js';
export type { UyuniClientStats } from './stats.js';
export type { UyuniLogger } from './logger.js';
export type { XmlRpcParam, XmlRpcResult, XmlRpcStruct, XmlRpcValue } from './values.js';
export type { BodySummary, DecodeOptions, XmlRpcDecoder } from './decode-common.js';
export { decodeFast, decodeStream, StreamingDecoder } from './decode-fast.js';
export { decodeReference } from './decode-reference.js';
export { parseUyuniDate } from './uyuni-date.js';
export { toApplicationFailure, uyuniFailureDetails, type UyuniFailureDetails } from './failure.js';
export {
  classifyFault,
  isUyuniError,
  UyuniAuthError,
  UyuniError,
  UyuniFault,
  UyuniHttpError,
  UyuniInvalidErrataError,
  UyuniModulesNotAllowedError,
  UyuniNotFoundError,
  UyuniProgrammingError,
  UyuniProtocolError,
  UyuniSessionError,
  UyuniTimeoutError,
  UyuniTlsError,
  UyuniTransportError,
  type UyuniErrorType,
  type UyuniNotFoundKind,
} from './errors.js';
