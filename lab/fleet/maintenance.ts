/**
 * The lab's UYUNI maintenance windows (issue 15; uyuni-api.md §3.8): calendars of iCal text, schedules
 * (`single` / `multi`) pointing at them, at most one schedule per system. A system with a schedule refuses an
 * errata action whose `earliest` is outside its windows (fault 1334, NotInMaintenanceModeException). Each
 * window is kept as numbers (start, duration, period) and the iCal text is generated from them, so the lab's
 * own check does not use the orchestrator's iCal expansion it is there to test.
 *
 * Lab time: `labHourMs` (default a real hour) shortens hours for tests — a "nightly" window every 24 lab hours
 * becomes an RRULE FREQ=SECONDLY;INTERVAL=<24 lab hours in seconds> (a real hour keeps FREQ=DAILY).
 */

export interface WindowSpec {
  /** Epoch ms of the first window's start. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Period between window starts; null = one window only. */
  readonly everyMs: number | null;
}

export interface LabCalendar {
  readonly id: number;
  readonly label: string;
  readonly ical: string;
  readonly windows: readonly WindowSpec[];
}

export interface LabSchedule {
  readonly id: number;
  readonly name: string;
  readonly type: 'single' | 'multi';
  readonly calendar: string | null;
}

export const HOUR_MS = 3_600_000;

const icalTime = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** RFC 5545 text for windows; SUMMARY = the schedule's name (what a `multi` schedule selects by). */
export function icalOf(label: string, summary: string, windows: readonly WindowSpec[], stampMs: number): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//SPM Orchestrator lab//maintenance//EN', 'CALSCALE:GREGORIAN'];
  windows.forEach((w, i) => {
    lines.push('BEGIN:VEVENT', `UID:${label}-${i}@lab.spm`, `DTSTAMP:${icalTime(stampMs)}`, `DTSTART:${icalTime(w.startMs)}`, `DTEND:${icalTime(w.startMs + w.durationMs)}`, `SUMMARY:${summary}`);
    if (w.everyMs !== null) lines.push(w.everyMs === 24 * HOUR_MS ? 'RRULE:FREQ=DAILY' : `RRULE:FREQ=SECONDLY;INTERVAL=${Math.max(1, Math.round(w.everyMs / 1000))}`);
    lines.push('END:VEVENT');
  });
  lines.push('END:VCALENDAR');
  return `${lines.join('\r\n')}\r\n`;
}

export function windowOpenAt(w: WindowSpec, atMs: number): boolean {
  if (atMs < w.startMs) return false;
  if (w.everyMs === null) return atMs < w.startMs + w.durationMs;
  const every = Math.max(1000, Math.round(w.everyMs / 1000) * 1000);
  return (atMs - w.startMs) % every < w.durationMs;
}

export class LabMaintenance {
  private readonly calendars = new Map<string, LabCalendar>();
  private readonly schedules = new Map<string, LabSchedule>();
  private readonly assigned = new Map<number, string>();
  private nextId = 1;

  constructor(private readonly clock: () => number) {}

  calendarLabels(): string[] {
    return [...this.calendars.keys()].sort();
  }
  calendar(label: string): LabCalendar | undefined {
    return this.calendars.get(label);
  }
  scheduleNames(): string[] {
    return [...this.schedules.keys()].sort();
  }
  schedule(name: string): LabSchedule | undefined {
    return this.schedules.get(name);
  }
  systemsWith(name: string): number[] {
    return [...this.assigned].filter(([, s]) => s === name).map(([id]) => id).sort((a, b) => a - b);
  }
  scheduleOf(systemId: number): LabSchedule | undefined {
    const name = this.assigned.get(systemId);
    return name === undefined ? undefined : this.schedules.get(name);
  }

  /** Creates (or replaces) a calendar and a schedule of the same windows, and assigns the systems to it. */
  define(input: { name: string; type?: 'single' | 'multi'; windows: readonly WindowSpec[]; systemIds: readonly number[] }): { schedule: LabSchedule; calendar: LabCalendar } {
    const label = `${input.name}-calendar`;
    // iCal times have whole seconds: the lab enforces exactly what its calendar text says.
    const sec = (ms: number) => Math.round(ms / 1000) * 1000;
    const windows = input.windows.map((w) => ({ startMs: sec(w.startMs), durationMs: sec(w.durationMs), everyMs: w.everyMs === null ? null : sec(w.everyMs) }));
    const calendar: LabCalendar = { id: this.calendars.get(label)?.id ?? this.nextId++, label, windows, ical: icalOf(label, input.name, windows, this.clock()) };
    this.calendars.set(label, calendar);
    const schedule: LabSchedule = { id: this.schedules.get(input.name)?.id ?? this.nextId++, name: input.name, type: input.type ?? 'single', calendar: label };
    this.schedules.set(input.name, schedule);
    for (const id of input.systemIds) this.assigned.set(id, input.name);
    return { schedule, calendar };
  }

  /** Removes systems from their schedules (maintenance.retractScheduleFromSystems). */
  unassign(systemIds: readonly number[]): void {
    for (const id of systemIds) this.assigned.delete(id);
  }

  clear(): void {
    this.calendars.clear();
    this.schedules.clear();
    this.assigned.clear();
  }

  /**
   * The schedules of these systems that have no window at `atMs` (empty: the action may run then). Like UYUNI,
   * only the earliest time is checked, not the action's duration; a system without a schedule is always in
   * maintenance mode.
   */
  notMatching(systemIds: readonly number[], atMs: number): string[] {
    const names = new Set<string>();
    for (const id of systemIds) {
      const s = this.scheduleOf(id);
      if (!s) continue;
      const cal = s.calendar === null ? undefined : this.calendars.get(s.calendar);
      if (!cal || !cal.windows.some((w) => windowOpenAt(w, atMs))) names.add(s.name);
    }
    return [...names].sort();
  }

  /**
   * The seeded mix (FleetOptions.maintenance 'mixed'): of each OS's production systems, every third has no
   * schedule, every third the `nightly` window (02:00–04:00 UTC), every third `business-now` (a daily 6-hour
   * window that opened an hour before the fleet was built). Test systems keep none.
   */
  seedMixed(prodByOs: readonly (readonly number[])[], nowMs: number): void {
    const day = 24 * HOUR_MS;
    const midnight = Math.floor(nowMs / day) * day;
    const nightly: number[] = [];
    const now: number[] = [];
    for (const ids of prodByOs) ids.forEach((id, i) => (i % 3 === 1 ? nightly : i % 3 === 2 ? now : []).push(id));
    this.define({ name: 'nightly', windows: [{ startMs: midnight - day + 2 * HOUR_MS, durationMs: 2 * HOUR_MS, everyMs: day }], systemIds: nightly });
    this.define({ name: 'business-now', windows: [{ startMs: nowMs - HOUR_MS - day, durationMs: 6 * HOUR_MS, everyMs: day }], systemIds: now });
  }
}
