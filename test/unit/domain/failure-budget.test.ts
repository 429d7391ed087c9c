import { describe, expect, it } from 'vitest';
import { failureBudgetExceeded } from '../../../domain/failure-budget.js';

// Hard-coded boundaries: the budget tolerates exactly its count and its percent, and halts one past either.
describe('failure budget', () => {
  it('tolerates the count itself and halts one past it (percent out of the way)', () => {
    const budget = { count: 2, percent: 100 };
    expect(failureBudgetExceeded(0, 10, budget)).toBe(false);
    expect(failureBudgetExceeded(2, 10, budget)).toBe(false);
    expect(failureBudgetExceeded(3, 10, budget)).toBe(true);
  });

  it('tolerates the percent itself and halts one past it (count out of the way)', () => {
    const budget = { count: 1000, percent: 10 };
    expect(failureBudgetExceeded(2, 20, budget)).toBe(false); // exactly 10 %
    expect(failureBudgetExceeded(3, 20, budget)).toBe(true); // 15 %
    expect(failureBudgetExceeded(1, 9, budget)).toBe(true); // 11.1 %
    expect(failureBudgetExceeded(1, 10, budget)).toBe(false); // 10 %
  });

  it('either limit halts: the percent rule halts a small fleet under the count', () => {
    expect(failureBudgetExceeded(1, 4, { count: 2, percent: 10 })).toBe(true); // 25 % > 10 %, 1 ≤ 2
    expect(failureBudgetExceeded(3, 1000, { count: 2, percent: 10 })).toBe(true); // 0.3 %, 3 > 2
  });

  it('a zero budget halts at the first failure and never without one', () => {
    const zero = { count: 0, percent: 0 };
    expect(failureBudgetExceeded(0, 5, zero)).toBe(false);
    expect(failureBudgetExceeded(1, 5, zero)).toBe(true);
  });

  it('no targets: only the count can halt', () => {
    expect(failureBudgetExceeded(0, 0, { count: 0, percent: 0 })).toBe(false);
    expect(failureBudgetExceeded(1, 0, { count: 0, percent: 50 })).toBe(true);
  });
});

describe('failure budget with no targets', () => {
  it('failures within the count do not halt an empty rollout (no division by zero)', () => {
    expect(failureBudgetExceeded(1, 0, { count: 5, percent: 50 })).toBe(false);
  });
});
