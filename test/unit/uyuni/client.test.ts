// UyuniClient against a real HTTP server on 127.0.0.1 answering hand-written XML-RPC bodies:
// session sharing and renewal, timeouts, HTTP and protocol failures, fault classification, typed
// results, and — throughout — that neither the password nor a session key leaks into an error or
// a log line.
import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UyuniClient, type UyuniClientOptions } from '../../../activities/uyuni/client.js';
import {
  UyuniAuthError,
  UyuniError,
  UyuniHttpError,
  UyuniNotFoundError,
  UyuniProgrammingError,
  UyuniProtocolError,
  UyuniSessionError,
  UyuniTimeoutError,
  UyuniTransportError,
} from '../../../activities/uyuni/errors.js';
import type { UyuniLogger } from '../../../activities/uyuni/logger.js';
import { faults, sessionKey, startXmlRpcServer, wire, type Reply, type TestServer } from './support/xmlrpc-server.js';

const PASSWORD = 'Pa55-w0rd!secret';
const issuedKeys: string[] = [];
const seenErrors: unknown[] = [];
const logLines: string[] = [];

const logger: UyuniLogger = {
  debug: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  info: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  warn: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
  error: (fields, message) => logLines.push(JSON.stringify({ fields, message })),
};

const open: { servers: TestServer[]; clients: UyuniClient[] } = { servers: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

/** Everything an error exposes: message, stack, own properties, cause chain. */
function exposedText(error: unknown, depth = 0): string {
  if (typeof error !== 'object' || error === null || depth > 4) return String(error);
  const own = Object.getOwnPropertyNames(error).map((name) => {
    const value = (error as Record<string, unknown>)[name];
    return `${name}=${typeof value === 'object' && value !== null ? exposedText(value, depth + 1) : String(value)}`;
  });
  return own.join('\n');
}

async function failure(promise: Promise<unknown>): Promise<UyuniError> {
  try {
    await promise;
  } catch (error) {
    seenErrors.push(error);
    expect(error).toBeInstanceOf(UyuniError);
    return error as UyuniError;
  }
  throw new Error('expected the call to fail');
}

interface FakeUyuni {
  /** Keys the server currently accepts. */
  valid: Set<string>;
  loginDelayMs: number;
  methods: Record<string, (call: { firstString: string | undefined; body: string }) => Reply>;
}

/** Answers auth.login/logout like Uyuni and dispatches other methods after checking the key. */
async function startFakeUyuni(setup: Partial<FakeUyuni> = {}): Promise<{ server: TestServer; state: FakeUyuni }> {
  const state: FakeUyuni = { valid: new Set(), loginDelayMs: 0, methods: {}, ...setup };
  let nextSession = 100 + issuedKeys.length;
  const server = await startXmlRpcServer((call) => {
    if (call.method === 'auth.login') {
      if (!call.body.includes(`<string>${PASSWORD}</string>`)) return { body: faults.wrongLogin() };
      const key = sessionKey(nextSession++);
      issuedKeys.push(key);
      state.valid.add(key);
      return { body: wire.response(wire.string(key)), delayMs: state.loginDelayMs };
    }
    const key = call.firstString ?? '';
    if (!state.valid.has(key)) return { body: faults.unknownSession(key.split('x')[0] ?? '') };
    if (call.method === 'auth.logout') {
      state.valid.delete(key);
      return { body: wire.response(wire.i4(1)) };
    }
    const handler = state.methods[call.method];
    if (handler === undefined) {
      return { body: wire.fault(-1, `redstone.xmlrpc.XmlRpcFault: Could not find method: ${call.method} in class: X with params: []`) };
    }
    return handler(call);
  });
  open.servers.push(server);
  return { server, state };
}

function client(url: string, options: Partial<UyuniClientOptions> = {}): UyuniClient {
  const c = new UyuniClient({ url, user: 'admin', password: PASSWORD, timeoutMs: 2_000, logger, ...options });
  open.clients.push(c);
  return c;
}

const GROUPS = wire.response(
  wire.array(wire.struct({ id: wire.i4(12), name: wire.string('wave-1'), description: wire.string('canary'), system_count: wire.i4(3), org_id: wire.i4(1) })),
);

describe('session handling', () => {
  it('shares one login between concurrent callers', async () => {
    const { server } = await startFakeUyuni({ loginDelayMs: 50, methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    const results = await Promise.all(Array.from({ length: 20 }, () => c.listAllGroups()));
    expect(server.count('auth.login')).toBe(1);
    expect(results.every((r) => r[0]?.name === 'wave-1' && r[0].systemCount === 3)).toBe(true);
    expect(server.calls.filter((call) => call.method === 'systemgroup.listAllGroups').every((call) => call.firstString === issuedKeys.at(-1))).toBe(true);
  });

  it('reuses the key across sequential calls', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    for (let i = 0; i < 5; i++) await c.listAllGroups();
    expect(server.count('auth.login')).toBe(1);
    expect(c.stats()).toMatchObject({ logins: 1, relogins: 0, totalCalls: 6, calls: { 'auth.login': 1, 'systemgroup.listAllGroups': 5 } });
  });

  it('logs in again once, transparently, after the server drops the session', async () => {
    const { server, state } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    await c.listAllGroups();
    state.valid.clear(); // expiry / server restart
    await expect(c.listAllGroups()).resolves.toHaveLength(1);
    expect(server.count('auth.login')).toBe(2);
    expect(server.count('systemgroup.listAllGroups')).toBe(3);
    expect(c.stats()).toMatchObject({ logins: 2, relogins: 1, faults: 1 });
  });

  it('renews a dropped session once for many concurrent callers', async () => {
    const { server, state } = await startFakeUyuni({ loginDelayMs: 30, methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS, delayMs: 20 }) } });
    const c = client(server.url);
    await c.listAllGroups();
    state.valid.clear();
    await Promise.all(Array.from({ length: 10 }, () => c.listAllGroups()));
    expect(server.count('auth.login')).toBe(2);
  });

  it('surfaces a second consecutive session fault instead of looping', async () => {
    const { server } = await startFakeUyuni({
      methods: { 'systemgroup.listAllGroups': (call) => ({ body: faults.unknownSession((call.firstString ?? '').split('x')[0] ?? '') }) },
    });
    const c = client(server.url);
    const error = await failure(c.listAllGroups());
    expect(error).toBeInstanceOf(UyuniSessionError);
    expect(error.retryable).toBe(true);
    expect(server.count('auth.login')).toBe(2);
    expect(server.count('systemgroup.listAllGroups')).toBe(2);
  });

  it('passes the optional session duration to auth.login', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    await client(server.url, { sessionDurationSec: 1800 }).listAllGroups();
    expect(server.calls[0]?.body).toContain('<int>1800</int>');
  });

  it('logs out on close and refuses calls afterwards', async () => {
    const { server, state } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    await c.listAllGroups();
    const key = issuedKeys.at(-1);
    await c.close();
    expect(server.calls.at(-1)).toMatchObject({ method: 'auth.logout', firstString: key });
    expect(state.valid.size).toBe(0);
    expect(await failure(c.listAllGroups())).toBeInstanceOf(UyuniProgrammingError);
    await c.close(); // idempotent
  });
});

