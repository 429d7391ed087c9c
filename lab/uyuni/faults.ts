/**
 * The faults UYUNI emits, with its exact strings (reference/uyuni-api.md §2.3). FaultExceptions
 * come out as "redstone.xmlrpc.XmlRpcFault: <message>"; session lookups fail before the handler's
 * try/catch and surface with the raw Java exception class.
 */
const REDSTONE = 'redstone.xmlrpc.XmlRpcFault: ';

export class RpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
    this.name = 'RpcFault';
  }
}

export const HANDLER_CLASSES: Readonly<Record<string, string>> = {
  auth: 'com.redhat.rhn.frontend.xmlrpc.auth.AuthHandler',
  system: 'com.redhat.rhn.frontend.xmlrpc.system.SystemHandler',
  systemgroup: 'com.redhat.rhn.frontend.xmlrpc.systemgroup.ServerGroupHandler',
  errata: 'com.redhat.rhn.frontend.xmlrpc.errata.ErrataHandler',
  schedule: 'com.redhat.rhn.frontend.xmlrpc.schedule.ScheduleHandler',
  packages: 'com.redhat.rhn.frontend.xmlrpc.packages.PackagesHandler',
  maintenance: 'com.suse.manager.xmlrpc.maintenance.MaintenanceHandler',
};

export const uyuniFaults = {
  sessionNotFound: (sessionId: string) =>
    new RpcFault(-1, `com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: ${sessionId}`),
  sessionInvalid: (sessionId: string) =>
    new RpcFault(-1, `com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: ${sessionId} is not valid.`),
  loginFailed: () => new RpcFault(2950, `${REDSTONE}Either the password or username is incorrect.`),
  noSuchSystem: (sid: number) => new RpcFault(-208, `${REDSTONE}No such system - sid = ${sid}`),
  serverNotFound: (sid: number, login: string) =>
    unhandled(`Could not find server ${sid} for user ${login}`),
  patchNotFound: (advisory: string) => new RpcFault(-208, `${REDSTONE}The patch ${advisory} cannot be found.`),
  invalidErrata: () => new RpcFault(2600, `${REDSTONE}Invalid errata`),
  // ModulesNotAllowedException: code 2107, text of the message key packagelist.jsp.modulespresent
  // (@@PRODUCT_NAME@@ = Uyuni).
  modulesNotAllowed: () =>
    new RpcFault(
      2107,
      `${REDSTONE}At least one of the channels this system is subscribed to contains modules. If you have activated modules on this system, please refrain from using Uyuni for package operations. Instead, perform all package actions from the client using dnf.`,
    ),
  // RetractedErrataException: 2602, message key api.errata.retractederrata with the ids joined by ","
  // (the English text is approximate).
  retractedErrata: (ids: string) => new RpcFault(2602, `${REDSTONE}Patches with ids ${ids} are retracted and cannot be applied`),
  // NotInMaintenanceModeException (older servers' FaultException, code 1334): "Schedules '<names>' are not
  // matching date <date> " (uyuni com.suse.manager.maintenance.NotInMaintenanceModeException).
  notInMaintenance: (message: string) => new RpcFault(1334, `${REDSTONE}${message}`),
  // EntityNotExistsFaultException for an unknown schedule or calendar (code -212 per the Java source; wording approx.)
  maintenanceEntityNotFound: (what: string) => new RpcFault(-212, `${REDSTONE}Entity not found: ${what}`),
  invalidParameter: (message: string) => new RpcFault(1213, `${REDSTONE}${message}`),
  invalidPackage: (what: number | string) => new RpcFault(2300, `${REDSTONE}Invalid package: ${what}`),
  noSuchAction: (actionId: number) => unhandled(`Could not find action with id: ${actionId}`),
  noSuchHistoryEvent: () => new RpcFault(-216, `${REDSTONE}No such history event for server`),
  sessionDuration: (max: number) =>
    unhandled(`com.redhat.rhn.manager.session.InvalidSessionDurationException: Session duration must not exceed ${max} seconds`),
  methodNotFound: (method: string, handlerClass: string, javaTypes: readonly string[]) =>
    new RpcFault(-1, `${REDSTONE}Could not find method: ${method} in class: ${handlerClass} with params: [${javaTypes.join(', ')}]`),
  handlerNotFound: (namespace: string) => new RpcFault(-1, `${REDSTONE}The specified handler cannot be found: ${namespace}`),
  unparseable: (message: string) => new RpcFault(-1, `redstone.xmlrpc.XmlRpcException: The request could not be parsed: ${message}`),
  unhandled,
};

function unhandled(message: string): RpcFault {
  return new RpcFault(-1, `${REDSTONE}unhandled internal exception: ${message}`);
}
