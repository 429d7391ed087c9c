/** Maps fleet domain errors onto the fault each UYUNI call path produces. */
import { FleetError } from '../../fleet/index.js';
import { RpcFault, uyuniFaults } from '../faults.js';

export interface FaultFlavour {
  /** The manager-level lookup (-1 "Could not find server") instead of the handler's -208. */
  serverLookup?: boolean;
  login?: string;
}

export function toFault(err: unknown, flavour: FaultFlavour = {}): unknown {
  if (!(err instanceof FleetError)) return err;
  switch (err.code) {
    case 'no_such_system':
      return flavour.serverLookup
        ? uyuniFaults.serverNotFound(Number(err.subject), flavour.login ?? 'admin')
        : uyuniFaults.noSuchSystem(Number(err.subject));
    case 'no_such_erratum':
      return uyuniFaults.patchNotFound(String(err.subject));
    case 'invalid_errata':
      return uyuniFaults.invalidErrata();
    case 'no_systems':
    case 'no_errata':
    case 'no_packages':
      return uyuniFaults.invalidParameter(err.message);
    case 'invalid_package':
      return uyuniFaults.invalidPackage(err.subject ?? '');
    case 'no_such_action':
      return uyuniFaults.noSuchAction(Number(err.subject));
    case 'retracted_errata':
      return uyuniFaults.retractedErrata(err.message);
    case 'not_in_maintenance':
      return uyuniFaults.notInMaintenance(err.message);
    default:
      return new RpcFault(-1, err.message);
  }
}

/** Runs fn and rethrows fleet errors as the matching fault. */
export function faulting<T>(fn: () => T, flavour?: FaultFlavour): T {
  try {
    return fn();
  } catch (err) {
    throw toFault(err, flavour);
  }
}