describe('failures', () => {
  it('times out a hanging call with a retryable error, within about the timeout', async () => {
    const { server } = await startFakeUyuni({ methods: { 'system.getNetwork': () => 'hang', 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url, { timeoutMs: 300 });
    await c.listAllGroups(); // log in first so only the hanging call is timed
    const started = performance.now();
    const error = await failure(c.getNetwork(1000010001));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(UyuniTimeoutError);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('system.getNetwork: no complete response within 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_000);
    await expect(c.listAllGroups()).resolves.toHaveLength(1); // the pool is still usable
  });

  it('reports HTTP 500 as a retryable HTTP error', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ status: 500, body: '<html>Internal Server Error</html>' }) } });
    const error = await failure(client(server.url).listAllGroups());
    expect(error).toBeInstanceOf(UyuniHttpError);
    expect(error).toMatchObject({ status: 500, retryable: true, type: 'UyuniHttpError' });
    expect(error.message).toBe('systemgroup.listAllGroups: HTTP 500: <html>Internal Server Error</html>');
  });

  it('reports a truncated body as a retryable protocol error', async () => {
    const { server } = await startFakeUyuni({
      methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS.slice(0, GROUPS.length - 60) }) },
    });
    const error = await failure(client(server.url).listAllGroups());
    expect(error).toBeInstanceOf(UyuniProtocolError);
    expect(error).toMatchObject({ truncated: true, retryable: true });
    expect(error.message).toMatch(/^systemgroup\.listAllGroups: malformed XML-RPC response \(truncated\): unexpected end of document/);
  });

  it('times out a body that keeps trickling in past the deadline (the timeout covers the whole body)', async () => {
    const { server } = await startFakeUyuni({
      methods: {
        'system.getNetwork': () => ({ body: wire.response(wire.struct({ ip: wire.string('10.0.0.5'.repeat(50)) })), chunkBytes: 8, chunkDelayMs: 20 }),
        'systemgroup.listAllGroups': () => ({ body: GROUPS }),
      },
    });
    const c = client(server.url, { timeoutMs: 300 });
    await c.listAllGroups();
    const started = performance.now();
    const error = await failure(c.getNetwork(1000010001));
    expect(error).toBeInstanceOf(UyuniTimeoutError);
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(c.listAllGroups()).resolves.toHaveLength(1);
  });

  it.each(['fast', 'reference'] as const)('reports a truncated body written in small pieces as truncated (%s decoder)', async (decoder) => {
    const { server } = await startFakeUyuni({
      methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS.slice(0, GROUPS.length - 60), chunkBytes: 5, chunkDelayMs: 1 }) },
    });
    const error = await failure(client(server.url, { decoder }).listAllGroups());
    expect(error).toMatchObject({ type: 'UyuniProtocolError', truncated: true, retryable: true });
  });

  it('reports a complete non-XML-RPC body as a non-retryable protocol error', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: '<html><body>Maintenance</body></html>' }) } });
    const error = await failure(client(server.url).listAllGroups());
    expect(error).toMatchObject({ type: 'UyuniProtocolError', truncated: false, retryable: false });
    expect(error.message).toContain('expected <methodResponse> as the root element, got <html>');
  });

  it('reports a wrong password as a non-retryable auth error, and tries again on the next call', async () => {
    const { server } = await startFakeUyuni();
    const c = new UyuniClient({ url: server.url, user: 'admin', password: 'wrong-password', logger });
    open.clients.push(c);
    const error = await failure(c.listAllGroups());
    expect(error).toBeInstanceOf(UyuniAuthError);
    expect(error).toMatchObject({ type: 'UyuniAuthError', retryable: false, faultCode: 2950, method: 'auth.login' });
    expect(error.message).not.toContain('wrong-password');
    await failure(c.listAllGroups());
    expect(server.count('auth.login')).toBe(2);
  });

  it('reports an unknown advisory as not found', async () => {
    const { server } = await startFakeUyuni({ methods: { 'errata.getDetails': () => ({ body: faults.unknownAdvisory('NOPE-1') }) } });
    const error = await failure(client(server.url).getErrataDetails('NOPE-1'));
    expect(error).toBeInstanceOf(UyuniNotFoundError);
    expect(error).toMatchObject({ kind: 'advisory', subject: 'NOPE-1', retryable: false, faultCode: -208 });
  });

  it('reports an unknown method as a programming error', async () => {
    const { server } = await startFakeUyuni();
    const error = await failure(client(server.url).call('system.noSuchThing', 1));
    expect(error).toMatchObject({ type: 'UyuniProgrammingError', retryable: false, faultCode: -1 });
  });

  it('reports a refused connection as a retryable transport error', async () => {
    const dead = await startXmlRpcServer(() => ({ body: '' }));
    const { url } = dead;
    await dead.close();
    const error = await failure(client(url, { timeoutMs: 1_000 }).listAllGroups());
    expect(error).toBeInstanceOf(UyuniTransportError);
    expect(error).toMatchObject({ retryable: true, code: 'ECONNREFUSED' });
  });

  it('redacts the password and the session key when a fault echoes them', async () => {
    const { server } = await startFakeUyuni({
      methods: {
        'system.getNetwork': (call) => ({
          body: wire.fault(-1, `java.lang.IllegalArgumentException: bad arguments [${call.firstString ?? ''}, ${PASSWORD}]`),
        }),
      },
    });
    const error = await failure(client(server.url).getNetwork(1));
    expect(error.message).toBe('system.getNetwork: fault -1: java.lang.IllegalArgumentException: bad arguments [[REDACTED], [REDACTED]]');
  });

  it('rejects null parameters before sending anything', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    const error = await failure(c.call('system.getDetails', null as unknown as number));
    expect(error).toBeInstanceOf(UyuniProgrammingError);
    expect(server.calls.filter((call) => call.method === 'system.getDetails')).toHaveLength(0);
  });
});

