// The UYUNI session of a client: one login shared by all calls, one transparent re-login when UYUNI forgets
// the session (activities/shared/credential-cache.ts); a second consecutive session fault is surfaced.
import { CredentialCache } from '../shared/credential-cache.js';
import { UyuniProgrammingError, UyuniSessionError } from './errors.js';
import type { UyuniLogger } from './logger.js';

export interface SessionCallbacks {
  login(): Promise<string>;
  logout(sessionKey: string): Promise<void>;
  logger: UyuniLogger;
}

export class SessionCache {
  readonly #cache: CredentialCache;

  constructor(callbacks: SessionCallbacks) {
    this.#cache = new CredentialCache({
      ...callbacks,
      what: 'uyuni session',
      isRejected: (error) => error instanceof UyuniSessionError,
      closedError: () => new UyuniProgrammingError('UYUNI client is closed'),
    });
  }

  /** Runs `call` with a valid session key; on a session fault, logs in again and retries once. */
  withSession<T>(call: (sessionKey: string) => Promise<T>): Promise<T> {
    return this.#cache.withCredential(undefined, call);
  }

  stats(): { logins: number; relogins: number } {
    return this.#cache.stats();
  }

  close(): Promise<void> {
    return this.#cache.close();
  }
}
