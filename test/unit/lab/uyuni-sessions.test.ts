import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../../../lab/fleet/index.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { labJson, Rpc, SESSION_KEY_RE } from './helpers.js';

let lab: UyuniLab;
let rpc: Rpc;
let clock: ManualClock;

beforeAll(async () => {
  clock = manualClock();
  lab = await startUyuniLab({ clock, sessionLifetimeSeconds: 60, credentials: { user: 'ops', password: 's3cret' } });
  rpc = new Rpc(lab.url);
});
afterAll(async () => {
  await lab.close();
});

const sessionId = (key: string) => key.split('x')[0];

describe('sessions', () => {
  it('issues <id>x<64 hex> keys for the configured credentials', async () => {
    const key = await rpc.login('ops', 's3cret');
    expect(key).toMatch(SESSION_KEY_RE);
    expect(key).not.toBe(await rpc.login('ops', 's3cret'));
  });

  it('answers a wrong login with 2950 and the exact UYUNI text', async () => {
    for (const [user, password] of [['ops', 'nope'], ['admin', 'lab-admin-password']]) {
      const f = await rpc.fault('auth.login', [user, password]);
      expect(f.faultCode).toBe(2950);
      expect(f.faultString).toBe('redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect.');
    }
  });

  it('slides the expiry on every call and expires after the lifetime without calls', async () => {
    const key = await rpc.login('ops', 's3cret');
    clock.advance(50_000);
    await rpc.call('systemgroup.listAllGroups', [key]);
    clock.advance(50_000); // 100 s after login, 50 s after the last call
    await rpc.call('systemgroup.listAllGroups', [key]);
    clock.advance(60_001);
    const f = await rpc.fault('systemgroup.listAllGroups', [key]);
    expect(f.faultCode).toBe(-1);
    expect(f.faultString).toBe(`com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: ${sessionId(key)}`);
  });

  it('honours a shorter duration given to auth.login and refuses a longer one', async () => {
    const key = await rpc.call<string>('auth.login', ['ops', 's3cret', 10]);
    clock.advance(11_000);
    expect((await rpc.fault('systemgroup.listAllGroups', [key])).faultString).toContain('Could not find session with id');
    const f = await rpc.fault('auth.login', ['ops', 's3cret', 7200]);
    expect(f.faultCode).toBe(-1);
  });

  it('ends the session on logout', async () => {
    const key = await rpc.login('ops', 's3cret');
    expect(await rpc.call('auth.logout', [key])).toBe(1);
    const f = await rpc.fault('system.getRelevantErrata', [key, 1000010000]);
    expect(f.faultString).toBe(`com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: ${sessionId(key)}`);
  });

  it('rejects a key with a known id but the wrong hash, and malformed keys', async () => {
    const key = await rpc.login('ops', 's3cret');
    const forged = `${sessionId(key)}x${'0'.repeat(64)}`;
    const f = await rpc.fault('systemgroup.listAllGroups', [forged]);
    expect(f.faultCode).toBe(-1);
    expect(f.faultString).toBe(`com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: ${sessionId(key)} is not valid.`);
    const g = await rpc.fault('systemgroup.listAllGroups', ['not-a-key']);
    expect(g.faultString).toMatch(/^com\.redhat\.rhn\.domain\.session\.InvalidSessionIdException/);
  });

  it('checks the session before the method (a dead key beats a wrong method)', async () => {
    const f = await rpc.fault('system.noSuchMethod', [`999x${'a'.repeat(64)}`]);
    expect(f.faultString).toBe('com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: 999');
  });

  it('expires every session on demand (programmatically and over /lab)', async () => {
    const a = await rpc.login('ops', 's3cret');
    expect(lab.expireSessions()).toBeGreaterThanOrEqual(1);
    expect((await rpc.fault('systemgroup.listAllGroups', [a])).faultCode).toBe(-1);
    const b = await rpc.login('ops', 's3cret');
    const res = await labJson<{ expired: number }>(lab.baseUrl, 'POST', '/lab/sessions/expire');
    expect(res.json.expired).toBe(1);
    expect((await rpc.fault('systemgroup.listAllGroups', [b])).faultString).toContain(`Could not find session with id: ${sessionId(b)}`);
  });
});