// ---- typed methods --------------------------------------------------------------------------------

const ERRATA = wire.struct({
  id: wire.i4(5123),
  issue_date: wire.string('2024-05-10'),
  date: wire.string('2024-05-12'),
  update_date: wire.string('2024-05-12'),
  advisory_synopsis: wire.string('Security update for openssl-3 & <friends>'),
  advisory_type: wire.string('Security Advisory'),
  advisory_status: wire.string('final'),
  advisory_name: wire.string('SUSE-SLE-Module-Basesystem-15-SP5-2024-1650'),
  reboot: wire.boolean(false),
  reload: wire.boolean(true),
});

const typedMethods: FakeUyuni['methods'] = {
  'system.getRelevantErrata': (call) =>
    call.body.includes('<array>')
      ? { body: wire.response(wire.array(wire.struct({ system_id: wire.string('1000010001'), errata: wire.array(ERRATA) }), wire.struct({ system_id: wire.string('1000010002'), errata: wire.array() }))) }
      : { body: wire.response(wire.array(ERRATA)) },
  'system.getNetwork': () => ({ body: wire.response(wire.struct({ ip: wire.string('10.0.0.5'), ip6: wire.string(''), hostname: wire.string('web01.example.com') })) }),
  'systemgroup.listSystemsMinimal': () => ({
    body: wire.response(wire.array(wire.struct({ id: wire.i4(1000010001), name: wire.string('web01'), last_checkin: wire.dateTime('20240514T10:23:45'), extra_pkg_count: wire.i4(0), outdated_pkg_count: wire.i4(17) }))),
  }),
  'systemgroup.listSystems': () => ({
    body: wire.response(wire.array(wire.struct({ id: wire.i4(1000010001), profile_name: wire.string('web01'), hostname: wire.string('web01.example.com'), base_entitlement: wire.string('salt_entitled'), addon_entitlements: wire.array(wire.string('monitoring_entitled')), auto_update: wire.boolean(false), last_boot: wire.dateTime('20240510T08:00:00'), lock_status: wire.boolean(false), contact_method: wire.string('default') }))),
  }),
  'errata.getDetails': () => ({
    body: wire.response(wire.struct({ id: wire.i4(5123), issue_date: wire.string('5/10/24'), update_date: wire.string('5/12/24'), last_modified_date: wire.string('2024-05-12 09:01:02.0'), release: wire.i4(1), advisory_status: wire.string('final'), vendor_advisory: wire.string(''), product: wire.string('SLES'), errataFrom: wire.string('maint@suse.de'), solution: wire.string('zypper patch'), description: wire.string('d'), synopsis: wire.string('s'), topic: wire.string('t'), references: wire.string('r'), notes: wire.string(''), type: wire.string('Security Advisory'), severity: wire.string('Important'), reboot_suggested: wire.boolean(false), restart_suggested: wire.boolean(true) })),
  }),
  'errata.listCves': () => ({ body: wire.response(wire.array(wire.string('CVE-2024-0727'), wire.string('CVE-2023-6237'))) }),
  'errata.listPackages': () => ({
    body: wire.response(wire.array(wire.struct({ id: wire.i4(88123), name: wire.string('openssl-3'), epoch: wire.string(''), version: wire.string('3.0.8'), release: wire.string('150500.5.30.1'), arch_label: wire.string('x86_64'), providing_channels: wire.array(wire.string('sles15-sp5-updates')), checksum: wire.string('ab'), checksum_type: wire.string('sha256'), build_date: wire.string('5/12/24 9:01 AM'), last_modified_date: wire.string('2024-05-12 09:01:02.0'), part_of_retracted_patch: wire.boolean(false), size: wire.string('1048576'), payload_size: wire.string('524288') }))),
  }),
  'errata.listAffectedSystems': () => ({ body: wire.response(wire.array(wire.struct({ id: wire.i4(1000010001), name: wire.string('web01'), last_checkin: wire.dateTime('20240514T10:23:45'), extra_pkg_count: wire.i4(0), outdated_pkg_count: wire.i4(1) }))) }),
  'system.scheduleApplyErrata': () => ({ body: wire.response(wire.array(wire.i4(8801))) }),
  'system.scheduleReboot': () => ({ body: wire.response(wire.i4(8802)) }),
  'system.schedulePackageInstall': () => ({ body: wire.response(wire.i4(8803)) }),
  'system.schedulePackageInstallByNevra': () => ({ body: wire.response(wire.i4(8804)) }),
  'system.getEventDetails': () => ({
    body: wire.response(wire.struct({ id: wire.i4(8801), history_type: wire.string('Patch Update'), status: wire.string('Failed'), summary: wire.string('Patch Update: x'), created: wire.dateTime('20240514T21:59:00'), picked_up: wire.dateTime('20240514T22:00:02'), completed: wire.dateTime('20240514T22:03:10'), earliest_action: wire.dateTime('20240514T22:00:00'), result_msg: wire.string('Failed to apply patch'), result_code: wire.i4(1), additional_info: wire.array(wire.struct({ detail: wire.string('pkg'), result: wire.string('error') })) })),
  }),
  'system.listSystemEvents': () => ({
    body: wire.response(wire.array(wire.struct({ id: wire.i4(8801), name: wire.string('Patch Update: x'), action_type: wire.string('Patch Update'), version: wire.string('2'), failed_count: wire.i4(1), successful_count: wire.i4(3), earliest_action: wire.string('2024-05-14 22:00:00.0'), archived: wire.i4(0), created: wire.string('2024-05-14 21:59:00.0'), created_date: wire.dateTime('20240514T21:59:00'), modified: wire.string('2024-05-14 22:03:10.0'), completion_time: wire.string('2024-05-14 22:03:10.0'), result_msg: wire.string('Failed') }))),
  }),
  'schedule.listFailedSystems': () => ({ body: wire.response(wire.array(wire.struct({ server_id: wire.i4(1000010002), server_name: wire.string('web02'), base_channel: wire.string('sles15-sp5-pool'), timestamp: wire.dateTime('20240514T22:03:10'), message: wire.string('Failed to apply patch') }))) }),
  'schedule.listCompletedSystems': () => ({ body: wire.response(wire.array()) }),
  'schedule.listInProgressSystems': () => ({ body: wire.response(wire.array(wire.struct({ server_id: wire.i4(1000010001), server_name: wire.string('web01'), base_channel: wire.string('sles15-sp5-pool'), timestamp: wire.dateTime('20240514T22:00:00') }))) }),
};

