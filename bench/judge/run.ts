// The statistical judge at fleet scale (domain/judge.ts): a wave of P patched systems against Q peers, each
// with S Prometheus points per metric, pooled per side — the Mann-Whitney U, the Hodges–Lehmann shift and its
// interval without materialising the m·n differences. Pure CPU, no I/O.
//
//   npx tsx bench/judge/run.ts            # 1 000 / 10 000 / 100 000 / 400 000 samples a side
//   npx tsx bench/judge/run.ts --small    # 1 000 and 10 000 (seconds)
import { judge, type JudgeSettings, type MetricInput } from '../../domain/judge.js';

const small = process.argv.includes('--small');
const SIZES = small ? [1_000, 10_000] : [1_000, 10_000, 100_000, 400_000];
const SETTINGS: JudgeSettings = { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 75, nodataPolicy: 'marginal' };

let seed = 15;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
// CPU % as node_exporter gives it: a level with noise, rounded to 0.1 (ties, as in the field)
const samples = (n: number, level: number) => Array.from({ length: n }, () => Math.round((level + 4 * (rand() - 0.5)) * 10) / 10);

let peakRss = process.memoryUsage().rss;
for (const n of SIZES) {
  const inputs: MetricInput[] = [
    { spec: { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 }, control: samples(n, 20), experiment: samples(n, 28) },
    { spec: { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: 5 }, control: samples(n, 50), experiment: samples(n, 51) },
  ];
  const started = process.hrtime.bigint();
  const verdict = judge(inputs, SETTINGS);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const cpu = verdict.metrics[0]!;
  console.log(`judge ${n} samples a side, 2 metrics: ${ms.toFixed(1)} ms  (${verdict.verdict}, cpu ${cpu.classification} shift ${cpu.test?.estimate.toFixed(2)} pp)`);
}
console.log(`peak RSS ${Math.round(peakRss / 1_048_576)} MB`);
