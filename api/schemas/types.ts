import { Type, type Static, type TSchema } from '@sinclair/typebox';

// Schema builders that serialize fast. fast-json-stringify handles `anyOf` by validating each candidate at
// run time, which costs a lot on a 50-row page; a string enum and OpenAPI's `nullable` compile to plain
// checks, validate the same, and read the same in the OpenAPI document.

/** One of a fixed set of strings (instead of a union of literals). */
export const StringEnum = <T extends string>(values: readonly T[], options: { description?: string; default?: T } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** The schema or null (OpenAPI 3.0 `nullable`). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });

/** PostgreSQL cannot store U+0000 in text: such a string is refused with a 400 naming the field. */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';

/** A string without NUL (plus any other constraint). */
export const SafeString = (options: { minLength?: number; maxLength: number; description?: string; format?: string }) =>
  Type.String({ pattern: NO_NUL_PATTERN, ...options });

/** A row id of an `integer` (int4) column: 1..2147483647. */
export const RowId = (description?: string) => Type.Integer({ minimum: 1, maximum: 2_147_483_647, ...(description ? { description } : {}) });

/** Paging: a bounded page size and offset. */
export const Limit = (def: number, max: number) => Type.Integer({ minimum: 1, maximum: max, default: def, description: `page size (1..${max})` });
export const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'rows to skip (0..1000000)' });
