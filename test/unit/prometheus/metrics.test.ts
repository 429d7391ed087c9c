// NodeMetrics over a real HTTP Prometheus look-alike: the exact node_exporter PromQL (reference
// §2.2) with an escaped exact-match instance label, readings checked against `up`, and the rule
// that no data is an error (empty vector, NaN, up == 0, too few points), never a pass. A snapshot
// averages a range.
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../../activities/prometheus/client.js';
import { PrometheusError, PrometheusNoDataError } from '../../../activities/prometheus/errors.js';
import { NodeMetrics, snapshotRange } from '../../../activities/prometheus/metrics.js';
import { cpuPercentQuery, memoryPercentQuery, nodeInstance, promString, upQuery } from '../../../activities/prometheus/promql.js';
import { matrix, startFakePrometheus, vector, type FakePrometheus, type PromReply, type RecordedQuery } from './support/prometheus-server.js';

const HOST = '10.1.2.3:9100';
const CPU = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="${HOST}"}[30s])))`;
const MEMORY = `100 * (1 - node_memory_MemAvailable_bytes{instance="${HOST}"} / node_memory_MemTotal_bytes{instance="${HOST}"})`;
const UP = `up{instance="${HOST}"}`;

const open: { servers: FakePrometheus[]; clients: PrometheusClient[] } = { servers: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.servers.splice(0).map((s) => s.close()));
});

/** Answers by exact query text; anything unscripted is an empty vector/matrix. */
async function setup(answers: Record<string, PromReply>) {
  const server = await startFakePrometheus((r: RecordedQuery) => answers[r.form.query ?? ''] ?? (r.path.endsWith('query_range') ? matrix() : vector()));
  open.servers.push(server);
  const client = new PrometheusClient({ url: server.url, timeoutMs: 2_000 });
  open.clients.push(client);
  return { server, metrics: new NodeMetrics(client) };
}

async function noData(promise: Promise<unknown>): Promise<PrometheusNoDataError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PrometheusNoDataError);
    const e = error as PrometheusNoDataError;
    expect(e).toMatchObject({ type: 'PrometheusNoDataError', retryable: true, instance: HOST });
    expect(e.message).toContain(HOST);
    expect(e.message).toContain(e.query);
    return e;
  }
  throw new Error('expected no-data');
}

const labels = { instance: HOST, job: 'node' };

describe('PromQL', () => {
  it('builds the reference expressions with an exact-match instance', () => {
    expect(cpuPercentQuery(HOST, '30s')).toBe(CPU);
    expect(memoryPercentQuery(HOST)).toBe(MEMORY);
    expect(upQuery(HOST)).toBe(UP);
    expect(upQuery(HOST, { job: 'node' })).toBe(`up{instance="${HOST}",job="node"}`);
  });

  it('escapes label values so an instance cannot break out of its matcher', () => {
    expect(promString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(upQuery('x"} or vector(1) or up{a="')).toBe('up{instance="x\\"} or vector(1) or up{a=\\""}');
  });

  it('formats node_exporter instances and refuses bad windows', () => {
    expect(nodeInstance('10.1.2.3')).toBe('10.1.2.3:9100');
    expect(nodeInstance('fd00::1', 19100)).toBe('[fd00::1]:19100');
    expect(() => cpuPercentQuery(HOST, '30')).toThrow(TypeError);
    expect(() => cpuPercentQuery(HOST, '1m]) or vector(0')).toThrow(TypeError);
    expect(cpuPercentQuery(HOST, '1m30s')).toContain('[1m30s]');
  });
});

describe('NodeMetrics instant readings', () => {
  it('reads cpu, memory and up', async () => {
    const { server, metrics } = await setup({
      [UP]: vector([labels, '1']),
      [CPU]: vector([{ instance: HOST }, '12.5']),
      [MEMORY]: vector([labels, '41.25']),
    });
    expect(await metrics.cpuPercent(HOST, { window: '30s' })).toBe(12.5);
    expect(await metrics.memoryPercent(HOST)).toBe(41.25);
    expect(await metrics.up(HOST)).toBe(true);
    expect(new Set(server.queries())).toEqual(new Set([UP, CPU, MEMORY]));
  });

  it('up is false when the last scrape failed', async () => {
    const { metrics } = await setup({ [UP]: vector([labels, '0']) });
    expect(await metrics.up(HOST)).toBe(false);
  });

  it('an empty vector is PrometheusNoDataError naming instance and query', async () => {
    const { metrics } = await setup({ [UP]: vector([labels, '1']) });
    const error = await noData(metrics.cpuPercent(HOST));
    expect(error).toMatchObject({ reason: 'no-series', query: CPU });
  });

  it('no up series at all (unknown target) is no data, also for up()', async () => {
    const { metrics } = await setup({ [CPU]: vector([{ instance: HOST }, '3']) });
    expect(await noData(metrics.cpuPercent(HOST))).toMatchObject({ reason: 'no-series', query: UP });
    expect(await noData(metrics.up(HOST))).toMatchObject({ reason: 'no-series' });
  });

  it('NaN is no data, never 0 %', async () => {
    const { metrics } = await setup({ [UP]: vector([labels, '1']), [MEMORY]: vector([labels, 'NaN']) });
    expect(await noData(metrics.memoryPercent(HOST))).toMatchObject({ reason: 'nan', query: MEMORY });
  });

  it('up == 0 is no data even while the old series still answer', async () => {
    const { metrics } = await setup({ [UP]: vector([labels, '0']), [CPU]: vector([{ instance: HOST }, '1.5']) });
    expect(await noData(metrics.cpuPercent(HOST))).toMatchObject({ reason: 'down', query: UP });
  });

  it('several series for one instance are refused as ambiguous', async () => {
    const { metrics } = await setup({
      [UP]: vector([labels, '1']),
      [MEMORY]: vector([{ ...labels, job: 'a' }, '40'], [{ ...labels, job: 'b' }, '41']),
    });
    const error = await metrics.memoryPercent(HOST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusError);
    expect(error).toMatchObject({ type: 'PrometheusProtocolError' });
  });
});

describe('NodeMetrics.snapshot', () => {
  it('averages each series over the range', async () => {
    const { server, metrics } = await setup({
      [UP]: matrix([labels, ['1', '1', '1', '1', '1']]),
      [CPU]: matrix([{ instance: HOST }, ['10', '20', '90', '20', '10']]), // one noisy point
      [MEMORY]: matrix([labels, ['40', '41', '42', '43', '44']]),
    });
    const end = new Date('2026-11-30T12:00:00.000Z');
    const snapshot = await metrics.snapshot(HOST, { samples: 5, intervalSeconds: 2 }, { end });
    expect(snapshot).toMatchObject({ cpuPercent: 30, memoryPercent: 42, samples: 5, takenAt: '2026-11-30T12:00:00.000Z', from: '2026-11-30T11:59:52.000Z' });
    // The raw points travel with the averages: the baseline's at-rest judgement reads them.
    expect(snapshot.series?.cpu.map(([, v]) => v)).toEqual([10, 20, 90, 20, 10]);
    expect(snapshot.series?.memory.map(([, v]) => v)).toEqual([40, 41, 42, 43, 44]);
    const endSeconds = end.getTime() / 1000;
    for (const request of server.requests) {
      expect(request.path).toBe('/api/v1/query_range');
      expect(request.form).toMatchObject({ start: String(endSeconds - 8), end: String(endSeconds), step: '2' });
    }
    expect(new Set(server.queries())).toEqual(new Set([UP, CPU, MEMORY]));
  });

  it('accepts a range with a default step of a tenth of it', async () => {
    const { server, metrics } = await setup({
      [UP]: matrix([labels, Array(11).fill('1')]),
      [CPU]: matrix([{ instance: HOST }, Array(11).fill('5')]),
      [MEMORY]: matrix([labels, Array(11).fill('50')]),
    });
    const snapshot = await metrics.snapshot(HOST, { rangeSeconds: 60 }, { end: 1_000_000 });
    expect(snapshot).toMatchObject({ cpuPercent: 5, memoryPercent: 50, samples: 11 });
    expect(server.requests[0]?.form).toMatchObject({ start: '999940', end: '1000000', step: '6' });
  });

  it('a down point in the range is no data', async () => {
    const { metrics } = await setup({
      [UP]: matrix([labels, ['1', '0', '1']]),
      [CPU]: matrix([{ instance: HOST }, ['10', '10', '10']]),
      [MEMORY]: matrix([labels, ['40', '40', '40']]),
    });
    expect(await noData(metrics.snapshot(HOST, { samples: 3, intervalSeconds: 1 }))).toMatchObject({ reason: 'down' });
  });

  it('a NaN point is no data', async () => {
    const { metrics } = await setup({
      [UP]: matrix([labels, ['1', '1', '1']]),
      [CPU]: matrix([{ instance: HOST }, ['10', 'NaN', '10']]),
      [MEMORY]: matrix([labels, ['40', '40', '40']]),
    });
    expect(await noData(metrics.snapshot(HOST, { samples: 3, intervalSeconds: 1 }))).toMatchObject({ reason: 'nan', query: CPU });
  });

  it('an empty matrix is no data', async () => {
    const { metrics } = await setup({ [UP]: matrix([labels, ['1', '1', '1']]), [CPU]: matrix([{ instance: HOST }, ['10', '10', '10']]) });
    expect(await noData(metrics.snapshot(HOST, { samples: 3, intervalSeconds: 1 }))).toMatchObject({ reason: 'no-series', query: MEMORY });
  });

  it('too few points (target just started being scraped) is no data', async () => {
    const { metrics } = await setup({
      [UP]: matrix([labels, ['1', '1']]),
      [CPU]: matrix([{ instance: HOST }, ['10', '10']]),
      [MEMORY]: matrix([labels, ['40', '40']]),
    });
    expect(await noData(metrics.snapshot(HOST, { samples: 10, intervalSeconds: 1 }))).toMatchObject({ reason: 'sparse' });
    // …unless the caller accepts that few.
    expect((await metrics.snapshot(HOST, { samples: 10, intervalSeconds: 1 }, { minSamples: 2 })).samples).toBe(2);
  });

  it('refuses specs that cannot average', () => {
    expect(() => snapshotRange({ samples: 1, intervalSeconds: 5 })).toThrow(TypeError);
    expect(() => snapshotRange({ rangeSeconds: 0 })).toThrow(TypeError);
    expect(snapshotRange({ samples: 4, intervalSeconds: 0.1 })).toEqual({ rangeSeconds: 0.30000000000000004, stepSeconds: 0.1, expectedPoints: 4 });
  });
});
