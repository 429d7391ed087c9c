import { Type, type Static, type StringOptions, type TSchema } from '@sinclair/typebox';
import { WAIT_BOUND_SECONDS } from '../limits.js';

// Building blocks every route uses for its input, so that whatever the schema accepts PostgreSQL can hold:
// ids within their column's type, text without the characters PostgreSQL refuses, bounded paging. A route
// that takes input from a person builds it from these (test/integration/api-hostile-input.test.ts walks
// every route in the route table with hostile values and fails on any 5xx or undocumented status).

/** PostgreSQL `integer` (int4): serial ids, UYUNI system ids. */
export const INT4_MAX = 2_147_483_647;
/** PostgreSQL `bigint` as far as a JSON number stays exact (2^53 - 1). */
export const INT8_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Text PostgreSQL can store in `text` and `jsonb`: no NUL (U+0000: "invalid byte sequence for encoding UTF8:
 * 0x00", and jsonb refuses the \u0000 escape) and no unpaired UTF-16 surrogate (jsonb refuses "\ud800"; text
 * would silently get U+FFFD instead of what was sent). The schema's pattern states the NUL rule; the
 * surrogate rule cannot be a pattern every JSON Schema engine compiles (Rust's regex, which schemathesis
 * validates with, has no surrogate code points), so the edge check in api/plugins/validation.ts enforces
 * both for every string of every request, and the description says so.
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000]*$';
export const SAFE_TEXT_RULE = 'no NUL (\\u0000) and no unpaired UTF-16 surrogate: PostgreSQL cannot store them';
// eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
const UNSAFE_CHARACTER = /[\u0000\p{Cs}]/u;

/** True when PostgreSQL would refuse (or alter) the string: see SAFE_TEXT_PATTERN. */
export const isUnsafeText = (s: string): boolean => UNSAFE_CHARACTER.test(s);

/**
 * A string PostgreSQL can store, always bounded: `maxLength` is required (a path parameter's maxLength also
 * bounds the router's maxParamLength, see api/plugins/route-contract.ts).
 */
export const SafeText = (options: Omit<StringOptions, 'pattern' | 'maxLength'> & { maxLength: number }) =>
  Type.String({ ...options, pattern: SAFE_TEXT_PATTERN, description: [options.description, SAFE_TEXT_RULE].filter(Boolean).join('; ') });

/** A positive id of an `integer` column (1..2147483647). */
export const Id = (description = 'id') => Type.Integer({ minimum: 1, maximum: INT4_MAX, description });
/** A positive id of a `bigint` column (1..2^53-1: JSON numbers beyond are not exact). */
export const BigId = (description = 'id') => Type.Integer({ minimum: 1, maximum: INT8_MAX, description });

/** Path parameters `{ id }` for `/:id` routes. */
export const IdParams = (description = 'queue item id') => Type.Object({ id: Id(description) }, { additionalProperties: false });

/**
 * A query parameter or body field with a default: optional in the document (and in what a client must
 * send), always present in the handler (ajv's useDefaults fills it in before the handler runs).
 */
export const WithDefault = <T extends TSchema>(schema: T): T => {
  if (schema.default === undefined) throw new Error('WithDefault needs a schema with a default');
  return Type.Optional(schema) as unknown as T;
};

export const MAX_OFFSET = 1_000_000;

/** `limit` (1..max, default) and `offset` (0..1,000,000, default 0) for a paged list's querystring. */
export const Paging = (opts: { defaultLimit: number; maxLimit: number }) => ({
  limit: WithDefault(Type.Integer({ minimum: 1, maximum: opts.maxLimit, default: opts.defaultLimit, description: `page size, at most ${opts.maxLimit}` })),
  offset: WithDefault(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: `rows to skip, at most ${MAX_OFFSET}` })),
});

/** `?wait_seconds=`: how long a waiting POST waits before it answers 202 (default and most: the bound). */
export const WaitQuery = Type.Object(
  {
    wait_seconds: WithDefault(
      Type.Integer({ minimum: 0, maximum: WAIT_BOUND_SECONDS, default: WAIT_BOUND_SECONDS, description: 'how long to wait for the result before answering 202' }),
    ),
  },
  { additionalProperties: false },
);

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String({ description: 'what went wrong, naming the field or resource' }),
    field: Type.Optional(Type.String({ description: 'the offending input field, for 400' })),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse', additionalProperties: true },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)]));

/** Route-level auth requirement (see plugins/auth.ts). */
export type AuthRequirement = 'public' | 'read' | 'write' | 'approve' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
}
