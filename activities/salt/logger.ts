// The subset of pino's API the client uses, so a pino logger (or a child) can be passed as-is and
// tests can pass a recording stub. Same shape as the UYUNI client's.

export type SaltLogFn = (fields: Record<string, unknown>, message?: string) => void;

export interface SaltLogger {
  debug: SaltLogFn;
  info: SaltLogFn;
  warn: SaltLogFn;
  error: SaltLogFn;
}

const noop: SaltLogFn = () => undefined;

export const silentLogger: SaltLogger = { debug: noop, info: noop, warn: noop, error: noop };
