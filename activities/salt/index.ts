// Public surface of the Salt client module.
export { SaltClient, type SaltClientOptions, type SaltTarget, type StartedJob } from './client.js';
export type * from './types.js';
export type { SaltClientStats } from './stats.js';
export type { SaltLogger } from './logger.js';
export { abortableSleep } from './poll.js';
export { toApplicationFailure, saltFailureDetails, type SaltFailureDetails } from './failure.js';
export {
  isSaltError,
  SaltAuthError,
  SaltError,
  SaltExecutionError,
  SaltHttpError,
  SaltNoAnswerError,
  SaltProtocolError,
  SaltTimeoutError,
  SaltTransportError,
  type SaltErrorType,
  type SaltExecutionReason,
} from './errors.js';
