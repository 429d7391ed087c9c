/** Serializes a value for a jsonb column (see database.ts for why jsonb takes text). */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}
