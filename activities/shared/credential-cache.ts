// One login per client, for a server that hands out a session key or token: logged in lazily, shared by all
// concurrent calls (one in-flight login, however many callers), replaced transparently once when the server
// says it is gone (expiry, restart, logout elsewhere). Used by the UYUNI session and the salt-api token.

export interface CredentialLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface CredentialCacheOptions {
  login(): Promise<string>;
  logout(credential: string): Promise<void>;
  logger: CredentialLogger;
  /** The error says the server no longer accepts the credential (session fault, HTTP 401). */
  isRejected(error: unknown): boolean;
  /** The error to throw when a call arrives after close(). */
  closedError(name: string | undefined): Error;
  /** What to throw when a fresh credential is rejected too; by default that rejection itself. */
  rejectedAgain?(error: unknown, name: string | undefined): Error;
  /** For log lines: "uyuni session", "salt-api token". */
  what: string;
}

interface Current {
  /** Bumped on every new login, so a late rejection of an old credential can't drop a fresh one. */
  generation: number;
  credential: Promise<string>;
}

export class CredentialCache {
  // #private: the credential must not show up in util.inspect / console.log of a client.
  #current: Current | undefined;
  private generation = 0;
  private closed = false;
  private logins = 0;
  private relogins = 0;

  constructor(private readonly options: CredentialCacheOptions) {}

  /** Runs `call` with a valid credential; when the server rejects it, logs in again and retries once. */
  async withCredential<T>(name: string | undefined, call: (credential: string) => Promise<T>): Promise<T> {
    const first = this.acquire(name);
    try {
      return await call(await first.credential);
    } catch (error) {
      if (!this.options.isRejected(error)) throw error;
      this.invalidate(first.generation, name);
    }
    try {
      return await call(await this.acquire(name).credential);
    } catch (error) {
      if (!this.options.isRejected(error) || !this.options.rejectedAgain) throw error;
      throw this.options.rejectedAgain(error, name);
    }
  }

  private acquire(name: string | undefined): Current {
    if (this.closed) throw this.options.closedError(name);
    if (this.#current !== undefined) return this.#current;
    const generation = ++this.generation;
    this.logins++;
    const credential = this.options.login();
    const current: Current = { generation, credential };
    this.#current = current;
    // A failed login is not cached: the next caller tries again (its error still reaches every caller
    // that awaited this attempt).
    credential.catch(() => {
      if (this.#current === current) this.#current = undefined;
    });
    return current;
  }

  /** Only the first caller to fail with a given credential drops it; the others reuse its replacement. */
  private invalidate(generation: number, name: string | undefined): void {
    if (this.#current?.generation !== generation) return;
    this.#current = undefined;
    this.relogins++;
    this.options.logger.info({ call: name }, `${this.options.what} rejected by the server; logging in again`);
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
    let credential: string;
    try {
      credential = await current.credential;
    } catch {
      return;
    }
    try {
      await this.options.logout(credential);
    } catch (error) {
      this.options.logger.warn(
        { errorType: (error as { type?: unknown }).type ?? 'unknown' },
        `${this.options.what} logout failed; it will expire on the server`,
      );
    }
  }
}
