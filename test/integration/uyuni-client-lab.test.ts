import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UyuniClient } from '../../activities/uyuni/client.js';
import { decodeFast } from '../../activities/uyuni/decode-fast.js';
import { decodeReference } from '../../activities/uyuni/decode-reference.js';
import { UyuniAuthError, UyuniHttpError, UyuniModulesNotAllowedError, UyuniProtocolError, UyuniTimeoutError } from '../../activities/uyuni/errors.js';
import { toApplicationFailure } from '../../activities/uyuni/failure.js';
import { encodeMethodCall } from '../../lab/uyuni/codec.js';
import { startUyuniLab, type UyuniLab } from '../../lab/uyuni/server.js';

// The real client against the lab's UYUNI over HTTP: one test per fault, and the fast decoder proven equal
// to the reference on the lab's own payloads.
describe('UYUNI client against the lab', () => {
  let lab: UyuniLab;
  let client: UyuniClient;
  const password = 'lab-admin-password';
  const newClient = (opts: Partial<ConstructorParameters<typeof UyuniClient>[0]> = {}) =>
    new UyuniClient({ url: lab.url, user: 'admin', password, timeoutMs: 2_000, ...opts });

  beforeAll(async () => {
    lab = await startUyuniLab();
    client = newClient();
  });
  afterAll(async () => {
    await client?.close();
    await lab?.close();
  });
  beforeEach(() => {
    lab.faults.clear();
    lab.stats.reset();
  });

  it('session expiry: one transparent re-login, then success', async () => {
    const groups = await client.listAllGroups();
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['test-ubuntu-2404', 'test-rhel9']));
    lab.expireSessions();
    expect((await client.listAllGroups()).length).toBe(groups.length);
    expect(lab.stats.count('auth.login')).toBe(2);
    expect(client.stats().relogins).toBe(1);
  });

  it('HTTP 500 → a retryable error (Temporal retries it)', async () => {
    lab.faults.inject({ method: 'systemgroup.listAllGroups', kind: 'http500' });
    const err = await client.listAllGroups().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UyuniHttpError);
    expect((err as UyuniHttpError).retryable).toBe(true);
    expect((toApplicationFailure(err) as { nonRetryable: boolean }).nonRetryable).toBe(false);
    expect((await client.listAllGroups()).length).toBeGreaterThan(0);
  });

  it('a hung call → a retryable timeout after the configured time', async () => {
    const quick = newClient({ timeoutMs: 400 });
    try {
      lab.faults.inject({ method: 'systemgroup.listAllGroups', kind: 'hang' });
      const started = Date.now();
      const err = await quick.listAllGroups().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UyuniTimeoutError);
      expect((err as UyuniTimeoutError).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await quick.close();
    }
  });

  it('malformed XML → a clear protocol error', async () => {
    lab.faults.inject({ method: 'systemgroup.listAllGroups', kind: 'malformed' });
    const err = await client.listAllGroups().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UyuniProtocolError);
    expect((err as Error).message).toMatch(/systemgroup\.listAllGroups: malformed XML-RPC response/);
  });

  it('bad credentials → a non-retryable auth error that never shows the password', async () => {
    const bad = newClient({ password: 'not-the-password' });
    try {
      const err = await bad.listAllGroups().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UyuniAuthError);
      expect((err as UyuniAuthError).retryable).toBe(false);
      const failure = toApplicationFailure(err) as { nonRetryable: boolean; type: string; message: string };
      expect(failure).toMatchObject({ nonRetryable: true, type: 'UyuniAuthError' });
      expect(JSON.stringify(failure) + String(err)).not.toMatch(/not-the-password/);
    } finally {
      await bad.close();
    }
  });

  it('a modular RHEL system: the client passes allowModules, so the erratum and a package pin schedule; without it, fault 2107 is typed and final', async () => {
    const [rhel] = lab.fleet.systemsOf('rhel', 'test');
    expect(rhel!.modularChannels.length).toBeGreaterThan(0);
    const picks = lab.fleet.findErrata({ os: 'rhel', personality: 'none', relevantTo: rhel!.id }, 2);
    const strict = newClient({ allowModules: false });
    try {
      const err = await strict.scheduleApplyErrata([rhel!.id], [picks[0]!.id]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UyuniModulesNotAllowedError);
      expect((err as UyuniModulesNotAllowedError).faultString).toMatch(/contains modules/);
      expect(toApplicationFailure(err)).toMatchObject({ type: 'UyuniModulesNotAllowedError', nonRetryable: true });
      expect(lab.fleet.systemActions(rhel!.id)).toHaveLength(0);
    } finally {
      await strict.close();
    }
    const [actionId] = await client.scheduleApplyErrata([rhel!.id], [picks[0]!.id]);
    expect(lab.fleet.action(actionId!)?.systems.has(rhel!.id)).toBe(true);
    const pkg = lab.fleet.installedPackages(rhel!.id).find((p) => p.build > 0)!;
    const older = lab.fleet.packageChain('rhel', pkg.family)[pkg.build - 1]!;
    const pin = await client.schedulePackageInstall(rhel!.id, [older.id], new Date());
    expect(lab.fleet.action(pin)?.packageIds).toEqual([older.id]);
  });

  it('the fast decoder equals the reference decoder on the lab’s own responses', async () => {
    const login = await request(lab.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall('auth.login', ['admin', password]) });
    const key = (await decodeReference(await login.body.text())) as string;
    const [ubuntu] = lab.fleet.systemsOf('ubuntu', 'test');
    const [prod] = lab.fleet.systemsOf('rhel', 'prod');
    const advisory = lab.fleet.relevantErrata(ubuntu!.id)[0]!.advisoryName;
    const rhsa = Object.keys(lab.fleet.truth().advisories).find((a) => a.startsWith('RHSA-'))!;
    const calls: [string, unknown[]][] = [
      ['systemgroup.listAllGroups', []],
      ['systemgroup.listSystems', ['test-ubuntu-2404']],
      ['systemgroup.listSystemsMinimal', ['prod-rhel9']],
      ['system.getRelevantErrata', [ubuntu!.id]],
      ['system.getRelevantErrata', [[ubuntu!.id, prod!.id]]],
      ['errata.getDetails', [rhsa]],
      ['errata.listCves', [advisory]],
      ['errata.listPackages', [advisory]],
      ['errata.listAffectedSystems', [advisory]],
      ['system.getNetwork', [prod!.id]],
      ['system.listSystemEvents', [ubuntu!.id]],
      ['errata.getDetails', ['NOPE-1']],
    ];
    let bytes = 0;
    for (const [method, args] of calls) {
      const res = await request(lab.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall(method, [key, ...args]) });
      const xml = await res.body.text();
      bytes += xml.length;
      const reference = await decodeReference(xml).then((v) => ({ v }), (e: unknown) => ({ e: String(e) }));
      const fast = (() => {
        try {
          return { v: decodeFast(xml) };
        } catch (e) {
          return { e: String(e) };
        }
      })();
      expect(fast, method).toEqual(reference);
    }
    expect(bytes).toBeGreaterThan(200_000);
  });
});
