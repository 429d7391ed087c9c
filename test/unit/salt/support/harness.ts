// Shared setup for the Salt client tests: a fake salt-api per test, a client pointed at it, a
// recording logger, and the helpers that prove no secret leaks into errors or log lines.
import { afterEach, expect } from 'vitest';
import { SaltClient, type SaltClientOptions } from '../../../../activities/salt/client.js';
import { SaltError } from '../../../../activities/salt/errors.js';
import type { SaltLogger } from '../../../../activities/salt/logger.js';
import { EAUTH, PASSWORD, startFakeSaltApi, USER, type FakeSaltApi } from './salt-api-server.js';

export const logLines: string[] = [];
export const seenErrors: unknown[] = [];

export const recordingLogger: SaltLogger = {
  debug: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  info: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  warn: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  error: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
};

const open: { servers: FakeSaltApi[]; clients: SaltClient[] } = { servers: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

export async function setup(
  script: Parameters<typeof startFakeSaltApi>[0] = {},
  options: Partial<SaltClientOptions> = {},
): Promise<{ api: FakeSaltApi; client: SaltClient }> {
  const api = await startFakeSaltApi(script);
  open.servers.push(api);
  const client = new SaltClient({
    url: api.url,
    user: USER,
    password: PASSWORD,
    eauth: EAUTH,
    verifyTls: true,
    timeoutMs: 2_000,
    logger: recordingLogger,
    ...options,
  });
  open.clients.push(client);
  return { api, client };
}

/** Everything an error exposes: message, stack, own properties, cause chain. */
export function exposedText(error: unknown, depth = 0): string {
  if (typeof error !== 'object' || error === null || depth > 4) return String(error);
  return Object.getOwnPropertyNames(error)
    .map((name) => {
      const value = (error as Record<string, unknown>)[name];
      return `${name}=${typeof value === 'object' && value !== null ? exposedText(value, depth + 1) : String(value)}`;
    })
    .join('\n');
}

export async function failure(promise: Promise<unknown>): Promise<SaltError> {
  try {
    await promise;
  } catch (error) {
    seenErrors.push(error);
    expect(error).toBeInstanceOf(SaltError);
    return error as SaltError;
  }
  throw new Error('expected the call to fail');
}

/** No password and no issued token in any error seen so far or any log line. */
export function expectNoSecrets(api: FakeSaltApi): void {
  const text = [...seenErrors.map((e) => exposedText(e)), ...logLines].join('\n');
  expect(text).not.toContain(PASSWORD);
  for (const token of api.issued) expect(text).not.toContain(token);
}
