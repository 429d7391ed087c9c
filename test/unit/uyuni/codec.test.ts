// Request encoding, date handling and the dateTime pattern.
import xmlrpc from 'xmlrpc';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMethodCall } from '../../../activities/uyuni/encode.js';
import { UyuniProgrammingError, UyuniProtocolError } from '../../../activities/uyuni/errors.js';
import { ISO8601_PATTERN } from '../../../activities/uyuni/iso8601.js';
import { formatUyuniDateTime, wallClockToEpochMs } from '../../../activities/uyuni/time-zone.js';
import { parseUyuniDate } from '../../../activities/uyuni/uyuni-date.js';
import { XMLRPC_PACKAGE_ISO8601 } from '../../../activities/uyuni/xmlrpc-package.js';
import type { XmlRpcParam } from '../../../activities/uyuni/values.js';

const at = (iso: string): Date => new Date(iso);

describe('encodeMethodCall', () => {
  afterEach(() => {
    xmlrpc.dateFormatter.setOpts({});
  });

  it('writes dates in Uyuni compact form, in the configured zone, without suffix', () => {
    const xml = encodeMethodCall('system.scheduleReboot', ['key', 1000010001, at('2024-05-14T22:30:00Z')], 'UTC');
    expect(xml).toContain('<dateTime.iso8601>20240514T22:30:00</dateTime.iso8601>');
    expect(encodeMethodCall('m', [at('2024-05-14T22:30:00Z')], 'Europe/Berlin')).toContain(
      '<dateTime.iso8601>20240515T00:30:00</dateTime.iso8601>',
    );
    expect(encodeMethodCall('m', [at('2024-01-14T22:30:00.999Z')], 'America/New_York')).toContain(
      '<dateTime.iso8601>20240114T17:30:00</dateTime.iso8601>',
    );
  });

  it('is not disturbed by the package-global xmlrpc.dateFormatter', () => {
    xmlrpc.dateFormatter.setOpts({ hyphens: true, colons: false, local: false, ms: true, offset: true });
    const xml = encodeMethodCall('m', [{ when: at('2024-05-14T22:30:00Z') }], 'UTC');
    expect(xml).toContain('<dateTime.iso8601>20240514T22:30:00</dateTime.iso8601>');
  });

  it('encodes ints as <int>, large integers and bigint as <i8>, structs, arrays, base64', () => {
    const xml = encodeMethodCall('m', [[1, -2], 2 ** 40, 12n, 1.5, true, { a: 'x&y' }, Buffer.from('hi')], 'UTC');
    expect(xml).toContain('<int>1</int>');
    expect(xml).toContain('<i8>1099511627776</i8>');
    expect(xml).toContain('<i8>12</i8>');
    expect(xml).toContain('<double>1.5</double>');
    expect(xml).toContain('<boolean>1</boolean>');
    expect(xml).toContain('<base64>aGk=</base64>');
    expect(xml).toContain('<name>a</name>');
    expect(xml).not.toContain('<nil');
  });

  it.each([
    ['null', [null], 'params[0] is null'],
    ['undefined in an array', [[1, undefined]], 'params[0][1] is undefined'],
    ['null in a struct', [{ a: { b: null } }], 'params[0].a.b is null'],
    ['NaN', [NaN], 'params[0] is not a finite number'],
    ['invalid Date', [new Date('x')], 'params[0] is an invalid Date'],
  ])('refuses %s with a programming error naming the position', (_label, params, message) => {
    let thrown: unknown;
    try {
      encodeMethodCall('system.secret', params as unknown as XmlRpcParam[], 'UTC');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UyuniProgrammingError);
    expect((thrown as UyuniProgrammingError).retryable).toBe(false);
    expect((thrown as Error).message.startsWith(`system.secret: ${message}`)).toBe(true);
  });

  it('never puts parameter values into its errors', () => {
    expect(() => encodeMethodCall('auth.login', ['admin', 'hunter2', null as unknown as XmlRpcParam], 'UTC')).toThrow(
      /^auth\.login: params\[2\] is null/,
    );
    try {
      encodeMethodCall('auth.login', ['admin', 'hunter2', null as unknown as XmlRpcParam], 'UTC');
    } catch (error) {
      expect(JSON.stringify(error) + String(error)).not.toContain('hunter2');
    }
  });
});

