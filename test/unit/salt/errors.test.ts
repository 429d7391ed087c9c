// Error types and retryability over real HTTP (CherryPy HTML error pages, a JSON 500, a hanging
// server, a refused connection, a non-JSON 200), the Temporal mapping, and redaction of whatever
// the server echoes back.
import { createServer } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { SaltClient } from '../../../activities/salt/client.js';
import {
  SaltAuthError,
  SaltExecutionError,
  SaltHttpError,
  SaltNoAnswerError,
  SaltProtocolError,
  SaltTimeoutError,
  SaltTransportError,
} from '../../../activities/salt/errors.js';
import { toApplicationFailure } from '../../../activities/salt/failure.js';
import { expectNoSecrets, failure, setup } from './support/harness.js';
import { cherrypyPage, EAUTH, full, PASSWORD, USER, type ChunkReply } from './support/salt-api-server.js';

describe('SaltClient HTTP failures', () => {
  it.each([
    [503, true, 'Salt Master is not available.', cherrypyPage('503 Service Unavailable', 'Salt Master is not available.')],
    [504, true, 'Request timed out', cherrypyPage('504 Gateway Timeout', 'Request timed out')],
    [
      400,
      false,
      "Client disabled: 'runner'",
      cherrypyPage('400 Bad Request', 'Client disabled: &#x27;runner&#x27;. Add to &#x27;netapi_enable_clients&#x27; master config option to enable.'),
    ],
    [406, false, 'Unsupported content type', cherrypyPage('406 Not Acceptable', 'Unsupported content type')],
  ])('HTTP %i with an HTML body → SaltHttpError, retryable %s', async (status, retryable, detail, html) => {
    const { client } = await setup({ onChunk: () => ({ status, html }) });
    const error = await failure(client.ping('web1'));
    expect(error).toBeInstanceOf(SaltHttpError);
    expect(error).toMatchObject({ type: 'SaltHttpError', status, retryable, fun: 'test.ping' });
    expect(error.message).toContain(detail);
    expect(error.message).not.toContain('Traceback');
    expect(error.message).not.toContain('<');
  });

  it('the JSON 500 body gives its return text', async () => {
    const { client } = await setup({ onChunk: () => ({ status: 500, json: { status: 500, return: 'An unexpected error occurred' } }) });
    const error = await failure(client.ping('web1'));
    expect(error).toMatchObject({ type: 'SaltHttpError', status: 500, retryable: true });
    expect(error.message).toContain('An unexpected error occurred');
  });

  it('a 503 on login (master down) is a retryable SaltHttpError, not an auth error', async () => {
    const { api, client } = await setup();
    api.loginFailure = { status: 503, html: cherrypyPage('503 Service Unavailable', 'Salt Master is not available.') };
    const error = await failure(client.ping('web1'));
    expect(error).toMatchObject({ type: 'SaltHttpError', status: 503, retryable: true, fun: '/login' });
    api.loginFailure = undefined;
    // The failed login was not cached: the next call logs in (the default script's `{}` means no answer).
    expect(await client.ping('web1')).toBe(false);
    expect(client.stats().logins).toBe(2);
  });

  it('a hanging salt-api is a retryable SaltTimeoutError after timeoutMs', async () => {
    const { client } = await setup({ onChunk: (): ChunkReply => 'hang' }, { timeoutMs: 150 });
    const started = Date.now();
    const error = await failure(client.ping('web1'));
    expect(error).toBeInstanceOf(SaltTimeoutError);
    expect(error).toMatchObject({ retryable: true, timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a per-call httpTimeoutMs overrides the client deadline', async () => {
    const { client } = await setup({ onChunk: (): ChunkReply => 'hang' }, { timeoutMs: 10_000 });
    const error = await failure(client.local('web1', 'pkg.upgrade', { httpTimeoutMs: 100 }));
    expect(error).toMatchObject({ type: 'SaltTimeoutError', timeoutMs: 100 });
  });

  it('a cancelled call rejects with the signal reason', async () => {
    const { client } = await setup({ onChunk: (): ChunkReply => 'hang' });
    const controller = new AbortController();
    const reason = new Error('cancelled by the workflow');
    setTimeout(() => controller.abort(reason), 50);
    await expect(client.ping('web1', { signal: controller.signal })).rejects.toBe(reason);
  });

  it('a refused connection is a retryable SaltTransportError', async () => {
    // Grab a free port, then close it so nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const client = new SaltClient({ url: `http://127.0.0.1:${port}`, user: USER, password: PASSWORD, eauth: EAUTH, verifyTls: true, timeoutMs: 1_000 });
    try {
      const error = await failure(client.ping('web1'));
      expect(error).toMatchObject({ type: 'SaltTransportError', retryable: true, code: 'ECONNREFUSED', fun: '/login' });
    } finally {
      await client.close();
    }
  });

  it('a 200 that is not JSON is a SaltProtocolError', async () => {
    const { client } = await setup({ onChunk: () => ({ status: 200, text: 'Welcome' }) });
    expect(await failure(client.ping('web1'))).toMatchObject({ type: 'SaltProtocolError', retryable: false });
  });

  it('masks the password and the token when the server echoes them', async () => {
    let token = '';
    const { api, client } = await setup({
      onChunk: () => ({ status: 503, html: cherrypyPage('503 Service Unavailable', `session ${token} user ${USER} password ${PASSWORD}`) }),
    });
    await client.ping('web1').catch(() => undefined); // logs in, then 503
    token = api.issued[0] as string;
    const error = await failure(client.ping('web1'));
    expect(error.message).toContain('[REDACTED]');
    expectNoSecrets(api);
  });

  it('an execution error message is capped and redacted', async () => {
    const { api, client } = await setup({ onChunk: () => ({ return0: { web1: full(`ERROR: ${'x'.repeat(5_000)} ${PASSWORD}`, 1) } }) });
    const error = await failure(client.listPackages('web1'));
    expect(error.message.length).toBeLessThan(700);
    expectNoSecrets(api);
  });
});

describe('toApplicationFailure', () => {
  it.each([
    [new SaltAuthError('login refused', 'login', '/login'), 'SaltAuthError', true],
    [new SaltHttpError(503, 'Salt Master is not available.', 'test.ping'), 'SaltHttpError', false],
    [new SaltHttpError(400, 'Lowstates must be a list', 'test.ping'), 'SaltHttpError', true],
    [new SaltTimeoutError(1_000, 'test.ping'), 'SaltTimeoutError', false],
    [new SaltTransportError('connection failed', { fun: '/login', code: 'ECONNRESET' }), 'SaltTransportError', false],
    [new SaltExecutionError('web1', 'pkg.install', 'ERROR: x', { retcode: 1 }), 'SaltExecutionError', true],
    [new SaltNoAnswerError('web1', 'pkg.install', { jid: '20260101120000000001' }), 'SaltNoAnswerError', false],
    [new SaltProtocolError('bad body', { fun: 'test.ping' }), 'SaltProtocolError', true],
  ])('%s → type %s, nonRetryable %s', (error, type, nonRetryable) => {
    const mapped = toApplicationFailure(error);
    expect(mapped).toBeInstanceOf(ApplicationFailure);
    expect(mapped).toMatchObject({ type, nonRetryable, message: error.message });
  });

  it('keeps structured details and passes other errors through', () => {
    const mapped = toApplicationFailure(new SaltNoAnswerError('web1', 'pkg.install', { jid: '20260101120000000001' })) as ApplicationFailure;
    expect(mapped.details).toEqual([{ fun: 'pkg.install', minion: 'web1', jid: '20260101120000000001' }]);
    const other = new Error('x');
    expect(toApplicationFailure(other)).toBe(other);
  });
});
