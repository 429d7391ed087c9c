import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, isPgDataException, unavailableDependency } from '../errors.js';
import { SAFE_TEXT_PATTERN } from '../schemas/common.js';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; pattern?: string };
}

/** The name of the input field an ajv error is about: "limit", "body.priority_override", "status". */
function fieldOf(e: AjvError): string {
  const path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const leaf = e.params?.missingProperty ?? e.params?.additionalProperty;
  return [path, leaf].filter(Boolean).join('.') || '(root)';
}

function describe(e: AjvError): string {
  if (e.keyword === 'additionalProperties') return 'is not an accepted field';
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'anyOf' || e.keyword === 'enum' || e.keyword === 'const') return 'has a value that is not allowed';
  if (e.keyword === 'pattern' && e.params?.pattern === SAFE_TEXT_PATTERN) return 'contains a NUL character or an unpaired surrogate, which PostgreSQL cannot store';
  return e.message ?? 'is invalid';
}

/** The one error shape: { statusCode, error, message } (+ field for 400, + details), everywhere. */
export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string, extra: Record<string, unknown> = {}) {
  return reply.status(status).send({ statusCode: status, error: reasonPhrase(status), message, ...extra, requestId: request.id });
}

/**
 * Routing failures Fastify answers before any route runs (Fastify's `frameworkErrors` option): a path that is
 * not valid percent-encoding (400) and a path parameter over the router's maxParamLength (414).
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendError(request, reply, 414, 'a path parameter is longer than any value the API accepts (see maxLength in /docs/json)');
  } else if (error.code === 'FST_ERR_BAD_URL') {
    void sendError(request, reply, 400, 'the path is not valid percent-encoded UTF-8', { field: 'path' });
  } else {
    request.log.error({ err: error }, 'routing failed');
    void sendError(request, reply, 500, `internal error; quote request id ${request.id} when reporting it`);
  }
}

/**
 * The methods a concrete path answers, from the registered route patterns ("/api/v1/queue/:id"): those of a
 * route that names the path exactly (a static route owns its path: /tests/start is not a test id), else
 * those of every parametric route that matches it. For 405's Allow header.
 */
export function methodsFor(routes: readonly { method: string; url: string }[]) {
  const patterns = new Map<string, { re: RegExp; isStatic: boolean; methods: Set<string> }>();
  for (const r of routes) {
    let entry = patterns.get(r.url);
    if (!entry) {
      const source = r.url
        .replace(/\/$/, '')
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { re: new RegExp(`^${source}/?$`), isStatic: !/[:*]/.test(r.url), methods: new Set() };
      patterns.set(r.url, entry);
    }
    entry.methods.add(r.method);
  }
  return (path: string): string[] => {
    const matching = [...patterns.values()].filter((p) => p.re.test(path));
    const owners = matching.some((p) => p.isStatic) ? matching.filter((p) => p.isStatic) : matching;
    return [...new Set(owners.flatMap((p) => [...p.methods]))].sort();
  };
}

const pathOf = (request: FastifyRequest) => request.url.split('?')[0] ?? '';

function methodNotAllowed(request: FastifyRequest, reply: FastifyReply, allowed: string[]) {
  reply.header('allow', allowed.join(', '));
  return sendError(request, reply, 405, `${request.method} is not allowed on ${pathOf(request)}; allowed: ${allowed.join(', ')}`);
}

/** One error handler: 4xx name the field and say why; 5xx are logged in full and answered without internals. */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    /** Built from the route table once every route is registered. */
    let allowedMethods: ((path: string) => string[]) | undefined;
    app.setErrorHandler((error: FastifyError & { validation?: AjvError[] }, request, reply) => {
      if (error.validation?.length) {
        const first = error.validation[0] as AjvError;
        const field = fieldOf(first);
        const where = error.validationContext ?? 'request';
        return sendError(request, reply, 400, `${where} field "${field}" ${describe(first)}`, { field });
      }
      if (error instanceof ApiError) {
        if (error.statusCode >= 500) request.log.warn({ err: error }, 'request failed');
        return sendError(request, reply, error.statusCode, error.message, error.details);
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        // Fastify's own client errors (bad JSON, body too large, unsupported media type)
        return sendError(request, reply, status, error.message);
      }
      const down = unavailableDependency(error);
      if (down) {
        request.log.warn({ err: error }, `${down} unavailable`);
        return sendError(request, reply, 503, `${down} is unavailable; try again later (request id ${request.id})`, { dependency: down.toLowerCase() });
      }
      if (isPgDataException(error)) {
        // The input got past its schema but not past PostgreSQL: the client's value, and a schema to tighten.
        request.log.error({ err: error, route: request.routeOptions.url }, 'a value reached PostgreSQL that the schema should have refused');
        return sendError(request, reply, 400, `a value cannot be stored: ${error.message}`);
      }
      request.log.error({ err: error }, 'unhandled error');
      return sendError(request, reply, 500, `internal error; quote request id ${request.id} when reporting it`);
    });

    app.addHook('onReady', async () => {
      allowedMethods = methodsFor(app.routeTable);
    });
    // A known path with an unknown method is a 405, decided before Fastify looks at the body (so neither a
    // missing Content-Type on QUERY nor an unparsable body turns it into a 400 or 415). That includes a
    // method a parametric route would take on a path a static route owns: PATCH /queue/stats is not
    // PATCH /queue/:id.
    app.addHook('onRequest', async (request, reply) => {
      const allowed = allowedMethods?.(pathOf(request)) ?? [];
      if (allowed.length && !allowed.includes(request.method)) return methodNotAllowed(request, reply, allowed);
    });
    app.setNotFoundHandler((request, reply) => sendError(request, reply, 404, `no route ${request.method} ${pathOf(request)}`));
  },
  { name: 'error-handler' },
);

const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}
