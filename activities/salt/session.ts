// The salt-api token of a client: one login shared by all calls, one transparent re-login on HTTP 401 (token
// past token_expire, session timed out, salt-api restarted and lost its RAM sessions); see
// activities/shared/credential-cache.ts. A second 401 right after a fresh login is an ACL problem, not an
// expiry, and surfaces as SaltAuthError.
import { CredentialCache } from '../shared/credential-cache.js';
import { SaltAuthError, SaltHttpError, SaltProtocolError } from './errors.js';
import type { SaltLogger } from './logger.js';

export interface TokenCallbacks {
  login(): Promise<string>;
  logout(token: string): Promise<void>;
  logger: SaltLogger;
}

export class TokenCache {
  readonly #cache: CredentialCache;

  constructor(callbacks: TokenCallbacks) {
    this.#cache = new CredentialCache({
      ...callbacks,
      what: 'salt-api token',
      isRejected: (error) => error instanceof SaltHttpError && error.status === 401,
      closedError: (name) => new SaltProtocolError('Salt client is closed', { fun: name ?? '' }),
      rejectedAgain: (_error, name) =>
        new SaltAuthError("salt-api rejected a freshly issued token (401); check the user's external_auth ACL", 'call', name ?? ''),
    });
  }

  /** Runs `call` with a valid token; on 401, logs in again and retries once. */
  withToken<T>(name: string, call: (token: string) => Promise<T>): Promise<T> {
    return this.#cache.withCredential(name, call);
  }

  stats(): { logins: number; relogins: number } {
    return this.#cache.stats();
  }

  close(): Promise<void> {
    return this.#cache.close();
  }
}
