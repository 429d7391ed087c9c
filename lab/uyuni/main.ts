/**
 * CLI: `npm run lab:uyuni`. Env: LAB_UYUNI_PORT (8090), LAB_UYUNI_HOST (127.0.0.1), LAB_SEED,
 * LAB_SCALE (seed | large | max), LAB_LATENCY_MS, LAB_UYUNI_USER, LAB_UYUNI_PASSWORD; the fleet shape can be
 * overridden with LAB_TEST_SYSTEMS_PER_OS, LAB_PROD_SYSTEMS_PER_OS, LAB_ERRATA_PER_OS, LAB_RELEVANT_PER_SYSTEM
 * (bench/sync uses them to put 2,000 systems into the test groups that the sync reads).
 * Prints one JSON line once listening; stops on SIGINT/SIGTERM.
 */
import { DEFAULT_SEED, SCALES, type ScaleName } from '../fleet/index.js';
import { DEFAULT_CREDENTIALS, startUyuniLab } from './server.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(JSON.stringify({ level: 'fatal', msg: `${name} must be a non-negative integer, got "${raw}"` }));
    process.exit(2);
  }
  return n;
}

function overrides<K extends string>(vars: Record<K, string>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [key, name] of Object.entries(vars) as [K, string][]) {
    if (process.env[name]) out[key] = intEnv(name, 0);
  }
  return out;
}

const scale = (process.env.LAB_SCALE ?? 'seed') as ScaleName;
if (!(scale in SCALES)) {
  console.error(JSON.stringify({ level: 'fatal', msg: `LAB_SCALE must be one of ${Object.keys(SCALES).join(', ')}, got "${scale}"` }));
  process.exit(2);
}

const started = performance.now();
const lab = await startUyuniLab({
  host: process.env.LAB_UYUNI_HOST ?? '127.0.0.1',
  port: intEnv('LAB_UYUNI_PORT', 8090),
  fleet: {
    ...SCALES[scale],
    seed: intEnv('LAB_SEED', DEFAULT_SEED),
    ...overrides({
      testSystemsPerOs: 'LAB_TEST_SYSTEMS_PER_OS',
      prodSystemsPerOs: 'LAB_PROD_SYSTEMS_PER_OS',
      errataPerOs: 'LAB_ERRATA_PER_OS',
      relevantPerSystem: 'LAB_RELEVANT_PER_SYSTEM',
    }),
  },
  latencyMs: intEnv('LAB_LATENCY_MS', 0),
  credentials: {
    user: process.env.LAB_UYUNI_USER ?? DEFAULT_CREDENTIALS.user,
    password: process.env.LAB_UYUNI_PASSWORD ?? DEFAULT_CREDENTIALS.password,
  },
});
console.log(
  JSON.stringify({
    level: 'info',
    msg: 'uyuni lab listening',
    url: lab.url,
    control: `${lab.baseUrl}/lab`,
    scale,
    seed: lab.fleet.options.seed,
    systems: lab.fleet.systems.length,
    errata: lab.fleet.catalog.errata.length,
    latencyMs: lab.faults.latency.globalMs,
    startupMs: Math.round(performance.now() - started),
  }),
);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  lab.close().then(
    () => {
      console.log(JSON.stringify({ level: 'info', msg: 'uyuni lab stopped', signal }));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(JSON.stringify({ level: 'error', msg: 'uyuni lab failed to stop', err: String(err) }));
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
