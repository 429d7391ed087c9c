// The claiming rhythm of the batch delivery (activities/notify: notifyDeliver). It claims due deliveries only
// into free slots of the endpoint's max_concurrency (each claimed one gets its `sending` attempt row at once,
// so nothing waits claimed-but-unsent), and not after every finished attempt: a claim is two statements,
// so it waits until a quarter of the slots are free, and after a claim found nothing due it pauses a little.

/** After a claim found nothing due while attempts were still sending: ms before the next claim. */
export const EMPTY_CLAIM_PAUSE_MS = 100;

export interface ClaimState {
  /** The endpoint's max_concurrency (≥ 1). */
  concurrency: number;
  /** Attempts of this run sending now. */
  sending: number;
  /** ms since the last claim that found nothing due (Infinity: none did). */
  msSinceEmptyClaim: number;
}

/**
 * How many deliveries to claim now: 0 (not now), else every free slot. With nothing sending it always claims
 * (a run with nothing sending and nothing due ends); otherwise only once at least ⌈concurrency / 4⌉ slots are
 * free and no empty claim happened within EMPTY_CLAIM_PAUSE_MS.
 */
export function deliveriesToClaim(s: ClaimState): number {
  const free = s.concurrency - s.sending;
  if (free <= 0) return 0;
  if (s.sending === 0) return free;
  if (free < Math.ceil(s.concurrency / 4)) return 0;
  if (s.msSinceEmptyClaim < EMPTY_CLAIM_PAUSE_MS) return 0;
  return free;
}
