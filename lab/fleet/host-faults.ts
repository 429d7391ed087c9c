/**
 * Faults of the hosts themselves, not of the protocols: the package manager or systemd lying or
 * failing on one system, for a counted number of times. They let tests prove that the orchestrator's
 * safety net (rollback verification, quarantine) catches what the field does to it.
 */

export const HOST_FAULT_KINDS = ['downgrade_sticks', 'service_stays_down', 'install_fails', 'reboot_hangs'] as const;
export type HostFaultKind = (typeof HOST_FAULT_KINDS)[number];

export interface HostFaultInput {
  kind: HostFaultKind;
  systemId: number;
  /** downgrade_sticks: the binary package name that stays at its newer version. */
  package?: string;
  /** service_stays_down: the unit that stays stopped after the next rollback. */
  service?: string;
  /** How many times it fires (1 by default), or always. */
  times?: number | 'always';
}

export interface HostFaultRule {
  readonly id: number;
  readonly kind: HostFaultKind;
  readonly systemId: number;
  readonly package?: string;
  readonly service?: string;
  readonly times: number | 'always';
  fired: number;
}

export class HostFaults {
  private rules: HostFaultRule[] = [];
  private nextId = 1;

  add(input: HostFaultInput): HostFaultRule {
    const rule: HostFaultRule = {
      id: this.nextId++,
      kind: input.kind,
      systemId: input.systemId,
      ...(input.package !== undefined ? { package: input.package } : {}),
      ...(input.service !== undefined ? { service: input.service } : {}),
      times: input.times ?? 1,
      fired: 0,
    };
    this.rules.push(rule);
    return rule;
  }

  list(): HostFaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Rules that can still fire for that system and kind (optionally matching). */
  armed(kind: HostFaultKind, systemId: number, match: (r: HostFaultRule) => boolean = () => true): HostFaultRule[] {
    return this.rules.filter((r) => r.kind === kind && r.systemId === systemId && (r.times === 'always' || r.fired < r.times) && match(r));
  }

  /** Fires the first armed rule: counts it and returns it, or undefined when none is armed. */
  fire(kind: HostFaultKind, systemId: number, match?: (r: HostFaultRule) => boolean): HostFaultRule | undefined {
    const rule = this.armed(kind, systemId, match)[0];
    if (rule) rule.fired++;
    return rule;
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }
}
