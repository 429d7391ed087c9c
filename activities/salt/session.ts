// One salt-api token per client: logged in lazily, shared by all concurrent calls (one in-flight
// login, however many callers), replaced transparently once when salt-api answers 401 (token past
// token_expire, session timed out, salt-api restarted and lost its RAM sessions). A second 401 right
// after a fresh login is surfaced as SaltAuthError: it is an ACL problem, not an expiry.
import { SaltAuthError, SaltHttpError, SaltProtocolError } from './errors.js';
import type { SaltLogger } from './logger.js';

export interface TokenCallbacks {
  login(): Promise<string>;
  logout(token: string): Promise<void>;
  logger: SaltLogger;
}

interface Current {
  /** Bumped on every new login, so a late 401 for an old token can't drop a fresh one. */
  generation: number;
  token: Promise<string>;
}

const isUnauthorized = (error: unknown): boolean => error instanceof SaltHttpError && error.status === 401;

export class TokenCache {
  // #private: the token must not show up in util.inspect / console.log of a client.
  #current: Current | undefined;
  private generation = 0;
  private closed = false;
  private logins = 0;
  private relogins = 0;

  constructor(private readonly callbacks: TokenCallbacks) {}

  /** Runs `call` with a valid token; on 401, logs in again and retries once. */
  async withToken<T>(name: string, call: (token: string) => Promise<T>): Promise<T> {
    const first = this.acquire(name);
    try {
      return await call(await first.token);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      this.invalidate(first.generation, name);
    }
    try {
      return await call(await this.acquire(name).token);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      throw new SaltAuthError('salt-api rejected a freshly issued token (401); check the user\'s external_auth ACL', 'call', name);
    }
  }

  /** The current token if logged in (or a login is under way), else a fresh login shared by all callers. */
  private acquire(name: string): Current {
    if (this.closed) throw new SaltProtocolError('Salt client is closed', { fun: name });
    if (this.#current !== undefined) return this.#current;
    const generation = ++this.generation;
    this.logins++;
    const token = this.callbacks.login();
    const current: Current = { generation, token };
    this.#current = current;
    // A failed login is not cached: the next caller tries again (its error still reaches every
    // caller that awaited this attempt).
    token.catch(() => {
      if (this.#current === current) this.#current = undefined;
    });
    return current;
  }

  /** Only the first caller to fail with a given token drops it; the others reuse its replacement. */
  private invalidate(generation: number, name: string): void {
    if (this.#current?.generation !== generation) return;
    this.#current = undefined;
    this.relogins++;
    this.callbacks.logger.info({ fun: name }, 'salt-api rejected the token; logging in again');
  }

  stats(): { logins: number; relogins: number } {
    return { logins: this.logins, relogins: this.relogins };
  }

  /** Logs out (best effort) and refuses further calls. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const current = this.#current;
    this.#current = undefined;
    if (current === undefined) return;
    let token: string;
    try {
      token = await current.token;
    } catch {
      return;
    }
    try {
      await this.callbacks.logout(token);
    } catch (error) {
      this.callbacks.logger.warn(
        { errorType: (error as { type?: unknown }).type ?? 'unknown' },
        'salt-api logout failed; the token will expire on the server',
      );
    }
  }
}
