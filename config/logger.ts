import { pino, type Logger, type LoggerOptions } from 'pino';

// Paths pino blanks out wherever they appear in a logged object. Secrets must never reach stdout/journald:
// configuration secrets, HTTP auth headers, UYUNI session keys and Salt tokens.
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'sessionKey',
  '*.sessionKey',
  'connectionString',
  '*.connectionString',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-auth-token"]',
  'headers.authorization',
  'headers["x-auth-token"]',
  'res.headers["set-cookie"]',
  'res.headers["x-auth-token"]',
  'UYUNI_PASSWORD',
  'DB_PASSWORD',
  'DATABASE_URL',
  'API_TOKENS',
  'SALT_PASSWORD',
  'NVD_API_KEY',
  'apiKey',
  '*.apiKey',
  'headers.apiKey',
  'headers.apikey',
];

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // One JSON line per event on stdout (journald under systemd); ISO time is easier to correlate with Temporal.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level, name), destination) : pino(loggerOptions(level, name));
}

export type { Logger };
