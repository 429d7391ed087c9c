// PrometheusClient against a real HTTP server answering hand-written API envelopes: form-encoded
// POSTs, typed vector/matrix/scalar results with numeric values, the error envelope mapping, the
// readiness probe, transport failures and the Temporal mapping.
import { createServer } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../activities/prometheus/client.js';
import {
  PrometheusError,
  PrometheusNoDataError,
  PrometheusProtocolError,
  PrometheusQueryError,
  PrometheusUnavailableError,
} from '../../../activities/prometheus/errors.js';
import { toApplicationFailure } from '../../../activities/prometheus/failure.js';
import { matrix, NOW, promError, startFakePrometheus, vector, type FakePrometheus, type PromReply, type RecordedQuery } from './support/prometheus-server.js';

const open: { servers: FakePrometheus[]; clients: PrometheusClient[] } = { servers: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

async function setup(handler: (request: RecordedQuery) => PromReply, timeoutMs = 2_000) {
  const server = await startFakePrometheus(handler);
  open.servers.push(server);
  const client = new PrometheusClient({ url: server.url, timeoutMs });
  open.clients.push(client);
  return { server, client };
}

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PrometheusError);
    return error as PrometheusError;
  }
  throw new Error('expected the call to fail');
}

describe('PrometheusClient.query', () => {
  it('POSTs form-encoded and returns a typed vector with numeric values', async () => {
    const { server, client } = await setup(() =>
      vector([{ instance: '10.1.2.3:9100' }, '47.69'], [{ instance: 'a' }, 'NaN'], [{ instance: 'b' }, '+Inf'], [{ instance: 'c' }, '-Inf']),
    );
    const result = await client.query('up{instance="10.1.2.3:9100"}', new Date(1_795_745_905_748));
    expect(result.resultType).toBe('vector');
    if (result.resultType !== 'vector') return;
    expect(result.result[0]).toEqual({ metric: { instance: '10.1.2.3:9100' }, timestamp: NOW, value: 47.69 });
    expect(result.result.map((s) => s.value)).toEqual([47.69, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const request = server.requests[0];
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/query', contentType: 'application/x-www-form-urlencoded' });
    expect(request?.form).toEqual({ query: 'up{instance="10.1.2.3:9100"}', time: '1795745905.748', timeout: '1s' });
  });

  it('returns scalars and strings, and keeps warnings', async () => {
    const { client } = await setup((r) =>
      r.form.query === 'scalar(up)'
        ? { json: { status: 'success', data: { resultType: 'scalar', result: [NOW, 'NaN'] }, warnings: ['PromQL info: x'] } }
        : { json: { status: 'success', data: { resultType: 'string', result: [NOW, 'hello'] } } },
    );
    const scalar = await client.query('scalar(up)');
    expect(scalar.resultType).toBe('scalar');
    expect(scalar.warnings).toEqual(['PromQL info: x']);
    if (scalar.resultType === 'scalar') expect(scalar.result.value).toBeNaN();
    expect((await client.query('"hello"')).result).toEqual({ timestamp: NOW, value: 'hello' });
  });

  it('an empty vector is a success, not an error, at this level', async () => {
    const { client } = await setup(() => vector());
    expect(await client.query('up{instance="nope"}')).toEqual({ resultType: 'vector', result: [], warnings: [] });
  });

  it('keeps a path prefix in the base URL', async () => {
    const { server } = await setup(() => vector());
    const client = new PrometheusClient({ url: `${server.url}/prometheus/` });
    open.clients.push(client);
    await client.query('up');
    expect(server.requests[0]?.path).toBe('/prometheus/api/v1/query');
  });
});

describe('PrometheusClient.queryRange', () => {
  it('sends start/end/step and returns a typed matrix', async () => {
    const { server, client } = await setup(() => matrix([{ instance: 'h:9100' }, ['1', '0', 'NaN']]));
    const result = await client.queryRange('up', 1_795_745_900, 1_795_745_904.5, 2);
    expect(result.result[0]?.values).toEqual([
      { timestamp: 1795745901, value: 1 },
      { timestamp: 1795745903, value: 0 },
      { timestamp: 1795745905, value: Number.NaN },
    ]);
    expect(server.requests[0]).toMatchObject({ path: '/api/v1/query_range', form: { query: 'up', start: '1795745900', end: '1795745904.5', step: '2' } });
  });

  it('refuses more than 11,000 points before asking', async () => {
    const { server, client } = await setup(() => matrix());
    await expect(client.queryRange('up', 0, 11_000, 1)).rejects.toThrow(TypeError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('PrometheusClient errors', () => {
  it.each([
    [400, 'bad_data', 'invalid parameter "query": 1:5: parse error: unexpected <EOF>', false],
    [422, 'execution', 'found duplicate series for the match group', false],
    [503, 'timeout', 'query timed out in expression evaluation', true],
    [503, 'unavailable', 'too many concurrent queries', true],
  ])('HTTP %i %s → PrometheusQueryError, retryable %s', async (status, errorType, message, retryable) => {
    const { client } = await setup(() => promError(status, errorType, message));
    const error = await failure(client.query('up{'));
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect(error).toMatchObject({ type: 'PrometheusQueryError', errorType, status, retryable, query: 'up{' });
    expect(error.message).toContain(message);
  });

  it('a plain-text 404 (wrong URL) is a non-retryable PrometheusProtocolError', async () => {
    const { client } = await setup(() => ({ status: 404, text: '404 page not found\n' }));
    expect(await failure(client.query('up'))).toMatchObject({ type: 'PrometheusProtocolError', retryable: false, status: 404 });
  });

  it('a non-JSON 502 from a proxy is PrometheusUnavailableError', async () => {
    const { client } = await setup(() => ({ status: 502, text: 'Bad Gateway' }));
    expect(await failure(client.query('up'))).toMatchObject({ type: 'PrometheusUnavailableError', retryable: true, status: 502 });
  });

  it('a hanging server is PrometheusUnavailableError after timeoutMs', async () => {
    const { client } = await setup(() => 'hang', 150);
    const started = Date.now();
    expect(await failure(client.query('up'))).toBeInstanceOf(PrometheusUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a refused connection is PrometheusUnavailableError', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const client = new PrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 1_000 });
    open.clients.push(client);
    expect(await failure(client.query('up'))).toMatchObject({ type: 'PrometheusUnavailableError', retryable: true, code: 'ECONNREFUSED' });
    await expect(client.ready()).rejects.toBeInstanceOf(PrometheusUnavailableError);
  });

  it('a success envelope with a bad value is a PrometheusProtocolError', async () => {
    const { client } = await setup(() => vector([{}, 'forty']));
    expect(await failure(client.query('up'))).toBeInstanceOf(PrometheusProtocolError);
  });
});

describe('PrometheusClient.ready', () => {
  it('is true on 200 and false on 503', async () => {
    let ready = false;
    const { server, client } = await setup(() =>
      ready ? { status: 200, text: 'Prometheus Server is Ready.\n' } : { status: 503, text: 'Service Unavailable' },
    );
    expect(await client.ready()).toBe(false);
    ready = true;
    expect(await client.ready()).toBe(true);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /-/ready', 'GET /-/ready']);
  });
});

describe('toApplicationFailure', () => {
  it.each([
    [new PrometheusQueryError('bad_data', 'parse error', 400, 'up{'), true],
    [new PrometheusQueryError('timeout', 'timed out', 503, 'up'), false],
    [new PrometheusUnavailableError('connection failed'), false],
    [new PrometheusNoDataError('10.1.2.3:9100', 'up{instance="10.1.2.3:9100"}', 'no-series'), false],
    [new PrometheusProtocolError('404'), true],
  ])('%s → nonRetryable %s', (error, nonRetryable) => {
    const mapped = toApplicationFailure(error);
    expect(mapped).toBeInstanceOf(ApplicationFailure);
    expect(mapped).toMatchObject({ type: error.type, nonRetryable });
  });

  it('carries instance and query for no-data', () => {
    const mapped = toApplicationFailure(new PrometheusNoDataError('h:9100', 'up{instance="h:9100"}', 'down')) as ApplicationFailure;
    expect(mapped.details).toEqual([{ instance: 'h:9100', query: 'up{instance="h:9100"}', reason: 'down' }]);
  });
});
