/**
 * Faults of errata across the fleet that the seeded personalities cannot express, for the bundle tests:
 * - interaction: two (or more) errata that are harmless alone and spike the CPU once all are installed on a
 *   system — only testing them together finds it;
 * - flaky: an erratum whose installation spikes the CPU on the first of every `every` installations (1st,
 *   every+1-th, …) fleet-wide, and not otherwise — a failure that does not reproduce.
 * Armed through the control API (POST /lab/errata-faults) or by the Fleet's methods; cleared with DELETE.
 */
export type ErratumFaultInput = { kind: 'interaction'; errataIds: number[] } | { kind: 'flaky'; erratumId: number; every: number };
export type ErratumFaultRule = ErratumFaultInput & { id: number; fired: number; installs: number };

export class ErrataFaults {
  private rules: ErratumFaultRule[] = [];
  private nextId = 1;

  add(input: ErratumFaultInput): ErratumFaultRule {
    const rule: ErratumFaultRule = { ...input, id: this.nextId++, fired: 0, installs: 0 };
    this.rules.push(rule);
    return rule;
  }

  list(): ErratumFaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  /** The interaction groups `erratumId` belongs to. */
  interactionsOf(erratumId: number): number[][] {
    return this.rules.flatMap((r) => (r.kind === 'interaction' && r.errataIds.includes(erratumId) ? [r.errataIds] : []));
  }

  /** Counts an installation of `erratumId`; true when this one is a flaky failure. */
  flakyInstall(erratumId: number): boolean {
    let spike = false;
    for (const r of this.rules) {
      if (r.kind !== 'flaky' || r.erratumId !== erratumId) continue;
      r.installs++;
      if ((r.installs - 1) % r.every === 0) {
        r.fired++;
        spike = true;
      }
    }
    return spike;
  }

  markInteraction(group: number[]): void {
    for (const r of this.rules) if (r.kind === 'interaction' && r.errataIds.length === group.length && r.errataIds.every((id) => group.includes(id))) r.fired++;
  }
}
