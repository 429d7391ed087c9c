// Field input: Prometheus 2.0.x and Prometheus-compatible query frontends encode an empty result as `null`
// (Go's encoding/json of a nil slice): {"status":"success","data":{"resultType":"vector","result":null}}. That
// is an empty result — never a protocol error, and never a value: the metric checks still see "no data".
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../activities/prometheus/client.js';
import { decodeQueryResult } from '../../../activities/prometheus/decode.js';
import { PrometheusNoDataError, PrometheusProtocolError } from '../../../activities/prometheus/errors.js';
import { NodeMetrics } from '../../../activities/prometheus/metrics.js';
import { startFakePrometheus, type FakePrometheus } from './support/prometheus-server.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/field/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const open: { servers: FakePrometheus[]; clients: PrometheusClient[] } = { servers: [], clients: [] };
afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

async function frontend(): Promise<PrometheusClient> {
  const server = await startFakePrometheus((r) => ({ json: fixture(r.path.endsWith('query_range') ? 'prometheus-empty-matrix-null.json' : 'prometheus-empty-vector-null.json') }));
  open.servers.push(server);
  const client = new PrometheusClient({ url: server.url, timeoutMs: 2_000 });
  open.clients.push(client);
  return client;
}

describe('result: null', () => {
  it('is an empty vector and an empty matrix', () => {
    expect(decodeQueryResult(fixture('prometheus-empty-vector-null.json'))).toEqual({ resultType: 'vector', result: [], warnings: [] });
    expect(decodeQueryResult(fixture('prometheus-empty-matrix-null.json'))).toEqual({ resultType: 'matrix', result: [], warnings: [] });
  });

  it('is no legal scalar or string: those always hold a value, so null stays a protocol error', () => {
    for (const resultType of ['scalar', 'string']) {
      expect(() => decodeQueryResult({ status: 'success', data: { resultType, result: null } })).toThrow(PrometheusProtocolError);
    }
  });

  it('through the client: query and queryRange return empty results', async () => {
    const client = await frontend();
    expect(await client.query('up{instance="127.0.0.9:9100"}')).toEqual({ resultType: 'vector', result: [], warnings: [] });
    expect((await client.queryRange('up{instance="127.0.0.9:9100"}', 1_795_745_000, 1_795_745_060, 15)).result).toEqual([]);
  });

  it('still never makes a metric reading: every check says no data (retryable), never a number', async () => {
    const metrics = new NodeMetrics(await frontend());
    const readings = [() => metrics.up('127.0.0.9:9100'), () => metrics.cpuPercent('127.0.0.9:9100'), () => metrics.memoryPercent('127.0.0.9:9100'), () => metrics.snapshot('127.0.0.9:9100', { samples: 3, intervalSeconds: 15 })];
    for (const reading of readings) {
      const error = await reading().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PrometheusNoDataError);
      expect(error).toMatchObject({ reason: 'no-series', retryable: true });
    }
  });
});

describe('a matrix series without float points (values omitted: native histograms only)', () => {
  it('has no values, and a snapshot of it is too sparse to average', async () => {
    const body = fixture('prometheus-matrix-series-without-values.json');
    const decoded = decodeQueryResult(body);
    expect(decoded).toMatchObject({ resultType: 'matrix', result: [{ metric: { instance: '127.0.0.2:9100' }, values: [] }] });
    const up = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { instance: '127.0.0.2:9100' }, values: [[1795745901, '1'], [1795745916, '1'], [1795745931, '1']] }] } };
    const server = await startFakePrometheus((r) => ({ json: r.form.query?.startsWith('up') ? up : body }));
    open.servers.push(server);
    const client = new PrometheusClient({ url: server.url, timeoutMs: 2_000 });
    open.clients.push(client);
    const error = await new NodeMetrics(client).snapshot('127.0.0.2:9100', { samples: 3, intervalSeconds: 15 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusNoDataError);
    expect(error).toMatchObject({ reason: 'sparse' });
  });
});
