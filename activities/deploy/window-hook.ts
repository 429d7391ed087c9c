import { earliestFor } from '../../domain/maintenance-plan.js';
import { nextMaintenanceWindows, type MaintenanceDeps } from '../maintenance/maintenance-activities.js';

// When a batch of a rollout may start (issue 15, UYUNI maintenance windows), for waves started before
// patched('deploy-batches-by-window'): the wave workflow sleeps durably until then (a workflow timer) and schedules
// the batch's UYUNI action with that `earliest`. Newer waves cut their batches by window instead (waveBatches
// byWindow, deployBatchSchedule reschedule): no wait cap, a 1334 moves the system to its next window.

export interface BatchEarliestInput {
  systemIds: number[];
  /** How long the batch waits for a window that is not open yet (default 60 s); later windows do not hold it. */
  maxWaitSeconds?: number;
}

export function createWindowHookActivities(deps: MaintenanceDeps) {
  return {
    /**
     * The earliest time the batch may be patched (ISO 8601): now when no system of it has a maintenance
     * schedule or every window is open; else the latest start among the windows that open within
     * `maxWaitSeconds`, so each of those systems is inside its window. A system whose window opens later is
     * refused by UYUNI (fault 1334) at that time and skipped with when its window opens, never failed.
     */
    async batchEarliest(input: BatchEarliestInput): Promise<{ earliest: string }> {
      const now = Date.now();
      const maxWaitMs = (input.maxWaitSeconds ?? 60) * 1000;
      const windows = await nextMaintenanceWindows(deps, input.systemIds, new Date(now));
      let earliest = now;
      for (const id of input.systemIds) {
        const e = earliestFor(windows[String(id)] ?? null, now);
        if (!('never' in e) && e.waitMs <= maxWaitMs) earliest = Math.max(earliest, e.atMs);
      }
      // UYUNI's dates have whole seconds (XML-RPC dateTime.iso8601): rounded up, so a window's start is not
      // truncated to the second before it opens (outside the window: fault 1334).
      return { earliest: new Date(earliest === now ? now : Math.ceil(earliest / 1000) * 1000).toISOString() };
    },
  };
}
