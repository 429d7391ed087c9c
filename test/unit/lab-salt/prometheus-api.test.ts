import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, manualClock, type LabSystem, type ManualClock } from '../../../lab/fleet/index.js';
import { parseLabQuery, registerPrometheusApi, startPrometheusApi, type PrometheusApiServer } from '../../../lab/prometheus/index.js';
import { http } from './helpers.js';

let clock: ManualClock;
let fleet: Fleet;
let prom: PrometheusApiServer;
const PORT = 9100;
const instanceOf = (s: LabSystem) => `${s.ip}:${PORT}`;

beforeAll(async () => {
  clock = manualClock();
  fleet = new Fleet({ clock, prodSystemsPerOs: 2, actionPickupMs: 10, actionCompleteMs: 10, rebootMs: 1000 });
  prom = await startPrometheusApi({ fleet, instanceOf });
});
afterAll(async () => {
  await prom.close();
});

const cpuQuery = (inst: string, w = '30s') => `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="${inst}"}[${w}])))`;
const memQuery = (inst: string) => `100 * (1 - node_memory_MemAvailable_bytes{instance="${inst}"} / node_memory_MemTotal_bytes{instance="${inst}"})`;

interface Envelope {
  status: string;
  errorType?: string;
  error?: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> };
}

const query = (q: string, extra = '') => http<Envelope>(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}${extra}`);

describe('Prometheus fallback query API', () => {
  it("returns the fleet's CPU % for the orchestrator's expression", async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    const res = await query(cpuQuery(instanceOf(sys)));
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('success');
    expect(res.json.data.resultType).toBe('vector');
    expect(res.json.data.result).toHaveLength(1);
    const [sample] = res.json.data.result;
    expect(sample!.metric).toEqual({ instance: instanceOf(sys) });
    expect(typeof sample!.value![0]).toBe('number');
    expect(sample!.value![1]).toBe(String(fleet.metrics(sys.id).cpuPercent));
    // Spacing and matcher order do not matter; `avg(...) by (instance)` is the same query.
    const alt = await query(`100*(1-avg(rate(node_cpu_seconds_total{instance="${instanceOf(sys)}", mode="idle"}[1m])) by (instance))`);
    expect(alt.json.data.result[0]!.value![1]).toBe(sample!.value![1]);
  });

  it('follows a cpu_spike erratum', async () => {
    const sys = fleet.systemsOf('ubuntu', 'test')[0]!;
    const base = fleet.metrics(sys.id).cpuPercent;
    const e = fleet.findErratum({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: sys.id })!;
    fleet.scheduleApplyErrata([sys.id], [e.id]);
    clock.advance(100);
    const res = await query(cpuQuery(instanceOf(sys)));
    expect(Number(res.json.data.result[0]!.value![1])).toBeCloseTo(Math.min(100, base + 40), 5);
  });

  it("returns the fleet's memory % and up", async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const mem = await query(memQuery(instanceOf(sys)));
    expect(mem.json.data.result).toEqual([{ metric: { instance: instanceOf(sys), job: 'node' }, value: [expect.any(Number), String(fleet.metrics(sys.id).memoryPercent)] }]);
    const up = await query(`up{instance="${instanceOf(sys)}"}`);
    expect(up.json.data.result).toEqual([{ metric: { __name__: 'up', instance: instanceOf(sys), job: 'node' }, value: [expect.any(Number), '1'] }]);
    const all = await query('up');
    expect(all.json.data.result).toHaveLength(fleet.systems.length);
    const regex = await query(`up{instance=~"${sys.ip.replace(/\./g, '\\\\.')}:.*"}`);
    expect(regex.json.data.result).toHaveLength(1);
  });

  it('gives [] for unknown instances and for down systems (up = 0)', async () => {
    expect((await query(cpuQuery('10.9.9.9:9100'))).json).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
    expect((await query(memQuery('10.9.9.9:9100'))).json.data.result).toEqual([]);
    const sys = fleet.systemsOf('ubuntu', 'prod')[1]!;
    fleet.rebootNow(sys.id);
    expect((await query(cpuQuery(instanceOf(sys)))).json.data.result).toEqual([]);
    expect((await query(memQuery(instanceOf(sys)))).json.data.result).toEqual([]);
    expect((await query(`up{instance="${instanceOf(sys)}"}`)).json.data.result[0]!.value![1]).toBe('0');
    clock.advance(1000);
    expect((await query(cpuQuery(instanceOf(sys)))).json.data.result).toHaveLength(1);
  });

  it('answers anything else with bad_data 400', async () => {
    for (const q of ['node_load1', 'sum(rate(node_cpu_seconds_total[5m]))', cpuQuery('x').replace('idle', 'user'), 'up{', '']) {
      const res = await query(q);
      expect(res.status, q).toBe(400);
      expect(res.json).toMatchObject({ status: 'error', errorType: 'bad_data', error: expect.any(String) });
    }
    const noQuery = await http<Envelope>(`${prom.url}/api/v1/query`);
    expect(noQuery.status).toBe(400);
    expect((await query('up', '&time=not-a-time')).status).toBe(400);
    expect((await http(`${prom.url}/api/v1/nope`)).status).toBe(404);
  });

  it('takes POSTed forms and serves query_range as a matrix', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    const post = await http<Envelope>(`${prom.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: cpuQuery(instanceOf(sys)), time: '1800000000.5' }).toString(),
    });
    expect(post.json.data.result[0]!.value).toEqual([1800000000.5, String(fleet.metrics(sys.id).cpuPercent)]);
    const range = await http<Envelope>(
      `${prom.url}/api/v1/query_range?${new URLSearchParams({ query: memQuery(instanceOf(sys)), start: '1800000000', end: '1800000060', step: '15s' })}`,
    );
    expect(range.json.data.resultType).toBe('matrix');
    expect(range.json.data.result[0]!.values!.map(([t]) => t)).toEqual([1800000000, 1800000015, 1800000030, 1800000045, 1800000060]);
    const tooMany = await http<Envelope>(`${prom.url}/api/v1/query_range?${new URLSearchParams({ query: 'up', start: '0', end: '100000', step: '1' })}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.errorType).toBe('bad_data');
  });

  it('mounts on an existing Fastify app', async () => {
    const app = Fastify();
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    registerPrometheusApi(app, { fleet, instanceOf, prefix: '/prometheus' });
    const res = await app.inject({ method: 'GET', url: `/prometheus/api/v1/query?query=${encodeURIComponent(`up{instance="${instanceOf(sys)}"}`)}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'success', data: { result: [{ value: [expect.any(Number), '1'] }] } });
    await app.close();
  });

  it('empty-result mode null: an empty vector or matrix is written as "result": null, a non-empty one as before', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    const nothing = 'up{instance="127.9.9.9:9100"}';
    expect((await query(nothing)).json.data.result).toEqual([]);
    const set = await http<{ emptyResult: string }>(`${prom.url}/lab/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ emptyResult: 'null' }) });
    expect(set.json).toEqual({ emptyResult: 'null' });
    try {
      const empty = await http(`${prom.url}/api/v1/query?query=${encodeURIComponent(nothing)}`);
      expect(empty.text).toBe('{"status":"success","data":{"resultType":"vector","result":null}}');
      const emptyRange = await http(`${prom.url}/api/v1/query_range?${new URLSearchParams({ query: nothing, start: '1800000000', end: '1800000060', step: '15s' })}`);
      expect(emptyRange.text).toBe('{"status":"success","data":{"resultType":"matrix","result":null}}');
      expect((await query(`up{instance="${instanceOf(sys)}"}`)).json.data.result).toHaveLength(1);
    } finally {
      await http(`${prom.url}/lab/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ emptyResult: 'list' }) });
    }
    expect((await query(nothing)).json.data.result).toEqual([]);
    const bad = await http(`${prom.url}/lab/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ emptyResult: 'undefined' }) });
    expect(bad.status).toBe(400);
  });

  it('parses the supported expressions', () => {
    expect(parseLabQuery(cpuQuery('127.0.0.2:9100', '1m30s'))).toEqual({ kind: 'cpu', windowSeconds: 90, matchers: [{ name: 'instance', op: '=', value: '127.0.0.2:9100' }] });
    expect(parseLabQuery('100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)')).toEqual({ kind: 'memory', matchers: [] });
    expect(() => parseLabQuery('up or vector(1)')).toThrow();
  });
});
