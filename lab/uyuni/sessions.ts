/**
 * UYUNI API sessions: keys `<id>x<64 hex>`, sliding lifetime (every authenticated call extends it),
 * time taken from the lab clock so tests can expire sessions without waiting.
 */
import { randomBytes } from 'node:crypto';
import { uyuniFaults } from './faults.js';

export const SESSION_KEY = /^([1-9][0-9]*)x([a-f0-9]{64})$/;

interface Session {
  readonly id: number;
  readonly hash: string;
  readonly login: string;
  readonly lifetimeMs: number;
  expiresAtMs: number;
}

export interface SessionOwner {
  readonly sessionId: number;
  readonly login: string;
}

export class SessionStore {
  private readonly sessions = new Map<number, Session>();
  // Arbitrary but plausible starting point: real servers have issued many sessions before ours.
  private nextId = 4101;
  private logins = 0;

  constructor(
    private readonly clock: () => number,
    readonly lifetimeSeconds: number,
  ) {}

  /** Issues a key; `durationSeconds` may shorten (never extend) the server's lifetime. */
  create(login: string, durationSeconds?: number): string {
    if (durationSeconds !== undefined && (durationSeconds > this.lifetimeSeconds || durationSeconds < 1)) {
      throw uyuniFaults.sessionDuration(this.lifetimeSeconds);
    }
    const id = this.nextId++;
    const hash = randomBytes(32).toString('hex');
    const lifetimeMs = (durationSeconds ?? this.lifetimeSeconds) * 1000;
    this.sessions.set(id, { id, hash, login, lifetimeMs, expiresAtMs: this.clock() + lifetimeMs });
    this.logins++;
    return `${id}x${hash}`;
  }

  /** Resolves a key and slides its expiry, or throws the fault UYUNI gives for that key. */
  touch(key: string): SessionOwner {
    const session = this.lookup(key);
    session.expiresAtMs = this.clock() + session.lifetimeMs;
    return { sessionId: session.id, login: session.login };
  }

  /** Like touch() but without sliding — for auth.logout. */
  lookup(key: string): Session {
    const match = SESSION_KEY.exec(key);
    if (!match) throw uyuniFaults.sessionInvalid(key);
    const id = Number(match[1]);
    const session = this.sessions.get(id);
    if (!session || session.expiresAtMs <= this.clock()) {
      if (session) this.sessions.delete(id);
      throw uyuniFaults.sessionNotFound(String(id));
    }
    if (session.hash !== match[2]) throw uyuniFaults.sessionInvalid(String(id));
    return session;
  }

  destroy(key: string): boolean {
    const match = SESSION_KEY.exec(key);
    return match ? this.sessions.delete(Number(match[1])) : false;
  }

  /** Drops every session (tests: simulate a server restart or mass expiry). */
  expireAll(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  get active(): number {
    return this.sessions.size;
  }

  get loginCount(): number {
    return this.logins;
  }
}
