import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../activities/prometheus/client.js';
import { PrometheusNoDataError } from '../../activities/prometheus/errors.js';
import { NodeMetrics } from '../../activities/prometheus/metrics.js';
import { Fleet, type LabSystem } from '../../lab/fleet/index.js';
import { startPrometheusApi, type PrometheusApiServer } from '../../lab/prometheus/index.js';

// The real Prometheus client and the metric checks against the lab's query API in the shape of Prometheus 2.0.x
// and Prometheus-compatible query frontends: an empty result is `"result": null`. It must read as "no data"
// (retryable, never a pass), and non-empty answers must read as before.
describe('Prometheus client against the lab answering null for empty results', () => {
  let fleet: Fleet;
  let prom: PrometheusApiServer;
  let client: PrometheusClient;
  let metrics: NodeMetrics;
  const instanceOf = (s: LabSystem) => `${s.ip}:9100`;
  const UNSCRAPED = '127.250.250.250:9100';

  beforeAll(async () => {
    fleet = new Fleet({ prodSystemsPerOs: 2 });
    prom = await startPrometheusApi({ fleet, instanceOf, emptyResult: 'null' });
    client = new PrometheusClient({ url: prom.url, timeoutMs: 2_000 });
    metrics = new NodeMetrics(client);
  });
  afterAll(async () => {
    await client?.close();
    await prom?.close();
  });

  it('the lab really sends null', async () => {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(`up{instance="${UNSCRAPED}"}`)}`);
    expect(await res.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: null } });
  });

  it('an instance with no series: every reading is retryable no-data, for instant and range queries', async () => {
    expect(await client.query(`up{instance="${UNSCRAPED}"}`)).toMatchObject({ resultType: 'vector', result: [] });
    const now = Date.now() / 1000;
    expect((await client.queryRange(`up{instance="${UNSCRAPED}"}`, now - 60, now, 15)).result).toEqual([]);
    const readings = [() => metrics.up(UNSCRAPED), () => metrics.memoryPercent(UNSCRAPED), () => metrics.cpuPercent(UNSCRAPED), () => metrics.snapshot(UNSCRAPED, { samples: 4, intervalSeconds: 15 })];
    for (const reading of readings) {
      const error = await reading().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PrometheusNoDataError);
      expect(error).toMatchObject({ reason: 'no-series', retryable: true });
    }
  });

  it('a scraped system still reads its real values', async () => {
    const sys = fleet.systemsOf('rhel', 'test')[0]!;
    expect(await metrics.up(instanceOf(sys))).toBe(true);
    expect(await metrics.memoryPercent(instanceOf(sys))).toBeCloseTo(fleet.metrics(sys.id).memoryPercent, 1);
    const snapshot = await metrics.snapshot(instanceOf(sys), { samples: 4, intervalSeconds: 15 });
    expect(snapshot.samples).toBe(4);
    expect(snapshot.memoryPercent).toBeCloseTo(fleet.metrics(sys.id).memoryPercent, 0);
  });
});
