// The production rollout's failure budget (deploy.failure_budget_count / _percent): the rollout halts when
// the failed systems EXCEED either limit, so a budget of 2 tolerates 2 failures and halts at the third, and
// 10 % of 20 systems tolerates 2 and halts at 3 (the same rule the README states).

export interface FailureBudget {
  /** Failed systems tolerated. */
  count: number;
  /** Percent of the targets tolerated. */
  percent: number;
}

export function failureBudgetExceeded(failed: number, targets: number, budget: FailureBudget): boolean {
  if (failed > budget.count) return true;
  return targets > 0 && (failed * 100) / targets > budget.percent;
}
