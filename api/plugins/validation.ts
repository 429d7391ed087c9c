import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import { isUnsafeText } from '../schemas/common.js';

// Two validators: query strings and path parameters arrive as text and are coerced ("limit=50" → 50,
// a repeated key → an array); JSON bodies are taken as sent, so `{"priority_override": 0}` is an error
// rather than coerced to null. Unknown fields are errors (400 naming the field), never silently dropped.
const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };

function build(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options });
  addFormats.default(ajv);
  return ajv;
}

const PARTS = [
  ['params', 'path'],
  ['query', 'querystring'],
  ['body', 'body'],
] as const;

/**
 * The first string (value or object key) PostgreSQL cannot hold, as the field path ("notes", "value.ubuntu.0")
 * and what is wrong with it; undefined when there is none. Depth-bounded: bodies are small (bodyLimit).
 */
export function findUnsafeText(value: unknown, path: string[] = [], depth = 0): { field: string; problem: string } | undefined {
  const at = (p: string[]) => p.join('.') || '(root)';
  const problem = (s: string) => (s.includes('\u0000') ? 'contains a NUL character (\\u0000)' : 'contains an unpaired UTF-16 surrogate');
  if (typeof value === 'string') return isUnsafeText(value) ? { field: at(path), problem: problem(value) } : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (isUnsafeText(key)) return { field: at([...path, key]), problem: `has a key that ${problem(key)}` };
    const found = findUnsafeText(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

export const validation = fp(
  async (app: FastifyInstance) => {
    const text = build({ coerceTypes: 'array' });
    const json = build({ coerceTypes: false });
    app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? json : text).compile(schema));

    // An empty JSON body is no body: `curl -X POST -H 'content-type: application/json' .../tests/start`
    // behaves like `curl -X POST .../tests/start` (Fastify's own parser answers 400 to the first).
    // The API speaks JSON only: a text/plain body is a 415, not a string handed to the schema.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
      return parseJson(request, body as string, done);
    });

    app.addHook('preValidation', async (request: FastifyRequest) => {
      // Text PostgreSQL cannot store is refused here for every route and every part, including values a
      // schema leaves open (a setting's JSON value): a 400 naming the field instead of a database error.
      for (const [part, context] of PARTS) {
        const found = findUnsafeText(request[part]);
        if (found) {
          throw new ApiError(400, `${context} field "${found.field}" ${found.problem}, which PostgreSQL cannot store`, { field: found.field });
        }
      }
      // A body-taking route called without a body gets {}: its schema's defaults apply, or a 400 names
      // the required field. (The document marks such bodies optional when nothing in them is required.)
      if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
    });
  },
  { name: 'validation' },
);
