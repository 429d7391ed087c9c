import type { LimitFunction } from 'p-limit';
import { MaintenanceCalendarError, nextWindow } from '../../domain/maintenance-calendar.js';
import type { NextWindow } from '../../domain/maintenance-plan.js';
import type { UyuniClient } from '../uyuni/client.js';
import { UyuniNotFoundError } from '../uyuni/errors.js';
import { toApplicationFailure } from '../uyuni/failure.js';
import type { MaintenanceCalendar } from '../uyuni/types.js';

// UYUNI maintenance windows for the test engine and the rollout (issue 15). UYUNI has no "schedule of system X"
// call: the schedules are listed, and each one's systems (maintenance.listSystemsWithSchedule) give the inverse
// (uyuni-api.md §3.8). A system has at most one schedule. Calendars are read once per call.

export interface MaintenanceDeps {
  uyuni: UyuniClient;
  uyuniLimit: LimitFunction;
}

/**
 * Per system: its schedule's next window after `after` (in progress at `after`, or the first one starting
 * later), {schedule, start: null, reason} when the schedule has no window within the horizon or its calendar
 * cannot be read, or null when the system has no schedule (any time). Pure UYUNI reads, safe to retry.
 */
export async function nextMaintenanceWindows(deps: MaintenanceDeps, systemIds: readonly number[], after: Date): Promise<Record<string, NextWindow>> {
  const { uyuni, uyuniLimit } = deps;
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await uyuniLimit(fn);
    } catch (err) {
      throw toApplicationFailure(err);
    }
  };
  const wanted = new Set(systemIds);
  const result: Record<string, NextWindow> = Object.fromEntries([...wanted].map((id) => [String(id), null]));
  if (wanted.size === 0) return result;
  const names = await call(() => uyuni.listScheduleNames());
  const schedules = await Promise.all(
    names.map(async (name) => {
      const [details, systems] = await Promise.all([call(() => uyuni.getScheduleDetails(name)), call(() => uyuni.listSystemsWithSchedule(name))]);
      return { details, systems: systems.filter((id) => wanted.has(id)) };
    }),
  );
  const calendars = new Map<string, Promise<MaintenanceCalendar | null>>();
  const calendar = (label: string) => {
    let c = calendars.get(label);
    if (!c) {
      c = uyuniLimit(() => uyuni.getCalendarDetails(label)).catch((err: unknown) => {
        if (err instanceof UyuniNotFoundError) return null;
        throw toApplicationFailure(err);
      });
      calendars.set(label, c);
    }
    return c;
  };
  for (const { details, systems } of schedules) {
    if (systems.length === 0) continue;
    let window: NextWindow;
    if (details.calendar === null) {
      window = { schedule: details.name, start: null, end: null, reason: 'the schedule has no calendar, so it has no maintenance window' };
    } else {
      const cal = await calendar(details.calendar);
      if (!cal) {
        window = { schedule: details.name, start: null, end: null, reason: `its calendar ${details.calendar} was not found` };
      } else {
        try {
          const w = nextWindow(cal.ical, after, { type: details.type, scheduleName: details.name });
          window = w
            ? { schedule: details.name, start: w.start.toISOString(), end: w.end.toISOString() }
            : { schedule: details.name, start: null, end: null, reason: `calendar ${cal.label} has no window in the next 400 days` };
        } catch (err) {
          if (!(err instanceof MaintenanceCalendarError)) throw err;
          window = { schedule: details.name, start: null, end: null, reason: `calendar ${cal.label}: ${err.message}` };
        }
      }
    }
    for (const id of systems) result[String(id)] = window;
  }
  return result;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  return {
    /**
     * The next maintenance window of each system (see nextMaintenanceWindows); `after` is ISO-8601. Keyed by
     * system id. What the test engine waits for and what the rollout groups batches by (domain/maintenance-plan.ts).
     */
    async nextMaintenanceWindows(input: { systemIds: number[]; after: string }): Promise<Record<string, NextWindow>> {
      return nextMaintenanceWindows(deps, input.systemIds, new Date(input.after));
    },
  };
}
