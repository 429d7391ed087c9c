// Token handling against a real HTTP salt-api look-alike: one lazy login shared by concurrent
// callers, one re-login on 401 then success, a second 401 surfacing, bad credentials, logout on
// close; and throughout, no password or token in an error or a log line.
import { describe, expect, it } from 'vitest';
import { SaltAuthError, SaltProtocolError } from '../../../activities/salt/errors.js';
import { expectNoSecrets, failure, logLines, setup } from './support/harness.js';
import { full, PASSWORD } from './support/salt-api-server.js';

const pong = { onChunk: () => ({ return0: { web1: full(true) } }) };

describe('SaltClient token cache', () => {
  it('logs in lazily, once, for concurrent callers, and sends X-Auth-Token', async () => {
    const { api, client } = await setup({ ...pong, loginDelayMs: 50 });
    expect(api.count('/login')).toBe(0);
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.ping('web1')));
    expect(answers).toEqual(Array(8).fill(true));
    expect(api.count('/login')).toBe(1);
    const calls = api.requests.filter((r) => r.path === '/');
    expect(calls).toHaveLength(8);
    expect(new Set(calls.map((r) => r.token))).toEqual(new Set([api.issued[0]]));
    expect(client.stats()).toMatchObject({ logins: 1, relogins: 0 });
    expectNoSecrets(api);
  });

  it('logs in again once on 401 and retries the call once', async () => {
    const { api, client } = await setup(pong);
    await client.ping('web1');
    api.valid.clear(); // salt-api restarted: RAM sessions gone
    await expect(Promise.all([client.ping('web1'), client.ping('web1'), client.ping('web1')])).resolves.toEqual([true, true, true]);
    expect(api.count('/login')).toBe(2);
    expect(client.stats()).toMatchObject({ logins: 2, relogins: 1 });
    const statuses = api.requests.filter((r) => r.path === '/').map((r) => r.token);
    expect(statuses.slice(-3)).toEqual([api.issued[1], api.issued[1], api.issued[1]]);
    expectNoSecrets(api);
  });

  it('surfaces a second 401 as a non-retryable SaltAuthError after exactly one re-login', async () => {
    const { api, client } = await setup(pong);
    api.rejectAll = true; // an ACL that refuses the function: a fresh token doesn't help
    const error = await failure(client.ping('web1'));
    expect(error).toBeInstanceOf(SaltAuthError);
    expect(error).toMatchObject({ type: 'SaltAuthError', retryable: false, phase: 'call', fun: 'test.ping' });
    expect(api.count('/login')).toBe(2);
    expect(api.count('/')).toBe(2);
    expectNoSecrets(api);
  });

  it('reports bad credentials as a non-retryable SaltAuthError without the password', async () => {
    const { api, client } = await setup(pong, { password: `${PASSWORD}-wrong` });
    const error = await failure(client.ping('web1'));
    expect(error).toMatchObject({ type: 'SaltAuthError', retryable: false, phase: 'login' });
    expect(error.message).toContain('orchestrator');
    expect(error.message).not.toContain(PASSWORD);
    // A failed login is not cached: the next call tries again.
    await failure(client.ping('web1'));
    expect(api.count('/login')).toBe(2);
    expect(api.count('/')).toBe(0);
    expectNoSecrets(api);
  });

  it('logs out on close (best effort) and refuses calls afterwards', async () => {
    const { api, client } = await setup(pong);
    await client.ping('web1');
    const token = api.issued[0] as string;
    await client.close();
    await client.close();
    const logout = api.requests.filter((r) => r.path === '/logout');
    expect(logout).toHaveLength(1);
    expect(logout[0]?.token).toBe(token);
    expect(api.valid.has(token)).toBe(false);
    expect(await failure(client.ping('web1'))).toBeInstanceOf(SaltProtocolError);
  });

  it('closes without a logout when it never logged in', async () => {
    const { api, client } = await setup(pong);
    await client.close();
    expect(api.count('/logout')).toBe(0);
  });

  it('logs logins without the password or the token', async () => {
    const { api, client } = await setup(pong);
    await client.ping('web1');
    expect(logLines.some((l) => l.includes('salt-api login succeeded'))).toBe(true);
    expectNoSecrets(api);
  });
});
