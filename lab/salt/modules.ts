/**
 * Which optional execution modules load on each minion. Only snapper is optional in the lab: it needs a btrfs
 * root, python3-dbus inside Salt's Python and snapperd on the system bus (salt/modules/snapper.py __virtual__).
 * Salt 3006+ onedir packages ship their own Python without dbus, so a minion is `no-dbus` unless it is a btrfs
 * system set up for snapper. A minion whose module does not load answers each of its functions with the
 * loader's text (salt/loader/lazy.py missing_fun_string), retcode 1, success false.
 */
import type { LabSystem } from '../fleet/index.js';

export type SnapperModuleState =
  /** Loads: btrfs root, python3-dbus, snapperd. */
  | 'loaded'
  /** `'snapper' __virtual__ returned False: The snapper module cannot be loaded: missing python dbus module`. */
  | 'no-dbus'
  /** dbus there, snapperd not installed: `... cannot be loaded: snapper is missing`. */
  | 'snapper-missing'
  /** The system bus refused the connection; snapper.py checks `snapper` before `bus`, so Salt says `None`. */
  | 'no-system-bus'
  /** A __virtual__ that returned a bare False: `'snapper' __virtual__ returned False`. */
  | 'virtual-false'
  /** No snapper module at all (e.g. dropped from the install): `'snapper.<fn>' is not available.` */
  | 'absent';

export const SNAPPER_MODULE_STATES: readonly SnapperModuleState[] = ['loaded', 'no-dbus', 'snapper-missing', 'no-system-bus', 'virtual-false', 'absent'];

const CANNOT_LOAD = "'snapper' __virtual__ returned False: The snapper module cannot be loaded: ";

export class MinionModules {
  private readonly snapperStates = new Map<number, SnapperModuleState>();

  snapper(sys: LabSystem): SnapperModuleState {
    return this.snapperStates.get(sys.id) ?? (sys.btrfs ? 'loaded' : 'no-dbus');
  }

  /** `loaded` only on a btrfs system (there is no snapper root config elsewhere). */
  setSnapper(sys: LabSystem, state: SnapperModuleState): void {
    if (!SNAPPER_MODULE_STATES.includes(state)) throw new RangeError(`unknown snapper module state: ${String(state)}`);
    if (state === 'loaded' && !sys.btrfs) throw new RangeError(`${sys.minionId} has no btrfs root: snapper cannot load there`);
    this.snapperStates.set(sys.id, state);
  }

  reset(): void {
    this.snapperStates.clear();
  }

  /** What the minion answers for `fun` of a module that did not load, or undefined when it loaded. */
  unavailableText(sys: LabSystem, fun: string): string | undefined {
    switch (this.snapper(sys)) {
      case 'loaded':
        return undefined;
      case 'no-dbus':
        return `${CANNOT_LOAD}missing python dbus module`;
      case 'snapper-missing':
        return `${CANNOT_LOAD}snapper is missing`;
      case 'no-system-bus':
        return `${CANNOT_LOAD}None`;
      case 'virtual-false':
        return "'snapper' __virtual__ returned False";
      case 'absent':
        return `'${fun}' is not available.`;
    }
  }
}
