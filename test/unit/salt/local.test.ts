// Sync `local` calls with full_return, and the typed helpers built on them: a minion that did not
// answer vs a function that returned false, "ERROR: ..." strings, "not available", and each helper's
// return shape from the reference (§1.8).
import { describe, expect, it } from 'vitest';
import { SaltExecutionError, SaltNoAnswerError, SaltProtocolError } from '../../../activities/salt/errors.js';
import { expectNoSecrets, failure, setup } from './support/harness.js';
import { full, PASSWORD, type Chunk, type ChunkReply } from './support/salt-api-server.js';

const INSTALL_ERROR =
  'ERROR: Problem encountered installing package(s). Additional info follows:\n\nerrors:\n    - Running scope as unit: run-r1.scope\n      E: Version \'9.9-1\' for \'nginx\' was not found';

describe('SaltClient.local', () => {
  it('sends one lowstate chunk with full_return and tells no-answer from a false return', async () => {
    const { api, client } = await setup({
      onChunk: () => ({
        return0: {
          web1: full(false), // service really is stopped
          web2: false, // targeted, did not answer
          web3: full(INSTALL_ERROR, 1),
          web4: full({ 'web.service': true }, 2),
        },
      }),
    });
    const results = await client.local('web*', 'service.status', { arg: ['nginx'], timeout: 10 });
    expect(api.chunks()[0]).toEqual({ client: 'local', tgt: 'web*', fun: 'service.status', arg: ['nginx'], timeout: 10, full_return: true });
    expect(results.web1).toEqual({ kind: 'ok', ret: false, retcode: 0 });
    expect(results.web2).toEqual({ kind: 'no-answer' });
    expect(results.web3).toMatchObject({ kind: 'error', reason: 'failed', retcode: 1, message: INSTALL_ERROR });
    expect(results.web4).toMatchObject({ kind: 'error', reason: 'failed', retcode: 2, ret: { 'web.service': true } });
    expect(results.web5).toBeUndefined();
  });

  it('returns an empty map when the glob matched nothing', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: {} }) });
    expect(await client.local('nomatch*', 'test.ping')).toEqual({});
  });

  it('classifies "not available" and invalid arguments', async () => {
    const { client } = await setup({
      onChunk: (chunk) => ({
        return0:
          chunk.fun === 'snapper.list_configs'
            ? { web1: full("'snapper.list_configs' is not available.", 1) }
            : { web1: full('Passed invalid arguments to pkg.version: version() takes 0 positional arguments', 1) },
      }),
    });
    expect((await client.local('web1', 'snapper.list_configs')).web1).toMatchObject({ kind: 'error', reason: 'unavailable' });
    expect((await client.local('web1', 'pkg.version')).web1).toMatchObject({ kind: 'error', reason: 'invalid-arguments' });
  });

  it('rejects a body that is not a full_return map', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: { web1: 'pong' } }) });
    const error = await failure(client.local('web1', 'test.ping'));
    expect(error).toMatchObject({ type: 'SaltProtocolError', retryable: false });
  });
});

