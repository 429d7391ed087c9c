import { describe, expect, it } from 'vitest';
import { inWindow, MaintenanceCalendarError, nextWindow } from '../../../domain/maintenance-calendar.js';
import { batchesByWindow, earliestFor, type NextWindow } from '../../../domain/maintenance-plan.js';
import { HOUR_MS, icalOf, windowOpenAt, type WindowSpec } from '../../../lab/fleet/maintenance.js';

const cal = (...events: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...events, 'END:VCALENDAR'].join('\r\n');
const ev = (uid: string, props: string[]) => ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20261201T000000Z', ...props, 'END:VEVENT'].join('\r\n');
const single = { type: 'single' as const, scheduleName: 'nightly' };
const at = (iso: string) => new Date(iso);

describe('maintenance calendars (iCal) → the next window', () => {
  const nightly = cal(ev('n', ['DTSTART:20261201T020000Z', 'DTEND:20261201T040000Z', 'SUMMARY:nightly', 'RRULE:FREQ=DAILY']));

  it('a nightly RRULE: the next night after a time, the current one inside it, none before the first', () => {
    expect(nextWindow(nightly, at('2026-12-07T14:00:00Z'), single)).toEqual({ start: at('2026-12-08T02:00:00Z'), end: at('2026-12-08T04:00:00Z') });
    // inside a window: that window, with its real start
    expect(nextWindow(nightly, at('2026-12-07T03:00:00Z'), single)).toEqual({ start: at('2026-12-07T02:00:00Z'), end: at('2026-12-07T04:00:00Z') });
    // the end is exclusive
    expect(nextWindow(nightly, at('2026-12-07T04:00:00Z'), single)?.start).toEqual(at('2026-12-08T02:00:00Z'));
    expect(nextWindow(nightly, at('2026-11-01T00:00:00Z'), single)?.start).toEqual(at('2026-12-01T02:00:00Z'));
    expect(inWindow(nightly, at('2026-12-07T03:59:59Z'), single)).toBe(true);
    expect(inWindow(nightly, at('2026-12-07T04:00:00Z'), single)).toBe(false);
  });

  it('EXDATE skips a night; a RECURRENCE-ID exception moves one; COUNT ends the series', () => {
    const c = cal(
      ev('n', ['DTSTART:20261201T020000Z', 'DTEND:20261201T040000Z', 'SUMMARY:nightly', 'RRULE:FREQ=DAILY;COUNT=10', 'EXDATE:20261208T020000Z']),
      ev('n', ['RECURRENCE-ID:20261209T020000Z', 'DTSTART:20261209T060000Z', 'DTEND:20261209T070000Z', 'SUMMARY:nightly']),
    );
    expect(nextWindow(c, at('2026-12-07T14:00:00Z'), single)).toEqual({ start: at('2026-12-09T06:00:00Z'), end: at('2026-12-09T07:00:00Z') });
    expect(nextWindow(c, at('2026-12-09T08:00:00Z'), single)?.start).toEqual(at('2026-12-10T02:00:00Z'));
    expect(nextWindow(c, at('2026-12-10T05:00:00Z'), single)).toBeNull(); // COUNT=10: 1–10 December, the 8th excluded
  });

  it('a multi schedule takes only the events whose SUMMARY is its name; single takes every event', () => {
    const c = cal(
      ev('a', ['DTSTART:20261208T010000Z', 'DTEND:20261208T020000Z', 'SUMMARY:web']),
      ev('b', ['DTSTART:20261208T030000Z', 'DTEND:20261208T050000Z', 'SUMMARY:db']),
    );
    expect(nextWindow(c, at('2026-12-07T00:00:00Z'), { type: 'multi', scheduleName: 'db' })?.start).toEqual(at('2026-12-08T03:00:00Z'));
    expect(nextWindow(c, at('2026-12-07T00:00:00Z'), { type: 'multi', scheduleName: 'web' })?.start).toEqual(at('2026-12-08T01:00:00Z'));
    expect(nextWindow(c, at('2026-12-07T00:00:00Z'), { type: 'multi', scheduleName: 'mail' })).toBeNull();
    expect(nextWindow(c, at('2026-12-07T00:00:00Z'), single)?.start).toEqual(at('2026-12-08T01:00:00Z'));
  });

  it('a TZID with its VTIMEZONE: 02:00 Europe/Berlin is 01:00 UTC in winter', () => {
    const c = cal(
      ['BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
        'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT', 'END:VTIMEZONE'].join('\r\n'),
      ev('b', ['DTSTART;TZID=Europe/Berlin:20261201T020000', 'DTEND;TZID=Europe/Berlin:20261201T030000', 'SUMMARY:nightly', 'RRULE:FREQ=DAILY']),
    );
    expect(nextWindow(c, at('2026-12-07T12:00:00Z'), single)?.start).toEqual(at('2026-12-08T01:00:00Z'));
  });

  it('text that is not iCal is an error naming why, never "no window"', () => {
    expect(() => nextWindow('hello', at('2026-12-07T00:00:00Z'), single)).toThrow(MaintenanceCalendarError);
  });

  it('the lab calendars (lab hours as FREQ=SECONDLY) expand to the windows the lab itself enforces', () => {
    const now = Date.parse('2026-12-07T14:00:00Z');
    const labHour = 2_000;
    const specs: WindowSpec[] = [
      { startMs: now + 2 * labHour, durationMs: 2 * labHour, everyMs: 24 * labHour },
      { startMs: now - 23 * HOUR_MS, durationMs: 6 * HOUR_MS, everyMs: 24 * HOUR_MS },
      { startMs: now + 5_000, durationMs: 1_000, everyMs: null },
    ];
    for (const spec of specs) {
      const ical = icalOf('c', 'lab', [spec], now);
      for (let t = now; t < now + 60 * labHour; t += 777) {
        expect(inWindow(ical, new Date(t), single), `${JSON.stringify(spec)} at +${t - now} ms`).toBe(windowOpenAt(spec, t));
      }
    }
  });
});

