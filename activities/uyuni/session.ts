// One UYUNI session per client: logged in lazily, shared by all concurrent calls (one in-flight
// login, however many callers), replaced transparently once when the server says it's gone
// (expiry, server restart, logout elsewhere). A second consecutive session fault is surfaced.
import { UyuniProgrammingError, UyuniSessionError } from './errors.js';
import type { UyuniLogger } from './logger.js';

export interface SessionCallbacks {
  login(): Promise<string>;
  logout(sessionKey: string): Promise<void>;
  logger: UyuniLogger;
}

interface Current {
  /** Bumped on every new login, so stale failures can't invalidate a fresh session. */
  generation: number;
  key: Promise<string>;
}

export class SessionCache {
  // #private: the key must not show up in util.inspect / console.log of a client.
  #current: Current | undefined;
  private generation = 0;
  private closed = false;
  private logins = 0;
  private relogins = 0;

  constructor(private readonly callbacks: SessionCallbacks) {}

  /** Runs `call` with a valid session key; on a session fault, logs in again and retries once. */
  async withSession<T>(call: (sessionKey: string) => Promise<T>): Promise<T> {
    const first = this.acquire();
    try {
      return await call(await first.key);
    } catch (error) {
      if (!(error instanceof UyuniSessionError)) throw error;
      this.invalidate(first.generation, error.method);
      return await call(await this.acquire().key);
    }
  }

  /** The current key if logged in (or a login is under way), else a fresh login shared by all callers. */
  private acquire(): Current {
    if (this.closed) throw new UyuniProgrammingError('UYUNI client is closed');
    if (this.#current !== undefined) return this.#current;
    const generation = ++this.generation;
    this.logins++;
    const key = this.callbacks.login();
    const current: Current = { generation, key };
    this.#current = current;
    // A failed login is not cached: the next caller tries again (its error still reaches every
    // caller that awaited this attempt).
    key.catch(() => {
      if (this.#current === current) this.#current = undefined;
    });
    return current;
  }

  /** Only the first caller to fail with a given session drops it; the others reuse its replacement. */
  private invalidate(generation: number, method: string | undefined): void {
    if (this.#current?.generation !== generation) return;
    this.#current = undefined;
    this.relogins++;
    this.callbacks.logger.info({ method }, 'uyuni session rejected by the server; logging in again');
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
    let key: string;
    try {
      key = await current.key;
    } catch {
      return;
    }
    try {
      await this.callbacks.logout(key);
    } catch (error) {
      this.callbacks.logger.warn(
        { errorType: (error as { type?: unknown }).type ?? 'unknown' },
        'uyuni logout failed; the session will expire on the server',
      );
    }
  }
}