describe('SaltClient per-minion helpers', () => {
  /** Answers by function name, for minion web1 only (tgt_type list). */
  const byFun = (answers: Record<string, unknown>) => ({
    onChunk: (chunk: Chunk): ChunkReply => {
      expect(chunk).toMatchObject({ client: 'local', tgt: ['web1'], tgt_type: 'list', full_return: true });
      return { return0: chunk.fun in answers ? { web1: answers[chunk.fun] } : { web1: false } };
    },
  });

  it('ping: true when it answers, false when it does not', async () => {
    const { client } = await setup({ onChunk: (c) => ({ return0: (c.tgt as string[])[0] === 'web1' ? { web1: full(true) } : { web2: false } }) });
    expect(await client.ping('web1')).toBe(true);
    expect(await client.ping('web2')).toBe(false);
  });

  it('grains: grains.item with keys, grains.items without', async () => {
    const { api, client } = await setup(
      byFun({
        'grains.item': full({ os: 'Debian', osrelease: '12', ipv4: ['10.1.2.3', '127.0.0.1'] }),
        'grains.items': full({ id: 'web1', os_family: 'Debian', num_cpus: 2 }),
      }),
    );
    expect(await client.grains('web1', ['os', 'osrelease', 'ipv4'])).toEqual({ os: 'Debian', osrelease: '12', ipv4: ['10.1.2.3', '127.0.0.1'] });
    expect(api.chunks()[0]?.arg).toEqual(['os', 'osrelease', 'ipv4']);
    expect((await client.grains('web1')).num_cpus).toBe(2);
    expect(api.chunks()[1]?.arg).toBeUndefined();
  });

  it('listPackages and packageVersion', async () => {
    const { client } = await setup(
      byFun({
        'pkg.list_pkgs': full({ nginx: '1.22.1-9+deb12u1', kernel: '5.14.0-427.el9,5.14.0-503.el9' }),
        'pkg.version': full(''),
      }),
    );
    expect(await client.listPackages('web1')).toEqual({ nginx: '1.22.1-9+deb12u1', kernel: '5.14.0-427.el9,5.14.0-503.el9' });
    expect(await client.packageVersion('web1', 'absent')).toBeNull();
  });

  it('packageVersion returns the version string', async () => {
    const { api, client } = await setup(byFun({ 'pkg.version': full('1:2.4.57-2') }));
    expect(await client.packageVersion('web1', 'apache2')).toBe('1:2.4.57-2');
    expect(api.chunks()[0]?.arg).toEqual(['apache2']);
  });

  it('serviceStatus: one call per service; a false return is "stopped", not an error', async () => {
    const { api, client } = await setup({
      onChunk: (chunk) => {
        const name = (chunk.arg as string[])[0];
        if (name === 'nginx') return { return0: { web1: full(true) } };
        // systemctl is-active exits 3 for an inactive unit; the boolean is the answer.
        return { return0: { web1: full(false, name === 'cron' ? 3 : 0) } };
      },
    });
    expect(await client.serviceStatus('web1', ['nginx', 'postgresql', 'cron'])).toEqual({ nginx: true, postgresql: false, cron: false });
    expect(api.chunks().map((c) => c.fun)).toEqual(['service.status', 'service.status', 'service.status']);
  });

  it('serviceStatus: a minion that does not answer is SaltNoAnswerError (retryable)', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: { web1: false } }) });
    const error = await failure(client.serviceStatus('web1', ['nginx']));
    expect(error).toBeInstanceOf(SaltNoAnswerError);
    expect(error).toMatchObject({ type: 'SaltNoAnswerError', retryable: true, minion: 'web1', fun: 'service.status' });
  });

  it('uptime: typed when up, no-answer while rebooting', async () => {
    const uptime = { seconds: 4321, since_iso: '2026-01-01T10:48:00+00:00', since_t: 1767264480, days: 0, time: '1:12', users: 0 };
    const { client } = await setup({ onChunk: (c) => ({ return0: (c.tgt as string[])[0] === 'web1' ? { web1: full(uptime) } : {} }) });
    expect(await client.uptime('web1')).toEqual({ kind: 'up', seconds: 4321, sinceT: 1767264480, sinceIso: '2026-01-01T10:48:00+00:00' });
    expect(await client.uptime('web2')).toEqual({ kind: 'no-answer' });
  });

  it('an "ERROR: ..." return is a non-retryable SaltExecutionError naming minion, function and retcode', async () => {
    const { api, client } = await setup(byFun({ 'pkg.list_pkgs': full(`ERROR: dpkg-query failed for ${PASSWORD}`, 1) }));
    const error = await failure(client.listPackages('web1'));
    expect(error).toBeInstanceOf(SaltExecutionError);
    expect(error).toMatchObject({ type: 'SaltExecutionError', retryable: false, minion: 'web1', fun: 'pkg.list_pkgs', retcode: 1, reason: 'failed' });
    expect(error.message).toContain('dpkg-query failed');
    expect(error.message).toContain('[REDACTED]');
    expectNoSecrets(api);
  });

  it('a wrongly shaped return is a SaltProtocolError', async () => {
    const { client } = await setup(byFun({ 'pkg.list_pkgs': full(['nginx']) }));
    expect(await failure(client.listPackages('web1'))).toBeInstanceOf(SaltProtocolError);
  });
});

describe('SaltClient snapper helpers', () => {
  const snapshots = [
    { id: 0, type: 'single', timestamp: 1767260000, user: 'root', description: 'current', cleanup: '', userdata: {} },
    { id: 41, type: 'pre', timestamp: 1767264000, user: 'root', description: 'pre patch', cleanup: 'number', userdata: { salt_jid: '20260101120000123456' } },
    { id: 42, type: 'post', pre: 41, timestamp: 1767264100, user: 'root', description: 'post patch', cleanup: 'number', userdata: {} },
  ];

  it('detects availability, creates, lists and undoes', async () => {
    const { api, client } = await setup({
      onChunk: (chunk) => {
        switch (chunk.fun) {
          case 'snapper.list_configs':
            return { return0: { web1: full({ root: { SUBVOLUME: '/', FSTYPE: 'btrfs' } }) } };
          case 'snapper.create_snapshot':
            return { return0: { web1: full(43) } };
          case 'snapper.list_snapshots':
            return { return0: { web1: full(snapshots) } };
          case 'snapper.undo':
            return { return0: { web1: full({ create: '1', modify: '12', delete: '0' }) } };
          default:
            return { return0: { web1: full(`'${chunk.fun}' is not available.`, 1) } };
        }
      },
    });
    expect(await client.snapperAvailable('web1')).toBe(true);
    expect(await client.snapperCreate('web1', 'before RHSA-2026:0001', { snapshotType: 'pre' })).toBe(43);
    expect(api.chunks()[1]?.kwarg).toEqual({ config: 'root', snapshot_type: 'pre', description: 'before RHSA-2026:0001' });
    const list = await client.snapperList('web1');
    expect(list[2]).toEqual({ id: 42, type: 'post', pre: 41, timestamp: 1767264100, user: 'root', description: 'post patch', cleanup: 'number', userdata: {} });
    expect(list[1]?.userdata).toEqual({ salt_jid: '20260101120000123456' });
    expect(await client.snapperUndo('web1', 41, 42)).toEqual({ create: 1, modify: 12, delete: 0 });
    expect(api.chunks()[3]?.kwarg).toEqual({ config: 'root', num_pre: 41, num_post: 42 });
  });

  it('reports "not available" (ext4/xfs hosts) as unavailable, not as a crash', async () => {
    const { client } = await setup({
      onChunk: (chunk) => ({ return0: { web1: full(`'${chunk.fun}' is not available.`, 1) } }),
    });
    expect(await client.snapperAvailable('web1')).toBe(false);
    const error = await failure(client.snapperCreate('web1', 'pre'));
    expect(error).toMatchObject({ type: 'SaltFunctionUnavailableError', reason: 'unavailable', retryable: false, unavailable: { module: 'snapper', function: 'snapper.create_snapshot', form: 'not-available' } });
  });

  it('snapperAvailable still surfaces a minion that does not answer', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: { web1: false } }) });
    expect(await failure(client.snapperAvailable('web1'))).toBeInstanceOf(SaltNoAnswerError);
  });
});