describe('planning with windows', () => {
  const now = Date.parse('2026-12-07T14:00:00Z');
  const w = (start: string, end: string): NextWindow => ({ schedule: 'nightly', start, end });

  it('earliestFor: no schedule or open now → now; later → its start; no window → never, with the reason', () => {
    expect(earliestFor(null, now)).toEqual({ atMs: now, waitMs: 0, window: null });
    expect(earliestFor(w('2026-12-07T13:00:00Z', '2026-12-07T15:00:00Z'), now)).toMatchObject({ atMs: now, waitMs: 0 });
    expect(earliestFor(w('2026-12-08T02:00:00Z', '2026-12-08T04:00:00Z'), now)).toMatchObject({ atMs: Date.parse('2026-12-08T02:00:00Z'), waitMs: 12 * HOUR_MS });
    expect(earliestFor({ schedule: 'x', start: null, end: null, reason: 'no window' }, now)).toEqual({ never: 'maintenance schedule x: no window' });
    expect(earliestFor(w('2026-12-07T10:00:00Z', '2026-12-07T12:00:00Z'), now)).toHaveProperty('never');
  });

  it('batchesByWindow groups systems by the start of their next window, earliest first', () => {
    const windows: Record<string, NextWindow> = {
      1: null,
      2: w('2026-12-08T02:00:00Z', '2026-12-08T04:00:00Z'),
      3: w('2026-12-07T13:00:00Z', '2026-12-07T15:00:00Z'),
      4: w('2026-12-08T02:00:00Z', '2026-12-08T03:00:00Z'),
      5: { schedule: 'empty', start: null, end: null, reason: 'the schedule has no calendar' },
    };
    const plan = batchesByWindow([4, 3, 2, 1, 5, 6], windows, now);
    expect(plan.batches).toEqual([
      { earliest: '2026-12-07T14:00:00.000Z', windowEnd: '2026-12-07T15:00:00.000Z', systemIds: [1, 3, 6] },
      { earliest: '2026-12-08T02:00:00.000Z', windowEnd: '2026-12-08T03:00:00.000Z', systemIds: [2, 4] },
    ]);
    expect(plan.unschedulable).toEqual([{ systemId: 5, reason: 'maintenance schedule empty: the schedule has no calendar' }]);
  });
});
