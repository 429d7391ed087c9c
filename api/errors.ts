// The API's own errors: thrown by routes and services, turned into JSON by the one error handler.
// Messages are written for operators: they name the field or the resource and say what to do.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string) => new ApiError(400, `${field}: ${message}`, { field });
export const notFound = (what: string) => new ApiError(404, `${what} not found`);
export const conflict = (message: string, details: Record<string, unknown> = {}) => new ApiError(409, message, details);
export const unavailable = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(503, message, details);

const PG_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);
// gRPC status codes that mean "the Temporal server could not be reached or is overloaded", not "bad request".
const GRPC_UNAVAILABLE = new Set([4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

/**
 * Which dependency an unexpected error says is down ("PostgreSQL", "Temporal"), or undefined when the error
 * is something else. Walks `cause` chains: the Temporal client wraps gRPC errors in ServiceError.
 */
export function unavailableDependency(err: unknown): 'PostgreSQL' | 'Temporal' | undefined {
  for (let e = err as { code?: unknown; name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e !== 'object') return undefined;
    const code = e.code;
    if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code) && 'metadata' in e) return 'Temporal';
    if (e.name === 'TransportError' || /Failed to connect before the deadline/.test(e.message ?? '')) return 'Temporal';
    if (typeof code === 'string' && PG_CONNECTION_CODES.has(code)) return 'PostgreSQL';
    if (/timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/.test(e.message ?? '')) return 'PostgreSQL';
  }
  return undefined;
}

/**
 * A PostgreSQL "data exception" (SQLSTATE class 22: out of range, invalid text, NUL byte...). The schemas are
 * meant to make these impossible; one that slips through is the client's input, answered as a 400, and
 * logged as a gap in a schema.
 */
export function isPgDataException(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code) && typeof (err as { severity?: unknown }).severity === 'string';
}
