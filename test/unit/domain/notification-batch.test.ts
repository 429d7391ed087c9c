import { describe, expect, it } from 'vitest';
import { deliveriesToClaim, EMPTY_CLAIM_PAUSE_MS } from '../../../domain/notification-batch.js';

describe('deliveriesToClaim (the batch delivery claiming rhythm)', () => {
  it('with nothing sending claims every slot, even right after an empty claim', () => {
    expect(deliveriesToClaim({ concurrency: 32, sending: 0, msSinceEmptyClaim: Infinity })).toBe(32);
    expect(deliveriesToClaim({ concurrency: 32, sending: 0, msSinceEmptyClaim: 0 })).toBe(32);
    expect(deliveriesToClaim({ concurrency: 1, sending: 0, msSinceEmptyClaim: 0 })).toBe(1);
  });

  it('never claims beyond the bound', () => {
    expect(deliveriesToClaim({ concurrency: 32, sending: 32, msSinceEmptyClaim: Infinity })).toBe(0);
    expect(deliveriesToClaim({ concurrency: 4, sending: 6, msSinceEmptyClaim: Infinity })).toBe(0); // lowered while sending
    expect(deliveriesToClaim({ concurrency: 1, sending: 1, msSinceEmptyClaim: Infinity })).toBe(0);
  });

  it('waits for a quarter of the slots to be free, then fills them all', () => {
    expect(deliveriesToClaim({ concurrency: 32, sending: 25, msSinceEmptyClaim: Infinity })).toBe(0); // 7 free < 8
    expect(deliveriesToClaim({ concurrency: 32, sending: 24, msSinceEmptyClaim: Infinity })).toBe(8);
    expect(deliveriesToClaim({ concurrency: 32, sending: 1, msSinceEmptyClaim: Infinity })).toBe(31);
    expect(deliveriesToClaim({ concurrency: 3, sending: 2, msSinceEmptyClaim: Infinity })).toBe(1); // ⌈3/4⌉ = 1
  });

  it('pauses after a claim that found nothing due while attempts are sending', () => {
    expect(deliveriesToClaim({ concurrency: 32, sending: 4, msSinceEmptyClaim: EMPTY_CLAIM_PAUSE_MS - 1 })).toBe(0);
    expect(deliveriesToClaim({ concurrency: 32, sending: 4, msSinceEmptyClaim: EMPTY_CLAIM_PAUSE_MS })).toBe(28);
  });
});