const at = (iso: string) => new Date(iso);

describe.each(['fast', 'reference'] as const)('typed methods (%s decoder)', (decoder) => {
  it('map read results to typed values', async () => {
    const { server } = await startFakeUyuni({ methods: typedMethods });
    const c = client(server.url, { decoder });

    expect(await c.getRelevantErrata(1000010001)).toEqual([
      {
        id: 5123,
        advisoryName: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1650',
        advisoryType: 'Security Advisory',
        advisoryStatus: 'final',
        advisorySynopsis: 'Security update for openssl-3 & <friends>',
        issueDate: at('2024-05-10T00:00:00Z'),
        updateDate: at('2024-05-12T00:00:00Z'),
        reboot: false,
        reload: true,
      },
    ]);
    const perSystem = await c.getRelevantErrataForSystems([1000010001, 1000010002]);
    expect(perSystem.map((s) => [s.systemId, s.errata.length])).toEqual([[1000010001, 1], [1000010002, 0]]);
    expect(server.calls.at(-1)?.body).toContain('<array><data><value><int>1000010001</int></value>');

    expect(await c.getNetwork(1000010001)).toEqual({ ip: '10.0.0.5', ip6: '', hostname: 'web01.example.com' });
    expect(await c.listSystemsMinimal('wave-1')).toEqual([
      { id: 1000010001, name: 'web01', lastCheckin: at('2024-05-14T10:23:45Z'), created: null, lastBoot: null, extraPkgCount: 0, outdatedPkgCount: 17 },
    ]);
    expect((await c.listSystems('wave-1'))[0]).toMatchObject({ id: 1000010001, profileName: 'web01', addonEntitlements: ['monitoring_entitled'], lastBoot: at('2024-05-10T08:00:00Z'), lockStatus: false, minionId: null });

    expect(await c.getErrataDetails('SUSE-1')).toMatchObject({
      issueDate: at('2024-05-10T00:00:00Z'),
      updateDate: at('2024-05-12T00:00:00Z'),
      lastModifiedDate: at('2024-05-12T09:01:02Z'),
      severity: 'Important',
      type: 'Security Advisory',
      restartSuggested: true,
    });
    expect(await c.listCves('SUSE-1')).toEqual(['CVE-2024-0727', 'CVE-2023-6237']);
    expect((await c.listPackages('SUSE-1'))[0]).toMatchObject({ id: 88123, epoch: '', archLabel: 'x86_64', size: 1048576, payloadSize: 524288, buildDate: '5/12/24 9:01 AM', providingChannels: ['sles15-sp5-updates'], vendor: null });
    expect((await c.listAffectedSystems('SUSE-1'))[0]?.id).toBe(1000010001);

    expect(await c.getEventDetails(1000010002, 8801)).toMatchObject({ status: 'Failed', pickedUp: at('2024-05-14T22:00:02Z'), resultCode: 1, additionalInfo: [{ detail: 'pkg', result: 'error' }] });
    expect((await c.listSystemEvents(1000010002))[0]).toMatchObject({ id: 8801, archived: false, earliestAction: at('2024-05-14T22:00:00Z'), created: at('2024-05-14T21:59:00Z'), completed: at('2024-05-14T22:03:10Z'), pickedUp: null, version: '2' });
    expect(await c.listFailedSystems(8801)).toEqual([{ serverId: 1000010002, serverName: 'web02', baseChannel: 'sles15-sp5-pool', timestamp: at('2024-05-14T22:03:10Z'), message: 'Failed to apply patch' }]);
    expect(await c.listCompletedSystems(8801)).toEqual([]);
    expect((await c.listInProgressSystems(8801))[0]?.message).toBeNull();

    const stats = c.stats();
    expect(stats.calls['system.getRelevantErrata']).toBe(2);
    expect(stats.bytesDecoded).toBeGreaterThan(1_000);
    expect(stats.decodeMs).toBeGreaterThan(0);
  });

  it('sends scheduling calls with compact dates in the Uyuni zone', async () => {
    const { server } = await startFakeUyuni({ methods: typedMethods });
    const c = client(server.url, { decoder, timeZone: 'Europe/Berlin' });
    const earliest = at('2024-05-14T22:00:00Z');

    expect(await c.scheduleApplyErrata([1000010001, 1000010002], [5123], earliest)).toEqual([8801]);
    expect(server.calls.at(-1)?.body).toContain('<dateTime.iso8601>20240515T00:00:00</dateTime.iso8601>');
    await c.scheduleApplyErrata([1000010001], [5123], earliest, { onlyRelevant: false });
    // allowModules (on by default) then onlyRelevant.
    expect(server.calls.at(-1)?.body).toMatch(/20240515T00:00:00<\/dateTime.iso8601><\/value><\/param><param><value><boolean>1<\/boolean><\/value><\/param><param><value><boolean>0<\/boolean>/);
    // Without earliest: now, written in the UYUNI zone (the overload with earliest is the one with allowModules).
    const before = Date.now();
    await c.scheduleApplyErrata([1000010001], [5123]);
    const sent = /<dateTime.iso8601>(\d{4})(\d\d)(\d\d)T(\d\d:\d\d:\d\d)<\/dateTime.iso8601>/.exec(server.calls.at(-1)?.body ?? '');
    const berlinNow = new Date(`${sent?.[1]}-${sent?.[2]}-${sent?.[3]}T${sent?.[4]}Z`).getTime();
    const offsetMs = berlinNow - before;
    // Europe/Berlin is UTC+1 or +2: the wall clock written is that far ahead of UTC.
    expect(offsetMs).toBeGreaterThan(3_600_000 - 2_000);
    expect(offsetMs).toBeLessThan(7_200_000 + 2_000);

    expect(await c.scheduleReboot(1000010001, earliest)).toBe(8802);
    expect(await c.schedulePackageInstall(1000010001, [88123], earliest)).toBe(8803);
    expect(await c.schedulePackageInstallByNevra(1000010001, [{ name: 'openssl-3', version: '3.0.8', release: '150500.5.27.1', arch: 'x86_64' }], earliest)).toBe(8804);
    const nevraCall = server.calls.at(-1)?.body ?? '';
    expect(nevraCall).toContain('<name>package_epoch</name><value><string/></value>');
    expect(nevraCall).toContain('<name>package_name</name><value><string>openssl-3</string></value>');

    // Dates coming back are read in the same zone.
    expect((await c.listSystemsMinimal('wave-1'))[0]?.lastCheckin).toEqual(at('2024-05-14T08:23:45Z'));
    for (const call of server.calls) expect(call.body).not.toContain('<nil');
  });
});

