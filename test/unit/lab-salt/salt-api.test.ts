import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, manualClock, type LabSystem, type ManualClock } from '../../../lab/fleet/index.js';
import { startSaltLab, type SaltLab } from '../../../lab/salt/index.js';
import { http, SaltApi, until } from './helpers.js';

let clock: ManualClock;
let fleet: Fleet;
let lab: SaltLab;
let api: SaltApi;
let ubuntu: LabSystem;
let rhel: LabSystem;

beforeAll(async () => {
  clock = manualClock();
  fleet = new Fleet({ clock, prodSystemsPerOs: 2, rebootMs: 1000 });
  lab = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 150, snapperMs: 50, rebootMs: 10 } });
  api = new SaltApi(lab.url);
  expect((await api.login()).status).toBe(200);
  ubuntu = fleet.systemsOf('ubuntu', 'test')[0]!;
  rhel = fleet.systemsOf('rhel', 'test')[0]!;
});
afterAll(async () => {
  await lab.close();
});

describe('auth', () => {
  it('GET / welcomes without a token', async () => {
    const res = await http<{ return: string; clients: string[] }>(`${lab.url}/`);
    expect(res.status).toBe(200);
    expect(res.json.return).toBe('Welcome');
    expect(res.json.clients).toEqual(expect.arrayContaining(['local', 'local_async', 'runner']));
  });

  it('logs in: X-Auth-Token header and the token record with a 12 h lifetime', async () => {
    const client = new SaltApi(lab.url);
    const res = await client.login();
    expect(res.status).toBe(200);
    const rec = res.json.return[0]!;
    expect(client.token).toMatch(/^[0-9a-f]{40}$/);
    expect(rec).toMatchObject({ token: client.token, user: 'spm', eauth: 'sharedsecret', perms: ['.*', '@runner', '@wheel', '@jobs'] });
    expect((rec.expire as number) - (rec.start as number)).toBe(43_200);
    expect(rec.start).toBe(clock() / 1000);
    expect(res.headers.get('set-cookie')).toContain(`session_id=${client.token}`);
  });

  it('answers bad credentials with 401 and an HTML body', async () => {
    for (const creds of [{ password: 'wrong' }, { user: 'root' }, { eauth: 'pam' }]) {
      const res = await new SaltApi(lab.url).login(creds);
      expect(res.status).toBe(401);
      expect(res.contentType).toContain('text/html');
      expect(res.text).toContain('<title>401 Unauthorized</title>');
    }
  });

  it('refuses unknown, expired and logged-out tokens with 401 HTML', async () => {
    const client = new SaltApi(lab.url);
    client.token = 'deadbeef';
    const unknown = await client.post([{ client: 'local', tgt: '*', fun: 'test.ping' }]);
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('CherryPy');

    await client.login();
    expect((await client.post([{ client: 'local', tgt: ubuntu.minionId, fun: 'test.ping' }])).status).toBe(200);
    clock.advance(43_200_000);
    const expired = await client.post([{ client: 'local', tgt: ubuntu.minionId, fun: 'test.ping' }]);
    expect(expired.status).toBe(401);
    expect(expired.contentType).toContain('text/html');
    expect((await client.get('/jobs/1')).status).toBe(401);

    await client.login();
    expect(lab.expireTokens()).toBeGreaterThan(0);
    expect((await client.post([{ client: 'local', tgt: ubuntu.minionId, fun: 'test.ping' }])).status).toBe(401);

    await client.login();
    expect((await client.post({}, '/logout')).status).toBe(200);
    expect((await client.post([{ client: 'local', tgt: ubuntu.minionId, fun: 'test.ping' }])).status).toBe(401);
    await api.login(); // expireTokens dropped the shared client's token as well
  });

  it('400 for a body that is not a list and for disabled clients', async () => {
    const notList = await api.post({ client: 'local', tgt: '*', fun: 'test.ping' });
    expect(notList.status).toBe(400);
    expect(notList.text).toContain('Lowstates must be a list');
    const wheel = await api.post([{ client: 'wheel', fun: 'key.list_all' }]);
    expect(wheel.status).toBe(400);
    expect(wheel.text).toContain('Client disabled');
  });
});

