// Scrubs secrets out of any text that can reach a log line or an error: fault strings echo
// whatever the server felt like (some Java exceptions quote their arguments), and body snippets
// of broken responses could contain a session key.

const SESSION_KEY = /\b\d+x[0-9a-f]{64}\b/gi;
const MASK = '[REDACTED]';
/** Older keys are dead server-side and the pattern above still masks them whole. */
const RECENT_KEYS_KEPT = 4;

export class Redactor {
  // #private: secrets must not show up in util.inspect / console.log of a client.
  readonly #permanent: string[] = [];
  #recentKeys: string[] = [];
  #ordered: string[] = [];

  /** A secret for the client's lifetime (the password). */
  addSecret(secret: string): void {
    if (secret === '' || this.#permanent.includes(secret)) return;
    this.#permanent.push(secret);
    this.#reorder();
  }

  /** A session key; its hex part is the actual secret, so that is masked on its own too. */
  addSessionKey(key: string): void {
    if (key === '' || this.#recentKeys.includes(key)) return;
    const hex = /^\d+x([0-9a-f]{64})$/i.exec(key)?.[1];
    this.#recentKeys = [key, ...(hex === undefined ? [] : [hex]), ...this.#recentKeys].slice(0, RECENT_KEYS_KEPT * 2);
    this.#reorder();
  }

  redact(text: string): string {
    let out = text.replace(SESSION_KEY, MASK);
    for (const secret of this.#ordered) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  }

  #reorder(): void {
    // Longest first, so a key is masked whole rather than leaving pieces around a masked password.
    this.#ordered = [...new Set([...this.#permanent, ...this.#recentKeys])].sort((a, b) => b.length - a.length);
  }
}
