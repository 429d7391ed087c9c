// The node_exporter PromQL the verdicts rest on (reference §2.2), for one host selected by an
// exact-match `instance` label. Label values are PromQL string literals, so `\`, `"` and newlines
// are escaped: an instance string can never break out of its matcher.

const DURATION = /^(\d+(ms|[smhdwy]))+$/;

/** A PromQL double-quoted string literal. */
export function promString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** node_exporter's default `instance` label: the scrape address `"<ip>:<port>"` (IPv6 in brackets). */
export function nodeInstance(ip: string, port = 9100): string {
  if (ip === '') throw new TypeError('ip must not be empty');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new TypeError(`port ${port} is out of range`);
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface SelectorOptions {
  /** Adds `job="..."` when one address is scraped by several jobs (otherwise results are ambiguous). */
  job?: string;
}

/** `instance="10.1.2.3:9100"` (plus `,job="..."`), without braces. */
export function instanceMatchers(instance: string, options: SelectorOptions = {}): string {
  if (instance === '') throw new TypeError('instance must not be empty');
  const job = options.job === undefined ? '' : `,job=${promString(options.job)}`;
  return `instance=${promString(instance)}${job}`;
}

export function assertDuration(window: string): void {
  if (!DURATION.test(window)) throw new TypeError(`"${window}" is not a PromQL duration (e.g. 30s, 1m)`);
}

/** CPU busy percent: 100 × (1 − idle share), averaged over the host's CPUs. The window must span ≥ 2 scrapes. */
export function cpuPercentQuery(instance: string, window: string, options: SelectorOptions = {}): string {
  assertDuration(window);
  return `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",${instanceMatchers(instance, options)}}[${window}])))`;
}

/** Memory used percent: MemAvailable (not MemFree) counts reclaimable cache as free. */
export function memoryPercentQuery(instance: string, options: SelectorOptions = {}): string {
  const m = instanceMatchers(instance, options);
  return `100 * (1 - node_memory_MemAvailable_bytes{${m}} / node_memory_MemTotal_bytes{${m}})`;
}

export function upQuery(instance: string, options: SelectorOptions = {}): string {
  return `up{${instanceMatchers(instance, options)}}`;
}

/** An RE2 pattern matching exactly the given strings (PromQL `=~` is anchored): every metacharacter escaped. */
export function alternation(values: readonly string[]): string {
  if (values.length === 0) throw new TypeError('at least one value is needed');
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** `instance=~"a|b"` (plus `,job="..."`), without braces: one query for many hosts. */
export function instancesMatchers(instances: readonly string[], options: SelectorOptions = {}): string {
  if (instances.some((i) => i === '')) throw new TypeError('instance must not be empty');
  const job = options.job === undefined ? '' : `,job=${promString(options.job)}`;
  return `instance=~${promString(alternation(instances))}${job}`;
}

/** cpuPercentQuery for many instances: one series per instance. */
export function fleetCpuPercentQuery(instances: readonly string[], window: string, options: SelectorOptions = {}): string {
  assertDuration(window);
  return `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",${instancesMatchers(instances, options)}}[${window}])))`;
}

/** memoryPercentQuery for many instances: one series per instance (`on (instance)`, so a job label cannot split the match). */
export function fleetMemoryPercentQuery(instances: readonly string[], options: SelectorOptions = {}): string {
  const m = instancesMatchers(instances, options);
  return `100 * (1 - max by (instance) (node_memory_MemAvailable_bytes{${m}}) / on (instance) max by (instance) (node_memory_MemTotal_bytes{${m}}))`;
}
