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
