/** Prometheus HTTP API parameter parsing: times (RFC 3339 or unix seconds) and steps/durations. */
import { parseDuration, PromQlError } from './promql.js';

/** Epoch seconds (may have a fraction). */
export function parseTime(text: string, name: string): number {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(t) || Number.isNaN(ms)) throw new PromQlError(`invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
  return ms / 1000;
}

/** A step or timeout: seconds as a float, or a duration such as `15s`. */
export function parseStep(text: string, name: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  try {
    return parseDuration(t);
  } catch {
    throw new PromQlError(`invalid parameter "${name}": cannot parse "${text}" to a valid duration`);
  }
}
