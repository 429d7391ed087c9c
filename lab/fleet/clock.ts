/** A clock tests can move by hand, so action progress and session expiry need no sleeping. */
export interface ManualClock {
  (): number;
  advance(ms: number): number;
  set(ms: number): void;
}

export function manualClock(startMs = Date.UTC(2025, 6, 1, 8, 0, 0)): ManualClock {
  let now = startMs;
  const clock = (() => now) as ManualClock;
  clock.advance = (ms) => (now += ms);
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}
