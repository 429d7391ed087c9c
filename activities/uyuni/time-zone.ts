// Wall-clock ↔ instant conversion in a named IANA zone, without touching process.env.TZ:
// Uyuni renders zone-less dates in its JVM zone, and our worker may run in any zone (and share the
// process with a lab server), so the zone is always explicit.

const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Etc/UCT', 'UCT', 'Zulu', 'Etc/Zulu']);
const formatters = new Map<string, Intl.DateTimeFormat>();

export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export function isUtcZone(timeZone: string): boolean {
  return UTC_ALIASES.has(timeZone);
}

/** Throws a RangeError naming the zone when the runtime doesn't know it. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatterFor(timeZone);
  } catch {
    throw new RangeError(`unknown time zone '${timeZone}'`);
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall clock in `timeZone` at instant `epochMs`. */
export function wallClockAt(epochMs: number, timeZone: string): WallClock {
  const millisecond = ((epochMs % 1000) + 1000) % 1000;
  if (isUtcZone(timeZone)) {
    const d = new Date(epochMs);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond,
    };
  }
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    hour: fields.hour ?? NaN,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
    millisecond,
  };
}

function offsetMsAt(epochMs: number, timeZone: string): number {
  const w = wallClockAt(epochMs, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond) - epochMs;
}

/**
 * Converts a wall-clock time, given as "the same digits read as UTC" (`Date.UTC(...)`), to the instant
 * it denotes in `timeZone`. A time inside a DST gap moves forward by the gap (as Java's lenient
 * calendar does); an ambiguous time (DST overlap) resolves to one of its two instants — the wire
 * format can't tell them apart anyway.
 */
export function wallClockToEpochMs(wallAsUtcMs: number, timeZone: string): number {
  if (Number.isNaN(wallAsUtcMs) || isUtcZone(timeZone)) return wallAsUtcMs;
  const firstOffset = offsetMsAt(wallAsUtcMs, timeZone);
  const first = wallAsUtcMs - firstOffset;
  const secondOffset = offsetMsAt(first, timeZone);
  if (secondOffset === firstOffset) return first;
  const second = wallAsUtcMs - secondOffset;
  if (offsetMsAt(second, timeZone) === secondOffset) return second;
  // In a gap no instant has this wall clock: apply the smaller (pre-transition) offset.
  return wallAsUtcMs - Math.min(firstOffset, secondOffset);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Uyuni's input/output form for dateTime.iso8601: `yyyyMMddTHH:mm:ss`, no zone, no fraction. */
export function formatUyuniDateTime(date: Date, timeZone: string): string {
  const w = wallClockAt(date.getTime(), timeZone);
  return `${pad(w.year, 4)}${pad(w.month, 2)}${pad(w.day, 2)}T${pad(w.hour, 2)}:${pad(w.minute, 2)}:${pad(w.second, 2)}`;
}
