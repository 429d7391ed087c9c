import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import { NO_NUL_PATTERN } from '../schemas/types.js';

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
  if (e.keyword === 'pattern' && e.params?.pattern === NO_NUL_PATTERN) return 'must not contain NUL (\\u0000)';
  if (e.keyword === 'anyOf' || e.keyword === 'enum' || e.keyword === 'const') return 'has a value that is not allowed';
  return e.message ?? 'is invalid';
}

/** One error handler: 4xx name the field and say why; 5xx are logged in full and answered without internals. */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError & { validation?: AjvError[] }, request, reply) => {
      if (error.validation?.length) {
        const first = error.validation[0] as AjvError;
        const field = fieldOf(first);
        const where = error.validationContext ?? 'request';
        return reply.status(400).send({
          statusCode: 400,
          error: 'Bad Request',
          message: `${where} field "${field}" ${describe(first)}`,
          field,
          requestId: request.id,
        });
      }
      if (error instanceof ApiError) {
        if (error.statusCode >= 500) request.log.warn({ err: error }, 'request failed');
        return reply.status(error.statusCode).send({
          statusCode: error.statusCode,
          error: reasonPhrase(error.statusCode),
          message: error.message,
          ...error.details,
          requestId: request.id,
        });
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        // Fastify's own client errors (bad JSON, body too large, unsupported media type)
        return reply.status(status).send({
          statusCode: status,
          error: reasonPhrase(status),
          message: error.message,
          requestId: request.id,
        });
      }
      request.log.error({ err: error }, 'unhandled error');
      return reply.status(500).send({
        statusCode: 500,
        error: 'Internal Server Error',
        message: `internal error; quote request id ${request.id} when reporting it`,
        requestId: request.id,
      });
    });

    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      }),
    );
  },
  { name: 'error-handler' },
);

const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}
