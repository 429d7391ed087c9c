import ICAL from 'ical.js';

// UYUNI maintenance windows (uyuni-api.md §3.8): a schedule points at a calendar of iCal (RFC 5545) text; with
// type `single` every event of it is a window, with `multi` only the events whose SUMMARY is the schedule's
// name. UYUNI refuses a maintenance-only action (errata apply) whose `earliest` lies outside every window of a
// target's schedule; a system with no schedule may be patched at any time. This module expands the calendar
// (RRULE, RDATE, EXDATE and RECURRENCE-ID exceptions, by ical.js) into the next window after a time. Pure: no
// I/O, no clock (the caller passes `after`). Not for workflow code (ical.js is not bundled there): activities
// expand, workflows get {start, end} ISO strings.

/** One maintenance window, [start, end). */
export interface MaintenanceWindow {
  start: Date;
  end: Date;
}

export interface ExpandOptions {
  /** `single`: every event is a window; `multi`: only events whose SUMMARY equals `scheduleName`. */
  type: 'single' | 'multi';
  scheduleName: string;
  /** How far past `after` to look (days). Default 400: a yearly window is still found. */
  horizonDays?: number;
  /** Occurrences examined per event at most (a guard against a FREQ=SECONDLY calendar). Default 200,000. */
  maxOccurrences?: number;
}

/** The calendar could not be read: the text names why (never a silent "no window"). */
export class MaintenanceCalendarError extends Error {
  override name = 'MaintenanceCalendarError';
}

const DAY_MS = 86_400_000;

function parseCalendar(ical: string): ICAL.Component {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(ical);
  } catch (err) {
    throw new MaintenanceCalendarError(`the iCal text cannot be parsed: ${(err as Error).message}`);
  }
  const root = new ICAL.Component(jcal as never);
  if (root.name !== 'vcalendar') throw new MaintenanceCalendarError(`the iCal text holds a ${root.name}, not a VCALENDAR`);
  // TZID references resolve through ical.js's timezone registry: register the calendar's own definitions.
  for (const tz of root.getAllSubcomponents('vtimezone')) {
    const id = tz.getFirstPropertyValue('tzid');
    if (typeof id === 'string' && !ICAL.TimezoneService.has(id)) ICAL.TimezoneService.register(tz);
  }
  return root;
}

/**
 * The window in progress at `after` (its real start, which may be before `after`) or else the first one starting
 * after it, within the horizon; null when the calendar has none there. Throws MaintenanceCalendarError for text
 * that is not iCal.
 */
export function nextWindow(ical: string, after: Date, opts: ExpandOptions): MaintenanceWindow | null {
  const root = parseCalendar(ical);
  const from = after.getTime();
  const until = from + (opts.horizonDays ?? 400) * DAY_MS;
  const cap = opts.maxOccurrences ?? 200_000;
  const vevents = root.getAllSubcomponents('vevent');
  let best: MaintenanceWindow | null = null;
  const consider = (start: number, end: number) => {
    if (end <= from || start >= until || end <= start) return;
    if (!best || start < best.start.getTime()) best = { start: new Date(start), end: new Date(end) };
  };
  // Masters carry the rule; components with RECURRENCE-ID are exceptions ical.js relates to their master.
  const masters = vevents.filter((v) => !v.hasProperty('recurrence-id'));
  for (const v of masters) {
    const event = new ICAL.Event(v, { exceptions: vevents.filter((x) => x !== v && x.hasProperty('recurrence-id') && x.getFirstPropertyValue('uid') === v.getFirstPropertyValue('uid')) });
    const summaryOk = (summary: string) => opts.type === 'single' || summary.trim() === opts.scheduleName;
    if (!event.startDate) continue;
    if (!event.isRecurring()) {
      if (summaryOk(event.summary ?? '')) consider(event.startDate.toJSDate().getTime(), event.endDate.toJSDate().getTime());
      continue;
    }
    const it = event.iterator();
    for (let n = 0; n < cap; n++) {
      const next = it.next();
      if (!next) break;
      const details = event.getOccurrenceDetails(next);
      const start = details.startDate.toJSDate().getTime();
      if (start >= until) break;
      if (best && start >= (best as MaintenanceWindow).start.getTime()) break;
      if (summaryOk(details.item.summary ?? '')) consider(start, details.endDate.toJSDate().getTime());
    }
  }
  return best;
}

/** Whether `at` lies inside a window of the calendar (what UYUNI checks of an action's `earliest`). */
export function inWindow(ical: string, at: Date, opts: ExpandOptions): boolean {
  const w = nextWindow(ical, at, opts);
  return w !== null && w.start.getTime() <= at.getTime() && at.getTime() < w.end.getTime();
}
