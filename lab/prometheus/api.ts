/**
 * A fallback Prometheus query API for machines without Prometheus: GET|POST /api/v1/query and
 * /api/v1/query_range, with Prometheus's envelope and error shapes (reference/prometheus.md §2.1),
 * answering only the PromQL the orchestrator uses, computed from the shared fleet.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Fleet, LabSystem } from '../fleet/index.js';
import { evaluate, formatSampleValue, type SeriesSource } from './evaluate.js';
import { parseStep, parseTime } from './params.js';
import { parseLabQuery, PromQlError } from './promql.js';

export interface PrometheusApiOptions {
  fleet: Fleet;
  /** The instance label per system, e.g. `(s) => exporters.instanceOf(s)`. */
  instanceOf: (sys: LabSystem) => string;
  /** Systems with scrape targets; all by default. */
  systems?: readonly LabSystem[];
  /** Target labels besides instance; `{job: 'node'}` by default. */
  targetLabels?: Record<string, string>;
  /** Path prefix, '' by default (so `/api/v1/query`). */
  prefix?: string;
  /**
   * How an empty vector or matrix is written: `list` (`"result":[]`, current Prometheus) or `null`
   * (`"result":null`, Prometheus 2.0.x and Prometheus-compatible query frontends). Default `list`; changeable
   * at run time with `PUT <prefix>/lab/mode {"emptyResult":"null"}`.
   */
  emptyResult?: EmptyResultMode;
}

export type EmptyResultMode = 'list' | 'null';
const EMPTY_RESULT_MODES: readonly EmptyResultMode[] = ['list', 'null'];

const MAX_POINTS = 11_000;

function badData(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ status: 'error', errorType: 'bad_data', error: message });
}

function paramsOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (k: string, v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  };
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) add(k, v);
  const body = req.body;
  // Mounted on an app whose catch-all parser keeps bodies as strings (the UYUNI lab): decode here.
  if (typeof body === 'string') for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  else if (body && typeof body === 'object') for (const [k, v] of Object.entries(body)) add(k, v);
  return out;
}

export function registerPrometheusApi(app: FastifyInstance, opts: PrometheusApiOptions): void {
  const src: SeriesSource = {
    fleet: opts.fleet,
    instanceOf: opts.instanceOf,
    ...(opts.systems ? { systems: opts.systems } : {}),
    ...(opts.targetLabels ? { targetLabels: opts.targetLabels } : {}),
  };
  const prefix = opts.prefix ?? '';
  const mode = { emptyResult: opts.emptyResult ?? 'list' };
  const written = <T>(result: T[]): T[] | null => (result.length === 0 && mode.emptyResult === 'null' ? null : result);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }
  // Wall-clock seconds ↔ the fleet's clock (a manual clock in tests), for memory leaks over time.
  const fleetMsAt = (t: number) => opts.fleet.now() + (t * 1000 - Date.now());

  const instant = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = paramsOf(req);
    try {
      if (p.query === undefined) throw new PromQlError('invalid parameter "query": unknown position: parse error: no expression found in input');
      const t = p.time !== undefined ? parseTime(p.time, 'time') : Date.now() / 1000;
      if (p.timeout !== undefined) parseStep(p.timeout, 'timeout');
      const q = parseQuery(p.query);
      const result = evaluate(src, q, fleetMsAt(t)).map((s) => ({ metric: s.metric, value: [t, formatSampleValue(s.value)] }));
      return { status: 'success', data: { resultType: 'vector', result: written(result) } };
    } catch (err) {
      if (err instanceof PromQlError) return badData(reply, err.message);
      throw err;
    }
  };

  const range = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = paramsOf(req);
    try {
      if (p.query === undefined) throw new PromQlError('invalid parameter "query": unknown position: parse error: no expression found in input');
      if (p.start === undefined) throw new PromQlError('invalid parameter "start": cannot parse "" to a valid timestamp');
      if (p.end === undefined) throw new PromQlError('invalid parameter "end": cannot parse "" to a valid timestamp');
      if (p.step === undefined) throw new PromQlError('invalid parameter "step": cannot parse "" to a valid duration');
      const start = parseTime(p.start, 'start');
      const end = parseTime(p.end, 'end');
      const step = parseStep(p.step, 'step');
      if (end < start) throw new PromQlError('end timestamp must not be before start time');
      if (step <= 0) throw new PromQlError('zero or negative query resolution step widths are not accepted. Try a positive integer');
      if ((end - start) / step > MAX_POINTS) {
        throw new PromQlError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      }
      const q = parseQuery(p.query);
      const series = new Map<string, { metric: Record<string, string>; values: [number, string][] }>();
      for (let t = start; t <= end + 1e-9; t += step) {
        const ts = Math.round(t * 1000) / 1000;
        for (const s of evaluate(src, q, fleetMsAt(ts))) {
          const key = JSON.stringify(s.metric);
          let entry = series.get(key);
          if (!entry) {
            entry = { metric: s.metric, values: [] };
            series.set(key, entry);
          }
          entry.values.push([ts, formatSampleValue(s.value)]);
        }
      }
      return { status: 'success', data: { resultType: 'matrix', result: written([...series.values()]) } };
    } catch (err) {
      if (err instanceof PromQlError) return badData(reply, err.message);
      throw err;
    }
  };

  app.get(`${prefix}/api/v1/query`, instant);
  app.post(`${prefix}/api/v1/query`, instant);
  app.get(`${prefix}/api/v1/query_range`, range);
  app.post(`${prefix}/api/v1/query_range`, range);
  app.get(`${prefix}/lab/mode`, async () => ({ ...mode }));
  app.put(`${prefix}/lab/mode`, async (req, reply) => {
    const body = (typeof req.body === 'string' ? safeJson(req.body) : req.body) as { emptyResult?: unknown } | undefined;
    if (!EMPTY_RESULT_MODES.includes(body?.emptyResult as EmptyResultMode)) {
      return reply.code(400).send({ error: `emptyResult must be one of ${EMPTY_RESULT_MODES.join(', ')}` });
    }
    mode.emptyResult = body?.emptyResult as EmptyResultMode;
    return { ...mode };
  });
  app.get(`${prefix}/-/healthy`, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('Prometheus Server is Healthy.\n'));
  app.get(`${prefix}/-/ready`, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('Prometheus Server is Ready.\n'));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseQuery(query: string) {
  try {
    return parseLabQuery(query);
  } catch (err) {
    if (err instanceof PromQlError) throw new PromQlError(`invalid parameter "query": 1:1: parse error: ${err.message}`);
    throw err;
  }
}

export interface PrometheusApiServer {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** The fallback API on its own listener (port 0 = random). */
export async function startPrometheusApi(opts: PrometheusApiOptions & { host?: string; port?: number }): Promise<PrometheusApiServer> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  registerPrometheusApi(app, opts);
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n'));
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  let closing: Promise<void> | undefined;
  return { url: `http://${host}:${port}`, port, app, close: () => (closing ??= app.close()) };
}
