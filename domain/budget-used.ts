// How much of a rollout's failure budget is spent, for the metric spm_deployment_budget_used_ratio: the larger
// of failed/count and failed-share/percent. 1 = every tolerated failure is spent (one more halts the rollout,
// failure-budget.ts: it halts when failures EXCEED either limit), above 1 = exceeded. A zero budget with no
// failure is 0; with one it is +Inf.

export function budgetUsed(failed: number, targets: number, count: number | null, percent: number | null): number {
  const ratio = (used: number, allowed: number | null) => (allowed === null ? 0 : allowed > 0 ? used / allowed : used > 0 ? Infinity : 0);
  return Math.max(ratio(failed, count), targets > 0 ? ratio((failed * 100) / targets, percent) : 0);
}
