// The subset of pino's API the client uses, so a pino logger (or a child) can be passed as-is
// and tests can pass a recording stub.

export type UyuniLogFn = (fields: Record<string, unknown>, message?: string) => void;

export interface UyuniLogger {
  debug: UyuniLogFn;
  info: UyuniLogFn;
  warn: UyuniLogFn;
  error: UyuniLogFn;
}

const noop: UyuniLogFn = () => undefined;

export const silentLogger: UyuniLogger = { debug: noop, info: noop, warn: noop, error: noop };
