/**
 * salt-api sessions: the X-Auth-Token is a hex session id with an absolute expiry from login
 * (token_expire, 12 h by default), not extended by use. Time comes from the lab clock so tests
 * can expire tokens without waiting; `expireAll` simulates a salt-api restart (RAM sessions lost).
 */
import { randomBytes } from 'node:crypto';

export interface SaltToken {
  readonly token: string;
  /** Epoch seconds (float), as salt-api reports them. */
  readonly start: number;
  readonly expire: number;
  readonly user: string;
  readonly eauth: string;
  readonly perms: readonly string[];
}

export class TokenStore {
  private readonly tokens = new Map<string, SaltToken>();
  private issued = 0;

  constructor(
    private readonly clock: () => number,
    readonly lifetimeSeconds: number,
  ) {}

  get loginCount(): number {
    return this.issued;
  }

  get active(): number {
    return this.tokens.size;
  }

  create(user: string, eauth: string, perms: readonly string[]): SaltToken {
    const start = this.clock() / 1000;
    const token: SaltToken = { token: randomBytes(20).toString('hex'), start, expire: start + this.lifetimeSeconds, user, eauth, perms };
    this.tokens.set(token.token, token);
    this.issued++;
    return token;
  }

  /** The live session for a token, or undefined when unknown or expired. */
  lookup(token: string | undefined): SaltToken | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (this.clock() / 1000 >= t.expire) {
      this.tokens.delete(token);
      return undefined;
    }
    return t;
  }

  revoke(token: string): boolean {
    return this.tokens.delete(token);
  }

  expireAll(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }
}