describe('dateTime pattern', () => {
  it("is the package's pattern with the fraction separator escaped", () => {
    expect(XMLRPC_PACKAGE_ISO8601.source.replace('(.([0-9]+))', '(\\.([0-9]+))')).toBe(ISO8601_PATTERN.source);
  });
});

describe('time zones', () => {
  it('formats in the zone', () => {
    expect(formatUyuniDateTime(at('2024-03-31T00:59:59Z'), 'Europe/Berlin')).toBe('20240331T01:59:59');
    expect(formatUyuniDateTime(at('2024-03-31T01:00:00Z'), 'Europe/Berlin')).toBe('20240331T03:00:00');
  });

  it('maps wall clocks to instants across DST', () => {
    const wall = (iso: string) => Date.parse(`${iso}Z`);
    expect(new Date(wallClockToEpochMs(wall('2024-07-01T12:00:00'), 'Europe/Berlin')).toISOString()).toBe('2024-07-01T10:00:00.000Z');
    expect(new Date(wallClockToEpochMs(wall('2024-12-01T12:00:00'), 'Europe/Berlin')).toISOString()).toBe('2024-12-01T11:00:00.000Z');
    // 02:30 doesn't exist on 2024-03-31 in Berlin: moves forward to 03:30 CEST.
    expect(new Date(wallClockToEpochMs(wall('2024-03-31T02:30:00'), 'Europe/Berlin')).toISOString()).toBe('2024-03-31T01:30:00.000Z');
    // 02:30 happens twice on 2024-10-27: either instant is acceptable.
    expect(['2024-10-27T00:30:00.000Z', '2024-10-27T01:30:00.000Z']).toContain(
      new Date(wallClockToEpochMs(wall('2024-10-27T02:30:00'), 'Europe/Berlin')).toISOString(),
    );
  });
});

describe('parseUyuniDate', () => {
  const now = at('2024-06-01T00:00:00Z');

  it.each([
    ['dateTime Date', at('2024-05-14T10:23:45Z'), 'UTC', '2024-05-14T10:23:45.000Z'],
    ['ISO with Z', '2024-05-14T22:00:00Z', 'Europe/Berlin', '2024-05-14T22:00:00.000Z'],
    ['ISO with offset', '2024-05-14T22:00:00+02:00', 'UTC', '2024-05-14T20:00:00.000Z'],
    ['ISO without zone', '2024-05-14T22:00:00', 'Europe/Berlin', '2024-05-14T20:00:00.000Z'],
    ['compact', '20240514T22:00:00', 'UTC', '2024-05-14T22:00:00.000Z'],
    ['yyyy-MM-dd', '2024-05-12', 'UTC', '2024-05-12T00:00:00.000Z'],
    ['yyyy-MM-dd in zone', '2024-05-12', 'Asia/Tokyo', '2024-05-11T15:00:00.000Z'],
    ['M/d/yy', '5/14/24', 'UTC', '2024-05-14T00:00:00.000Z'],
    ['M/d/yy old century', '12/31/99', 'UTC', '1999-12-31T00:00:00.000Z'],
    ['MM/dd/yyyy', '05/14/2024', 'UTC', '2024-05-14T00:00:00.000Z'],
    ['short date time PM', '5/12/24 9:01 PM', 'UTC', '2024-05-12T21:01:00.000Z'],
    ['short date time 12 AM', '5/12/24, 12:05 AM', 'UTC', '2024-05-12T00:05:00.000Z'],
    ['Timestamp', '2024-05-12 09:01:02.0', 'UTC', '2024-05-12T09:01:02.000Z'],
    ['Timestamp millis', '2024-05-12 09:01:02.123', 'America/New_York', '2024-05-12T13:01:02.123Z'],
    ['padded', '  2024-05-12  ', 'UTC', '2024-05-12T00:00:00.000Z'],
  ] as const)('%s', (_label, input, zone, expected) => {
    expect(parseUyuniDate(input, zone, now)?.toISOString()).toBe(expected);
  });

  it.each([null, undefined, '', '   '])('%j → null', (input) => {
    expect(parseUyuniDate(input)).toBeNull();
  });

  it.each(['yesterday', '2024-02-30', '13/01/24', '2024-05-12 25:00:00', '5/12/24 13:00 PM', 42])('rejects %j', (input) => {
    expect(() => parseUyuniDate(input)).toThrow(UyuniProtocolError);
  });
});
