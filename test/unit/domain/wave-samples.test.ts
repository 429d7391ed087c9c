import { describe, expect, it } from 'vitest';
import { alternation, fleetCpuPercentQuery, fleetMemoryPercentQuery, instancesMatchers } from '../../../activities/prometheus/promql.js';
import { median, poolSamples } from '../../../domain/wave-samples.js';

describe('poolSamples', () => {
  const systems = [
    { systemId: 1, cpu: [10, 11, Number.NaN], memory: [40, 41], baseline: { cpu: [5, 6, 7], memory: [40, 40] } },
    { systemId: 2, cpu: [30, 31], memory: [], baseline: { cpu: [30], memory: [50] } },
    { systemId: 3, cpu: [20], memory: [60], baseline: { cpu: [], memory: [Number.NaN] } },
  ];
  it('levels: every point of every system, per metric; a system without points is named', () => {
    expect(poolSamples(systems, false)).toEqual({ cpu: [10, 11, Number.NaN, 30, 31, 20], memory: [40, 41, 60], missing: { cpu: [], memory: [2] } });
  });
  it('changes: each point minus its own system\'s baseline median; no baseline is missing, never 0', () => {
    expect(poolSamples(systems, true)).toEqual({ cpu: [4, 5, Number.NaN, 0, 1], memory: [0, 1], missing: { cpu: [3], memory: [2, 3] } });
  });
  it('median of the finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2, Number.NaN])).toBe(2.5);
    expect(median([Number.NaN])).toBeNaN();
  });
});

describe('fleet PromQL', () => {
  it('matches exactly the instances: regex metacharacters escaped, then a PromQL string literal', () => {
    expect(alternation(['10.0.0.1:9100', '[fe80::1]:9100'])).toBe('10\\.0\\.0\\.1:9100|\\[fe80::1\\]:9100');
    expect(instancesMatchers(['10.0.0.1:9100', 'a"b'])).toBe('instance=~"10\\\\.0\\\\.0\\\\.1:9100|a\\"b"');
    expect(instancesMatchers(['h:1'], { job: 'node' })).toBe('instance=~"h:1",job="node"');
    expect(() => alternation([])).toThrow(TypeError);
    expect(() => instancesMatchers([''])).toThrow(TypeError);
  });
  it('one series per instance for CPU and memory', () => {
    expect(fleetCpuPercentQuery(['h:1', 'h:2'], '3s')).toBe('100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance=~"h:1|h:2"}[3s])))');
    expect(fleetMemoryPercentQuery(['h:1'])).toBe('100 * (1 - max by (instance) (node_memory_MemAvailable_bytes{instance=~"h:1"}) / on (instance) max by (instance) (node_memory_MemTotal_bytes{instance=~"h:1"}))');
    expect(() => fleetCpuPercentQuery(['h:1'], '3 seconds')).toThrow(TypeError);
  });
});