describe('local client', () => {
  it('targets by glob, list and exact id; an unmatched glob gives {}', async () => {
    const all = await api.local('test-*', 'test.ping');
    expect(all).toEqual({ [ubuntu.minionId]: true, [rhel.minionId]: true });
    expect(Object.keys(await api.local([ubuntu.minionId, 'nobody.example'], 'test.ping'))).toEqual([ubuntu.minionId]);
    expect(await api.local(rhel.minionId, 'test.ping')).toEqual({ [rhel.minionId]: true });
    expect(await api.local('no-such-*', 'test.ping')).toEqual({});
    expect(Object.keys(await api.local('prod-rhel9-*', 'test.ping'))).toHaveLength(2);
    expect(await api.local(`${rhel.ip}/32`, 'test.ping', { tgt_type: 'ipcidr' })).toEqual({ [rhel.minionId]: true });
  });

  it('answers one return element per chunk, in order', async () => {
    const res = await api.post([
      { client: 'local', tgt: ubuntu.minionId, fun: 'test.ping' },
      { client: 'local', tgt: ubuntu.minionId, fun: 'pkg.version', arg: ['no-such-package'] },
    ]);
    expect(res.json.return).toEqual([{ [ubuntu.minionId]: true }, { [ubuntu.minionId]: '' }]);
  });

  it('full_return wraps each value in {ret, retcode, jid, out}', async () => {
    const res = (await api.local(ubuntu.minionId, 'test.ping', { full_return: true }))[ubuntu.minionId] as Record<string, unknown>;
    expect(res).toMatchObject({ ret: true, retcode: 0, out: 'nested' });
    expect(res.jid).toMatch(/^\d{20}$/);
  });

  it('grains.items carries the OS facts and 127.0.0.1 in ipv4', async () => {
    const g = await api.one<Record<string, unknown>>(rhel.minionId, 'grains.items');
    expect(g).toMatchObject({ id: rhel.minionId, os: 'RedHat', os_family: 'RedHat', osrelease: '9.4', osfinger: 'Red Hat Enterprise Linux-9', fqdn: rhel.name, kernel: 'Linux' });
    expect(g.ipv4).toEqual(['127.0.0.1', rhel.ip]);
    expect(g.kernelrelease).toMatch(/^5\.14\.0-427\.\d+\.1\.el9_4\.x86_64$/);
    const u = await api.one<Record<string, unknown>>(ubuntu.minionId, 'grains.items');
    expect(u).toMatchObject({ os: 'Ubuntu', os_family: 'Debian', osrelease: '24.04', osfinger: 'Ubuntu-24.04' });
    expect(u.kernelrelease).toMatch(/^6\.8\.0-\d+-generic$/);
    expect(await api.one(ubuntu.minionId, 'grains.item', { arg: ['os', 'osrelease'] })).toEqual({ os: 'Ubuntu', osrelease: '24.04' });
  });

  it('unknown functions come back as a string with retcode 1', async () => {
    expect(await api.full(ubuntu.minionId, 'nope.nothing')).toMatchObject({ ret: "'nope.nothing' is not available.", retcode: 1 });
    expect(await api.full(ubuntu.minionId, 'service.status')).toMatchObject({ retcode: 1, ret: expect.stringMatching(/^Passed invalid arguments to service.status/) });
  });

  it('a down minion is plain false even with full_return; a false return is not', async () => {
    const sys = fleet.systemsOf('ubuntu', 'prod')[0]!;
    fleet.setServiceState(sys.id, 'nginx', false);
    expect(await api.one(sys.minionId, 'service.status', { arg: ['nginx'] })).toBe(false);
    expect(await api.full(sys.minionId, 'service.status', { arg: ['nginx'] })).toMatchObject({ ret: false, retcode: 0 });

    fleet.rebootNow(sys.id);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(false);
    expect(await api.full(sys.minionId, 'test.ping')).toBe(false);
    expect(await api.full(sys.minionId, 'service.status', { arg: ['nginx'] })).toBe(false);
    clock.advance(1000);
    expect(await api.one(sys.minionId, 'test.ping')).toBe(true);
  });
});

