import { activityInfo } from '@temporalio/activity';
import { toApplicationFailure as prometheusFailure } from '../prometheus/failure.js';
import { toApplicationFailure as saltFailure } from '../salt/failure.js';
import { toApplicationFailure as uyuniFailure } from '../uyuni/failure.js';

/** A client error as the ApplicationFailure Temporal retries (or not) by its type. */
export const mapError = (err: unknown): unknown => {
  const a = uyuniFailure(err);
  if (a !== err) return a;
  const b = saltFailure(err);
  if (b !== err) return b;
  return prometheusFailure(err);
};

export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}

export function workflowOf(): { workflowId: string; runId: string } {
  const w = activityInfo().workflowExecution;
  if (!w) throw new Error('test activities run inside a workflow');
  return w;
}

/** The versions of `names` in an installed-package map (name → version), leaving out what is not installed. */
export const pinsOf = (versions: Record<string, string>, names: string[]) =>
  Object.fromEntries(names.filter((n) => versions[n] !== undefined).map((n) => [n, versions[n] as string]));
