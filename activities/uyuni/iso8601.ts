// Decoding of <dateTime.iso8601> text, shared by both decoders so they agree by construction.
// It reproduces the xmlrpc package's DateFormatter#decodeIso8601 (same pattern, same string it
// builds for Date parsing) with two deliberate changes:
// - a zone-less value is read as wall-clock time in the configured Uyuni zone instead of the
//   process's local zone;
// - the fraction separator is escaped. The package wrote '\.' inside a string literal, which
//   became a bare `.`: `10:23:45+02:00` then matches "+02" as a fraction (20 ms) and drops the
//   offset. Uyuni never sends offsets, but a decoder shouldn't be wrong about them.
import { wallClockToEpochMs } from './time-zone.js';

/** The package's DateFormatter.ISO8601 with the fraction's `.` escaped (a test pins the rest to it). */
export const ISO8601_PATTERN =
  /([0-9]{4})([-]?([0-9]{2}))([-]?([0-9]{2}))(T([0-9]{2})(((:?([0-9]{2}))?((:?([0-9]{2}))?(\.([0-9]+))?))?)(Z|([+-]([0-9]{2}(:?([0-9]{2}))?)))?)?/;

/** Thrown for text the package would also refuse; decoders turn it into a UyuniProtocolError. */
export class InvalidDateTimeError extends Error {}

export function decodeIso8601(text: string, timeZone: string): Date {
  const parts = ISO8601_PATTERN.exec(text);
  if (parts === null) throw new InvalidDateTimeError(`Expected a ISO8601 datetime but got '${text}'`);
  const wall =
    `${parts[1]}-${parts[3] || '01'}-${parts[5] || '01'}` +
    `T${parts[7] || '00'}:${parts[11] || '00'}:${parts[14] || '00'}.${parts[16] || '000'}`;
  const zone = parts[17];
  const epochMs =
    zone === undefined
      ? wallClockToEpochMs(Date.parse(`${wall}Z`), timeZone)
      : Date.parse(wall + zone + (parts[19] && parts[20] === undefined ? '00' : ''));
  // The package would hand back an Invalid Date (e.g. month 13); no caller can use one.
  if (Number.isNaN(epochMs)) throw new InvalidDateTimeError(`Invalid ISO8601 datetime '${text}'`);
  return new Date(epochMs);
}

const ZERO = 48;

function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Fast path for Uyuni's exact form `yyyyMMddTHH:mm:ss`; anything else (or an out-of-range field,
 * which Date parsing rolls over) goes through decodeIso8601, so results are identical.
 */
export function decodeUyuniDateTime(text: string, timeZone: string): Date {
  if (
    text.length === 17 &&
    text.charCodeAt(8) === 84 /* T */ &&
    text.charCodeAt(11) === 58 /* : */ &&
    text.charCodeAt(14) === 58
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 4, 2);
    const day = digitsAt(text, 6, 2);
    const hour = digitsAt(text, 9, 2);
    const minute = digitsAt(text, 12, 2);
    const second = digitsAt(text, 15, 2);
    if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59) {
      const wall = Date.UTC(year, month - 1, day, hour, minute, second);
      // Date.UTC rolls Feb 31 over to March (and so does Date parsing); let the slow path do it.
      if (new Date(wall).getUTCDate() === day && year >= 100) return new Date(wallClockToEpochMs(wall, timeZone));
    }
  }
  return decodeIso8601(text, timeZone);
}
