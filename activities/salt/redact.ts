// Scrubs secrets out of any text that can reach a log line or an error: salt-api's HTML error pages
// and a minion's "ERROR: ..." output are echoed into messages, and either could quote a request.
// The secrets are the password and the X-Auth-Token values this client was issued.

const MASK = '[REDACTED]';
/** Older tokens are logged out or expired; a few are kept in case a late error quotes one. */
const RECENT_TOKENS_KEPT = 4;

export class SaltRedactor {
  // #private: secrets must not show up in util.inspect / console.log of a client.
  readonly #permanent: string[] = [];
  #recentTokens: string[] = [];
  #ordered: string[] = [];

  /** A secret for the client's lifetime (the password). */
  addSecret(secret: string): void {
    if (secret === '' || this.#permanent.includes(secret)) return;
    this.#permanent.push(secret);
    this.#reorder();
  }

  addToken(token: string): void {
    if (token === '' || this.#recentTokens.includes(token)) return;
    this.#recentTokens = [token, ...this.#recentTokens].slice(0, RECENT_TOKENS_KEPT);
    this.#reorder();
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#ordered) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  }

  #reorder(): void {
    // Longest first, so a token is masked whole rather than around a masked password inside it.
    this.#ordered = [...new Set([...this.#permanent, ...this.#recentTokens])].sort((a, b) => b.length - a.length);
  }
}
