import { ApplicationFailure } from '@temporalio/common';

// PostgreSQL refuses some writes for good: a retry of the same statement fails the same way. Those must reach
// the workflow at once as a non-retryable failure (so a person's action is refused within seconds), while a
// lost connection or a deadlock is worth retrying. SQLSTATE classes from PostgreSQL's errcodes appendix:
// 22 data exception (e.g. 22P05 a NUL in text/jsonb, 22001 too long), 23 integrity constraint violation,
// 42 syntax error or access rule violation. 40 (serialization failure, deadlock) and 08 (connection) are not
// permanent.
const PERMANENT_CLASSES = new Set(['22', '23', '42']);

export function isPermanentDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && PERMANENT_CLASSES.has(code.slice(0, 2));
}

/** Runs a database write; a permanent refusal becomes a non-retryable `RecordRefused` failure. */
export async function recordOrRefuse<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isPermanentDbError(err)) {
      throw ApplicationFailure.nonRetryable(`PostgreSQL refused to record ${what}: ${(err as Error).message}`, 'RecordRefused');
    }
    throw err;
  }
}