describe('async jobs', () => {
  it('local_async returns {jid, minions} at once; /jobs/<jid> fills in when the job is done', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[1]!;
    const chain = fleet.packageChain('rhel', 'curl');
    const installed = fleet.installedBuild(sys.id, 'curl');
    const target = chain.find((b) => b.id !== installed.id)!;
    const version = `${target.version}-${target.release}`;
    const started = Date.now();
    const res = await api.post([{ client: 'local_async', tgt: sys.minionId, fun: 'pkg.install', kwarg: { pkgs: [{ curl: version }] } }]);
    expect(Date.now() - started).toBeLessThan(150);
    const { jid, minions } = (res.json.return as Array<{ jid: string; minions: string[] }>)[0]!;
    expect(jid).toMatch(/^\d{20}$/);
    expect(minions).toEqual([sys.minionId]);

    const pending = await api.get<{ info: Array<Record<string, unknown>>; return: Array<Record<string, unknown>> }>(`/jobs/${jid}`);
    expect(pending.status).toBe(200);
    expect(pending.json.info[0]).toMatchObject({ jid, Function: 'pkg.install', Minions: [sys.minionId], Result: {} });
    expect(pending.json.info[0]!.StartTime).toMatch(/^\d{4}, [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(pending.json.info[0]!.Arguments).toEqual([{ pkgs: [{ curl: version }], __kwarg__: true }]);
    expect(pending.json.return[0]).toEqual({});
    expect(fleet.installedBuild(sys.id, 'curl').id).toBe(installed.id);

    const done = await until(
      () => api.get<{ info: Array<Record<string, unknown>>; return: Array<Record<string, unknown>> }>(`/jobs/${jid}`),
      (r) => sys.minionId in (r.json.return[0] ?? {}),
    );
    expect(done.json.return[0]![sys.minionId]).toEqual({ curl: { old: `${installed.version}-${installed.release}`, new: version } });
    expect((done.json.info[0]!.Result as Record<string, unknown>)[sys.minionId]).toMatchObject({ retcode: 0, success: true });
    expect(fleet.installedBuild(sys.id, 'curl').id).toBe(target.id);

    const lookup = await api.post([{ client: 'runner', fun: 'jobs.lookup_jid', jid }]);
    expect(lookup.json.return[0]).toEqual({ [sys.minionId]: { curl: { old: `${installed.version}-${installed.release}`, new: version } } });
  });

  it('local_async to a down minion lists it, but it never returns', async () => {
    const sys = fleet.systemsOf('ubuntu', 'prod')[1]!;
    fleet.rebootNow(sys.id);
    const res = await api.post([{ client: 'local_async', tgt: sys.minionId, fun: 'test.ping' }]);
    const { jid, minions } = (res.json.return as Array<{ jid: string; minions: string[] }>)[0]!;
    expect(minions).toEqual([sys.minionId]);
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    const job = await api.get<{ return: Array<Record<string, unknown>> }>(`/jobs/${jid}`);
    expect(job.json.return[0]).toEqual({});
    expect(await api.local('no-such-*', 'test.ping', { client: 'local_async' })).toEqual({});
  });

  it('an unknown jid gives an Error in info[0], with StartTime and an empty Result as jobs.list_job writes them', async () => {
    const res = await api.get<{ info: Array<Record<string, unknown>>; return: unknown[] }>('/jobs/20200101000000000000');
    expect(res.status).toBe(200);
    expect(res.json.info[0]).toEqual({ jid: '20200101000000000000', Error: 'Cannot contact returner or no job with this jid', StartTime: '2020, Jan 01 00:00:00.000000', Result: {} });
    expect(res.json.return).toEqual([{}]);
  });

  it('job cache fault loadMissing: the Error beside the returns, for the next N reads of that jid', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const res = await api.post([{ client: 'local_async', tgt: [sys.minionId], tgt_type: 'list', fun: 'test.ping' }]);
    const { jid } = (res.json.return as Array<{ jid: string }>)[0]!;
    const normal = await until(
      () => api.get<{ info: Array<Record<string, unknown>>; return: Array<Record<string, unknown>> }>(`/jobs/${jid}`),
      (r) => sys.minionId in (r.json.return[0] ?? {}),
    );
    expect(normal.json.info[0]).toMatchObject({ Function: 'test.ping', Minions: [sys.minionId] });
    const injected = await api.post<{ id: number }>({ kind: 'loadMissing', jid, times: 2 }, '/lab/faults');
    expect(injected.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const faulty = await api.get<{ info: Array<Record<string, unknown>>; return: Array<Record<string, unknown>> }>(`/jobs/${jid}`);
      expect(faulty.json.info[0]).toEqual({
        jid,
        Error: 'Cannot contact returner or no job with this jid',
        StartTime: normal.json.info[0]!.StartTime,
        Result: { [sys.minionId]: { return: true, retcode: 0, success: true } },
      });
      expect(faulty.json.return).toEqual([{ [sys.minionId]: true }]);
    }
    expect((await api.get<{ info: Array<Record<string, unknown>> }>(`/jobs/${jid}`)).json.info[0]).toMatchObject({ Function: 'test.ping' });
    // The runner answers the same.
    await api.post({ kind: 'loadMissing', times: 1 }, '/lab/faults');
    const runner = await api.post([{ client: 'runner', fun: 'jobs.list_job', jid }]);
    expect((runner.json.return as Array<Record<string, unknown>>)[0]).toMatchObject({ Error: 'Cannot contact returner or no job with this jid', Result: { [sys.minionId]: { return: true } } });
  });

  it('job cache fault cacheUnreachable: the Error and an empty Result although the job exists', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const res = await api.post([{ client: 'local_async', tgt: [sys.minionId], tgt_type: 'list', fun: 'test.ping' }]);
    const { jid } = (res.json.return as Array<{ jid: string }>)[0]!;
    await api.post({ kind: 'cacheUnreachable', jid }, '/lab/faults');
    const faulty = await api.get<{ info: Array<Record<string, unknown>>; return: unknown[] }>(`/jobs/${jid}`);
    expect(faulty.json.info[0]).toMatchObject({ Error: 'Cannot contact returner or no job with this jid', Result: {} });
    expect(faulty.json.return).toEqual([{}]);
    expect((await api.post({ kind: 'nope' }, '/lab/faults')).status).toBe(400);
    expect((await api.post({ kind: 'loadMissing', times: 0 }, '/lab/faults')).status).toBe(400);
  });

  it('counts calls per function and per minion', async () => {
    const before = lab.stats.count('test.version');
    await api.local('test-*', 'test.version');
    expect(lab.stats.count('test.version')).toBe(before + 1);
    expect(lab.stats.countFor(ubuntu.minionId, 'test.version')).toBeGreaterThanOrEqual(1);
    const remote = await http<{ calls: Record<string, number> }>(`${lab.url}/lab/stats`);
    expect(remote.json.calls['test.version']).toBe(before + 1);
  });
});
