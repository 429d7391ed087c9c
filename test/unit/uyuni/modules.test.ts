// Field input: UYUNI refuses every package action on a system subscribed to a modular channel (every RHEL
// 8/9 with AppStream) unless the call says allowModules=true: fault 2107, ModulesNotAllowedException. The
// fixture is that fault as UYUNI sends it; the fake server below applies UYUNI's rule to whatever overload
// the client picks, so a client that does not pass allowModules fails here.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { UyuniClient, type UyuniClientOptions } from '../../../activities/uyuni/client.js';
import { classifyFault, UyuniModulesNotAllowedError } from '../../../activities/uyuni/errors.js';
import { toApplicationFailure } from '../../../activities/uyuni/failure.js';
import { sessionKey, startXmlRpcServer, wire, type RecordedCall, type TestServer } from './support/xmlrpc-server.js';

const FAULT_2107 = readFileSync(new URL('../../fixtures/field/uyuni-fault-2107-modules-not-allowed.xml', import.meta.url), 'utf8');
const FAULT_TEXT = /<name>faultString<\/name><value><string>([^<]*)<\/string>/.exec(FAULT_2107)?.[1] ?? '';

/** The wire type of each top-level parameter, and the booleans' values. */
function params(call: RecordedCall): { types: string[]; booleans: boolean[] } {
  const inner = /<params>([\s\S]*)<\/params>/.exec(call.body)?.[1] ?? '';
  const types: string[] = [];
  const booleans: boolean[] = [];
  // Top-level params only: walk <param>…</param> pairs and read the first tag inside <value>.
  for (const piece of inner.split('<param>').slice(1)) {
    const tag = /^\s*<value>\s*<([A-Za-z0-9.]+)/.exec(piece)?.[1] ?? 'string';
    types.push(tag);
    if (tag === 'boolean') booleans.push(/^\s*<value>\s*<boolean>1</.test(piece));
  }
  return { types, booleans };
}

const open: { servers: TestServer[]; clients: UyuniClient[] } = { servers: [], clients: [] };
afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

/** Every system is modular: the first boolean of a scheduling call is allowModules (UYUNI's overloads, reference §3.4). */
async function modularUyuni(): Promise<TestServer> {
  const server = await startXmlRpcServer((call) => {
    if (call.method === 'auth.login') return { body: wire.response(wire.string(sessionKey(7))) };
    if (call.method === 'auth.logout') return { body: wire.response(wire.i4(1)) };
    const { booleans } = params(call);
    if (booleans[0] !== true) return { body: FAULT_2107 };
    if (call.method === 'system.scheduleApplyErrata') return { body: wire.response(wire.array(wire.i4(8801))) };
    return { body: wire.response(wire.i4(8803)) };
  });
  open.servers.push(server);
  return server;
}

function client(url: string, options: Partial<UyuniClientOptions> = {}): UyuniClient {
  const c = new UyuniClient({ url, user: 'admin', password: 'secret', timeoutMs: 2_000, ...options });
  open.clients.push(c);
  return c;
}

const lastCall = (server: TestServer, method: string) => server.calls.filter((c) => c.method === method).at(-1) as RecordedCall;

describe('fault 2107 (modular channels, allowModules not set)', () => {
  it('is its own typed, non-retryable error', () => {
    const error = classifyFault(2107, FAULT_TEXT, { method: 'system.scheduleApplyErrata' });
    expect(error).toBeInstanceOf(UyuniModulesNotAllowedError);
    expect(error).toMatchObject({ type: 'UyuniModulesNotAllowedError', retryable: false, faultCode: 2107, faultString: FAULT_TEXT });
    const failure = toApplicationFailure(error) as { type: string; nonRetryable: boolean };
    expect(failure).toMatchObject({ type: 'UyuniModulesNotAllowedError', nonRetryable: true });
  });

  it('scheduleApplyErrata passes allowModules=true by default, in the overload with earliest', async () => {
    const server = await modularUyuni();
    const c = client(server.url);
    expect(await c.scheduleApplyErrata([1000010001], [5123])).toEqual([8801]);
    expect(params(lastCall(server, 'system.scheduleApplyErrata')).types).toEqual(['string', 'array', 'array', 'dateTime.iso8601', 'boolean']);
    const earliest = new Date('2030-01-02T03:04:05Z');
    expect(await c.scheduleApplyErrata([1000010001], [5123], earliest)).toEqual([8801]);
    expect(lastCall(server, 'system.scheduleApplyErrata').body).toContain('<dateTime.iso8601>20300102T03:04:05</dateTime.iso8601>');
    // onlyRelevant needs the 5-parameter overload; allowModules stays on.
    await c.scheduleApplyErrata([1000010001], [5123], earliest, { onlyRelevant: false });
    expect(params(lastCall(server, 'system.scheduleApplyErrata'))).toEqual({ types: ['string', 'array', 'array', 'dateTime.iso8601', 'boolean', 'boolean'], booleans: [true, false] });
  });

  it('schedulePackageInstall and schedulePackageInstallByNevra pass it too', async () => {
    const server = await modularUyuni();
    const c = client(server.url);
    const earliest = new Date('2030-01-02T03:04:05Z');
    expect(await c.schedulePackageInstall(1000010001, [88123], earliest)).toBe(8803);
    expect(params(lastCall(server, 'system.schedulePackageInstall')).booleans).toEqual([true]);
    expect(await c.schedulePackageInstallByNevra(1000010001, [{ name: 'bash', version: '5.1.8', release: '9.el9', arch: 'x86_64' }], earliest)).toBe(8803);
    expect(params(lastCall(server, 'system.schedulePackageInstallByNevra')).booleans).toEqual([true]);
  });

  it('with allowModules off (client-wide or per call) the refusal surfaces as the typed error', async () => {
    const server = await modularUyuni();
    const off = client(server.url, { allowModules: false });
    const refused = await off.scheduleApplyErrata([1000010001], [5123]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UyuniModulesNotAllowedError);
    expect((refused as UyuniModulesNotAllowedError).faultString).toBe(FAULT_TEXT);
    expect(params(lastCall(server, 'system.scheduleApplyErrata')).booleans).toEqual([false]);
    await expect(off.schedulePackageInstall(1000010001, [1], new Date())).rejects.toBeInstanceOf(UyuniModulesNotAllowedError);
    const on = client(server.url);
    await expect(on.scheduleApplyErrata([1000010001], [5123], undefined, { allowModules: false })).rejects.toBeInstanceOf(UyuniModulesNotAllowedError);
    expect(await off.scheduleApplyErrata([1000010001], [5123], undefined, { allowModules: true })).toEqual([8801]);
  });
});