describe.each(['fast', 'reference'] as const)('a body written in many small delayed pieces (%s decoder)', (decoder) => {
  it('decodes it as it arrives, multi-byte characters and entities split across pieces', async () => {
    const synopsis = 'Sécurité 修正 😀 for openssl-3 & <friends>';
    const errata = Array.from({ length: 6 }, (_x, i) =>
      wire.struct({ id: wire.i4(5000 + i), advisory_name: wire.string(`SUSE-2024-${i}`), advisory_synopsis: wire.string(synopsis), advisory_type: wire.string('Security Advisory'), advisory_status: wire.string('final'), issue_date: wire.string('2024-05-10'), update_date: wire.string('2024-05-12'), reboot: wire.boolean(false), reload: wire.boolean(true) }),
    );
    const body = wire.response(wire.array(...errata));
    const { server } = await startFakeUyuni({ methods: { 'system.getRelevantErrata': () => ({ body, chunkBytes: 7, chunkDelayMs: 1 }) } });
    const c = client(server.url, { decoder });
    const result = await c.getRelevantErrata(1000010001);
    expect(result.map((e) => [e.id, e.advisoryName, e.advisorySynopsis])).toEqual(errata.map((_x, i) => [5000 + i, `SUSE-2024-${i}`, synopsis]));
    const stats = c.stats();
    expect(stats.bytesDecoded).toBe(Buffer.byteLength(body) + Buffer.byteLength(wire.response(wire.string(issuedKeys.at(-1) ?? ''))));
    expect(stats.decodeMs).toBeGreaterThan(0);
  });
});

describe('secrets', () => {
  it('are not visible when inspecting a client', async () => {
    const { server } = await startFakeUyuni({ methods: { 'systemgroup.listAllGroups': () => ({ body: GROUPS }) } });
    const c = client(server.url);
    await c.listAllGroups();
    const text = inspect(c, { showHidden: true, depth: 8 });
    expect(text).not.toContain(PASSWORD);
    for (const key of issuedKeys) expect(text).not.toContain(key.slice(key.indexOf('x') + 1));
  });

  afterAll(() => {
    // Runs after every test of this file: each error seen and each log line written.
    expect(seenErrors.length).toBeGreaterThan(10);
    expect(logLines.length).toBeGreaterThan(10);
    const secrets = [PASSWORD, ...issuedKeys, ...issuedKeys.map((key) => key.slice(key.indexOf('x') + 1))];
    for (const error of seenErrors) {
      const text = exposedText(error);
      for (const secret of secrets) expect(text, `error leaks a secret: ${(error as Error).message}`).not.toContain(secret);
    }
    for (const line of logLines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
  });
});
