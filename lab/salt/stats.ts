/**
 * What the salt lab was asked to do, so tests can prove call patterns: jobs per function,
 * executions per minion and function, and package installs per (minion, package) — a retried
 * activity that installs the same package twice shows up here.
 */
export interface SaltStatsSnapshot {
  logins: number;
  /** Jobs published per function (one per lowstate chunk). */
  calls: Record<string, number>;
  /** Executions per minion id, per function (only minions that received the job). */
  byMinion: Record<string, Record<string, number>>;
  /** `<minion id>|<package name>` → times pkg.install changed that package on that minion. */
  installs: Record<string, number>;
  /** snapper.undo runs per minion id. */
  undos: Record<string, number>;
}

export class SaltStats {
  logins = 0;
  private readonly calls = new Map<string, number>();
  private readonly byMinion = new Map<string, Map<string, number>>();
  private readonly installs = new Map<string, number>();
  private readonly undos = new Map<string, number>();

  recordJob(fun: string): void {
    this.calls.set(fun, (this.calls.get(fun) ?? 0) + 1);
  }

  recordExecution(minionId: string, fun: string): void {
    let perFun = this.byMinion.get(minionId);
    if (!perFun) {
      perFun = new Map();
      this.byMinion.set(minionId, perFun);
    }
    perFun.set(fun, (perFun.get(fun) ?? 0) + 1);
  }

  recordInstall(minionId: string, packageName: string): void {
    const key = `${minionId}|${packageName}`;
    this.installs.set(key, (this.installs.get(key) ?? 0) + 1);
  }

  recordUndo(minionId: string): void {
    this.undos.set(minionId, (this.undos.get(minionId) ?? 0) + 1);
  }

  count(fun: string): number {
    return this.calls.get(fun) ?? 0;
  }

  countFor(minionId: string, fun: string): number {
    return this.byMinion.get(minionId)?.get(fun) ?? 0;
  }

  installCount(minionId: string, packageName: string): number {
    return this.installs.get(`${minionId}|${packageName}`) ?? 0;
  }

  /** Largest install count of any (minion, package): 1 means nothing was installed twice. */
  maxInstallsPerPackage(): number {
    let max = 0;
    for (const n of this.installs.values()) max = Math.max(max, n);
    return max;
  }

  snapshot(): SaltStatsSnapshot {
    return {
      logins: this.logins,
      calls: Object.fromEntries(this.calls),
      byMinion: Object.fromEntries([...this.byMinion].map(([m, funs]) => [m, Object.fromEntries(funs)])),
      installs: Object.fromEntries(this.installs),
      undos: Object.fromEntries(this.undos),
    };
  }

  reset(): void {
    this.logins = 0;
    this.calls.clear();
    this.byMinion.clear();
    this.installs.clear();
    this.undos.clear();
  }
}
