// The maintenance-window call site (issue 15, UYUNI maintenance windows, built on branch h15r). Every batch of
// a rollout asks when it may start; the wave workflow sleeps durably until then (a workflow timer) before it
// schedules the batch's UYUNI action with that `earliest`. This stub answers "now"; the integrator replaces
// this file with the real `batchEarliest`.

export interface BatchEarliestInput {
  systemIds: number[];
}

export function createWindowHookActivities() {
  return {
    /** STUB: the earliest time the batch may be patched, ISO 8601 — now (no windows known). */
    async batchEarliest(_input: BatchEarliestInput): Promise<{ earliest: string }> {
      return { earliest: new Date().toISOString() };
    },
  };
}
