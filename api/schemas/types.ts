import { Type, type Static, type TSchema } from '@sinclair/typebox';

// Schema builders that serialize fast. fast-json-stringify handles `anyOf` by validating each candidate at
// run time, which costs a lot on a 50-row page; a string enum and OpenAPI's `nullable` compile to plain
// checks, validate the same, and read the same in the OpenAPI document.

/** One of a fixed set of strings (instead of a union of literals). */
export const StringEnum = <T extends string>(values: readonly T[], options: { description?: string; default?: T } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** The schema or null (OpenAPI 3.0 `nullable`). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
