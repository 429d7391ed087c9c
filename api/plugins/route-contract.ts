import { Type } from '@sinclair/typebox';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ROLES } from '../../config/api-tokens.js';
import { ErrorResponse } from '../schemas/common.js';
import { ALLOWED, requirementOf } from './auth.js';

/**
 * The longest string a path parameter's schema may accept (its maxLength, in code points). The router's
 * maxParamLength counts UTF-16 units after percent-decoding, so it is twice this: no value the schema
 * accepts is ever answered 414, and every longer one is (api/app.ts).
 */
export const MAX_PATH_PARAM_LENGTH = 200;
export const ROUTER_MAX_PARAM_LENGTH = 2 * MAX_PATH_PARAM_LENGTH;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'bad input: the message and `field` name what is wrong',
  401: 'no or an unknown bearer token',
  403: 'the token\'s role may not do this',
  413: 'the body is larger than the API accepts (1 MiB)',
  414: 'a path parameter is longer than its maxLength allows',
  415: 'the body is not application/json',
  503: 'PostgreSQL or Temporal is unavailable; nothing was changed',
};

interface SchemaLike {
  params?: { properties?: Record<string, { type?: string; maxLength?: number }> };
  querystring?: unknown;
  body?: unknown;
  response?: Record<string | number, unknown>;
}

/**
 * The status codes any route answers whatever its handler does, from what it declares: auth (401, and 403
 * when some role may not), input (400), path parameters (414), a body (413, 415), and PostgreSQL or Temporal
 * (503) for /api/v1 routes that use them. Exported for the test that compares them with the answers.
 */
export function standardStatusCodes(route: Pick<RouteOptions, 'url' | 'method' | 'config'> & { schema?: SchemaLike }): number[] {
  const codes = new Set<number>();
  const methods = [route.method].flat().map(String);
  const requirement = requirementOf(route.url, (route.config as { auth?: Parameters<typeof requirementOf>[1] } | undefined)?.auth);
  if (requirement !== 'public') {
    codes.add(401);
    if (ROLES.some((role) => !ALLOWED[requirement].includes(role))) codes.add(403);
  }
  const hasParams = route.url.includes(':') || route.url.includes('*');
  if (hasParams) codes.add(400).add(414);
  if (route.schema?.querystring) codes.add(400);
  if (methods.some((m) => BODY_METHODS.has(m))) codes.add(400).add(413).add(415);
  if (route.url.startsWith('/api/v1/') && !route.url.startsWith('/api/v1/health')) codes.add(503);
  return [...codes].sort();
}

/**
 * Every route's contract, applied as it is registered: the standard error responses are added to its
 * schema (so /docs/json lists every status it can answer) and a string path parameter must declare a
 * maxLength within MAX_PATH_PARAM_LENGTH (else the app refuses to start).
 */
export const routeContract = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/docs') || route.schema === undefined) return;
      const schema = route.schema as SchemaLike;
      for (const [name, prop] of Object.entries(schema.params?.properties ?? {})) {
        if (prop.type === 'string' && !(typeof prop.maxLength === 'number' && prop.maxLength <= MAX_PATH_PARAM_LENGTH)) {
          throw new Error(`${route.method} ${route.url}: path parameter "${name}" needs a maxLength of at most ${MAX_PATH_PARAM_LENGTH}`);
        }
      }
      const response = { ...(schema.response ?? {}) };
      for (const code of standardStatusCodes({ ...route, schema })) {
        if (!(code in response)) response[code] = Type.Ref(ErrorResponse, { description: ERROR_DESCRIPTIONS[code] });
      }
      route.schema = { ...route.schema, response };
    });
  },
  { name: 'route-contract' },
);
