// Public surface of the Salt client module.
export { SaltClient, type SaltClientOptions, type SaltTarget, type StartedJob } from './client.js';
export type * from './types.js';
export type { SaltClientStats } from './stats.js';
export type { SaltLogger } from './logger.js';
export { abortableSleep } from './poll.js';
export { parseFunctionUnavailable } from './results.js';
export { toApplicationFailure, saltFailureDetails, type SaltFailureDetails } from './failure.js';
export {
  isSaltError,
  isSaltFunctionUnavailable,
  SaltAuthError,
  SaltError,
  SaltExecutionError,
  SaltFunctionUnavailableError,
  SaltHttpError,
  SaltNoAnswerError,
  SaltProtocolError,
  SaltTimeoutError,
  SaltTransportError,
  type SaltErrorType,
  type SaltExecutionReason,
} from './errors.js';
