// Planning with UYUNI maintenance windows (issue 15), from the windows the `nextMaintenanceWindows` activity
// returns. Pure and workflow-safe (no ical.js, no clock: `nowMs` is the workflow's Date.now()). UYUNI only
// checks an action's `earliest` against the window, not its duration (uyuni-api.md §3.8), so an action whose
// earliest is inside a window is accepted and runs then.

/** A system's next maintenance window: ISO-8601 UTC bounds, [start, end); the schedule that gives it. */
export interface OpenWindow {
  schedule: string;
  start: string;
  end: string;
}
/** The system has a schedule but its calendar has no window within the horizon (or cannot be read). */
export interface NoWindow {
  schedule: string;
  start: null;
  end: null;
  reason: string;
}
/** null: no schedule assigned — UYUNI accepts the action at any time. */
export type NextWindow = OpenWindow | NoWindow | null;

/** When an action on the system may start: now (no schedule, or inside its window), at its window's start, or never. */
export type Earliest = { atMs: number; waitMs: number; window: OpenWindow | null } | { never: string };

export function earliestFor(window: NextWindow, nowMs: number): Earliest {
  if (window === null) return { atMs: nowMs, waitMs: 0, window: null };
  if (window.start === null) return { never: `maintenance schedule ${window.schedule}: ${window.reason}` };
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  if (end <= nowMs) return { never: `maintenance schedule ${window.schedule}: its window ${window.start} – ${window.end} is over and no later one was given` };
  return start <= nowMs ? { atMs: nowMs, waitMs: 0, window } : { atMs: start, waitMs: start - nowMs, window };
}

/**
 * The start time a rollout batches the system by (domain/wave-plan.ts PlanSystem.notBeforeMs): undefined when it
 * may be patched at `nowMs` (no schedule, or its window is open), its next window's start (epoch ms) when that
 * is later, null when it has no window at all (earliestFor's `never`).
 */
export function notBeforeOf(window: NextWindow, nowMs: number): number | null | undefined {
  const e = earliestFor(window, nowMs);
  if ('never' in e) return null;
  return e.waitMs > 0 ? e.atMs : undefined;
}

export interface WindowBatch {
  /** ISO-8601 UTC: the `earliest` to pass to system.scheduleApplyErrata for these systems. */
  earliest: string;
  /** The window's end (null for systems with no schedule): an action not started by then needs a new window. */
  windowEnd: string | null;
  systemIds: number[];
}

/**
 * The rollout's batches by maintenance window: systems whose action may start at the same time (no schedule or
 * open now → now; otherwise the start of their next window) share one batch, earliest first, system ids sorted.
 * Systems whose schedule has no window are returned apart with the reason (never scheduled, never "failed").
 * `windows` is keyed by system id (as the activity returns it: JSON object keys are strings).
 */
export function batchesByWindow(
  systemIds: readonly number[],
  windows: Readonly<Record<string, NextWindow | undefined>>,
  nowMs: number,
): { batches: WindowBatch[]; unschedulable: { systemId: number; reason: string }[] } {
  const byStart = new Map<number, { end: number | null; systemIds: number[] }>();
  const unschedulable: { systemId: number; reason: string }[] = [];
  for (const id of [...new Set(systemIds)].sort((a, b) => a - b)) {
    const e = earliestFor(windows[String(id)] ?? null, nowMs);
    if ('never' in e) {
      unschedulable.push({ systemId: id, reason: e.never });
      continue;
    }
    const end = e.window ? Date.parse(e.window.end) : null;
    const batch = byStart.get(e.atMs);
    if (batch) {
      batch.systemIds.push(id);
      // The batch must start before every member's window closes.
      if (end !== null) batch.end = batch.end === null ? end : Math.min(batch.end, end);
    } else {
      byStart.set(e.atMs, { end, systemIds: [id] });
    }
  }
  const batches = [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([at, b]) => ({ earliest: new Date(at).toISOString(), windowEnd: b.end === null ? null : new Date(b.end).toISOString(), systemIds: b.systemIds }));
  return { batches, unschedulable };
}
