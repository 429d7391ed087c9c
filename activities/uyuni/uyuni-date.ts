// Uyuni's date-like fields come in five shapes depending on the method and the server version
// (reference §3): real dateTime.iso8601 values (already Dates), ISO-ish strings, `yyyy-MM-dd`,
// locale short dates (`M/d/yy`, en_US) and java.sql.Timestamp text (`2024-05-12 09:01:02.0`).
// Everything without an explicit zone is wall-clock time in the server's zone.
import { UyuniProtocolError } from './errors.js';
import { wallClockToEpochMs } from './time-zone.js';

// 20240514T10:23:45 (the dateTime wire form, when it shows up inside a string)
const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
// 2024-05-12, 2024-05-12 09:01:02.0, 2024-05-14T22:00:00Z, 2024-05-14T22:00:00+02:00
const ISO_LIKE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
// 5/14/24, 5/14/2024, 5/14/24 9:01 AM, 5/14/24, 9:01:02 PM
const US_SHORT = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;

function invalid(value: string): UyuniProtocolError {
  return new UyuniProtocolError(`unrecognised date '${value.slice(0, 64)}'`);
}

/** Java's SimpleDateFormat `yy`: the century putting the date within 80 years back / 20 ahead. */
function expandTwoDigitYear(yy: number, now: Date): number {
  const year = 2000 + yy;
  return year > now.getUTCFullYear() + 20 ? year - 100 : year;
}

function offsetMs(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string | undefined;
  zone: string | undefined;
}

function toDate(fields: Fields, raw: string, timeZone: string): Date {
  const { year, month, day, hour, minute, second } = fields;
  const millisecond = fields.fraction === undefined ? 0 : Math.floor(Number(`0.${fields.fraction}`) * 1000);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  const check = new Date(wall);
  // Reject what Date.UTC would silently roll over (Feb 30, 25:00).
  if (
    month < 1 ||
    month > 12 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw invalid(raw);
  }
  const epochMs = fields.zone === undefined ? wallClockToEpochMs(wall, timeZone) : wall - offsetMs(fields.zone);
  return new Date(epochMs);
}

/**
 * Normalizes any Uyuni date representation to an instant (a `Date`, to be read in UTC).
 * Returns null for absent/empty values; throws UyuniProtocolError for text in no known shape.
 * `timeZone` is the Uyuni server's zone, used for values without an explicit offset.
 */
export function parseUyuniDate(value: unknown, timeZone = 'UTC', now: Date = new Date()): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid('Invalid Date');
    return new Date(value.getTime());
  }
  if (typeof value !== 'string') throw invalid(String(value));
  const text = value.trim();
  if (text === '') return null;

  let m = COMPACT.exec(text);
  if (m !== null) {
    return toDate(
      {
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        hour: Number(m[4]),
        minute: Number(m[5]),
        second: Number(m[6]),
        fraction: m[7],
        zone: m[8],
      },
      text,
      timeZone,
    );
  }
  m = ISO_LIKE.exec(text);
  if (m !== null) {
    return toDate(
      {
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        hour: Number(m[4] ?? 0),
        minute: Number(m[5] ?? 0),
        second: Number(m[6] ?? 0),
        fraction: m[7],
        zone: m[8],
      },
      text,
      timeZone,
    );
  }
  m = US_SHORT.exec(text);
  if (m !== null) {
    const rawYear = m[3] ?? '';
    let hour = Number(m[4] ?? 0);
    const meridiem = m[7]?.toLowerCase();
    if (meridiem !== undefined) {
      if (hour < 1 || hour > 12) throw invalid(text);
      hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
    }
    return toDate(
      {
        year: rawYear.length === 2 ? expandTwoDigitYear(Number(rawYear), now) : Number(rawYear),
        month: Number(m[1]),
        day: Number(m[2]),
        hour,
        minute: Number(m[5] ?? 0),
        second: Number(m[6] ?? 0),
        fraction: undefined,
        zone: undefined,
      },
      text,
      timeZone,
    );
  }
  throw invalid(text);
}
