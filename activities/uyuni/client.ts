// The UYUNI XML-RPC client: typed methods over transport + codec + session cache. A plain library
// (no Temporal, no global config): everything comes in through the constructor options.
import { StreamingDecoder } from './decode-fast.js';
import { observed, type CallObserver } from '../shared/call-observer.js';
import { decodeReference } from './decode-reference.js';
import type { DecodeOptions } from './decode-common.js';
import { encodeMethodCall } from './encode.js';
import { UyuniFault, UyuniProgrammingError, UyuniProtocolError } from './errors.js';
import { silentLogger, type UyuniLogger } from './logger.js';
import {
  toActionSystem,
  toScheduledAction,
  toErrataDetails,
  toErrataOverview,
  toErrataPackage,
  toEventDetails,
  toMaintenanceCalendar,
  toMaintenanceSchedule,
  toSystemDetails,
  toSystemErrata,
  toSystemEvent,
  toSystemGroup,
  toSystemNetwork,
  toSystemOverview,
} from './mappers.js';
import { Redactor } from './redact.js';
import { SessionCache } from './session.js';
import { CallStats, type UyuniClientStats } from './stats.js';
import { assertTimeZone } from './time-zone.js';
import { UyuniTransport, type BodySink } from './transport.js';
import { WireReader } from './wire.js';
import type { XmlRpcParam, XmlRpcValue } from './values.js';
import type {
  ActionSystem,
  ScheduledAction,
  ErrataDetails,
  ErrataOverview,
  ErrataPackage,
  EventDetails,
  MaintenanceCalendar,
  MaintenanceSchedule,
  PackageNevra,
  ScheduleApplyErrataOptions,
  ScheduleOptions,
  SystemDetails,
  SystemErrata,
  SystemEvent,
  SystemGroup,
  SystemNetwork,
  SystemOverview,
} from './types.js';

export interface UyuniClientOptions {
  /** Told about every XML-RPC call (method, latency, error): the worker's call metrics. */
  observer?: CallObserver;
  /** e.g. https://uyuni.example/rpc/api */
  url: string;
  user: string;
  password: string;
  /** Deadline per HTTP call, queueing in the pool included. Default 30 s. */
  timeoutMs?: number;
  /** Default true. */
  verifyTls?: boolean;
  /** PEM bundle trusted for the server certificate (Uyuni's self-signed CA). */
  caFile?: string;
  /** The Uyuni server's JVM zone: zone-less dates are read and written in it. Default 'UTC'. */
  timeZone?: string;
  /**
   * Default 'fast': the body is parsed as it arrives. 'reference' collects the whole body and uses
   * the xmlrpc package's deserializer.
   */
  decoder?: 'fast' | 'reference';
  /** Keep-alive connections to the server. Default 8; callers should cap their concurrency to it. */
  maxConnections?: number;
  /** Optional auth.login duration in seconds (must not exceed the server's session lifetime). */
  sessionDurationSec?: number;
  /**
   * `allowModules` of every scheduling call that takes it (scheduleApplyErrata, schedulePackageInstall*),
   * unless a call says otherwise. Default true: UYUNI's own default (false) refuses every package action on
   * a system with a modular channel — every RHEL 8/9 with AppStream — with fault 2107.
   */
  allowModules?: boolean;
  logger?: UyuniLogger;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 8;

function assertIds(method: string, what: string, ids: readonly number[]): void {
  for (const [index, id] of ids.entries()) {
    if (!Number.isSafeInteger(id)) {
      throw new UyuniProgrammingError(`${what}[${index}] is not an integer id`, { method });
    }
  }
}

export class UyuniClient {
  readonly #user: string;
  readonly #password: string;
  readonly #sessionDurationSec: number | undefined;
  private readonly allowModules: boolean;
  private readonly timeZone: string;
  private readonly decoder: 'fast' | 'reference';
  private readonly logger: UyuniLogger;
  private readonly redactor = new Redactor();
  private readonly redact = (text: string): string => this.redactor.redact(text);
  private readonly transport: UyuniTransport;
  private readonly session: SessionCache;
  private readonly callStats = new CallStats();
  private readonly observer: CallObserver | undefined;
  private closed = false;

  constructor(options: UyuniClientOptions) {
    if (options.user === '') throw new TypeError('UYUNI user must not be empty');
    if (options.password === '') throw new TypeError('UYUNI password must not be empty');
    this.#user = options.user;
    this.#password = options.password;
    this.#sessionDurationSec = options.sessionDurationSec;
    this.allowModules = options.allowModules ?? true;
    this.redactor.addSecret(options.password);
    this.timeZone = options.timeZone ?? 'UTC';
    assertTimeZone(this.timeZone);
    this.decoder = options.decoder === 'reference' ? 'reference' : 'fast';
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer;
    this.transport = new UyuniTransport({
      url: options.url,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      verifyTls: options.verifyTls ?? true,
      caFile: options.caFile,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      redact: this.redact,
    });
    this.session = new SessionCache({
      login: () => this.login(),
      logout: async (key) => {
        await this.invoke('auth.logout', [key]);
      },
      logger: this.logger,
    });
  }

  // ---- raw access -------------------------------------------------------------------------------

  /** Calls an authenticated method; the session key is prepended to `params`. */
  async call(method: string, ...params: XmlRpcParam[]): Promise<XmlRpcValue> {
    return this.session.withSession((key) => this.invoke(method, [key, ...params]));
  }

  /** Calls a method that takes no session key (api.getVersion, …). */
  async callWithoutSession(method: string, ...params: XmlRpcParam[]): Promise<XmlRpcValue> {
    this.assertOpen(method);
    return this.invoke(method, params);
  }

  // ---- systemgroup.* ----------------------------------------------------------------------------

  async listAllGroups(): Promise<SystemGroup[]> {
    const method = 'systemgroup.listAllGroups';
    const r = this.reader(method);
    return r.structs(await this.call(method)).map((s) => toSystemGroup(r, s));
  }

  async listSystems(group: string): Promise<SystemDetails[]> {
    const method = 'systemgroup.listSystems';
    const r = this.reader(method);
    return r.structs(await this.call(method, group)).map((s) => toSystemDetails(r, s));
  }

  async listSystemsMinimal(group: string): Promise<SystemOverview[]> {
    const method = 'systemgroup.listSystemsMinimal';
    const r = this.reader(method);
    return r.structs(await this.call(method, group)).map((s) => toSystemOverview(r, s));
  }

  // ---- system.* read ----------------------------------------------------------------------------

  async getRelevantErrata(sid: number): Promise<ErrataOverview[]> {
    const method = 'system.getRelevantErrata';
    assertIds(method, 'sid', [sid]);
    const r = this.reader(method);
    return r.structs(await this.call(method, sid)).map((s) => toErrataOverview(r, s));
  }

  /** The int[] overload (newer servers): one entry per system, system_id converted to a number. */
  async getRelevantErrataForSystems(sids: readonly number[]): Promise<SystemErrata[]> {
    const method = 'system.getRelevantErrata';
    assertIds(method, 'sids', sids);
    if (sids.length === 0) return [];
    const r = this.reader(method);
    return r.structs(await this.call(method, sids)).map((s) => toSystemErrata(r, s));
  }

  async getNetwork(sid: number): Promise<SystemNetwork> {
    const method = 'system.getNetwork';
    assertIds(method, 'sid', [sid]);
    const r = this.reader(method);
    return toSystemNetwork(r, r.struct(await this.call(method, sid)));
  }

  // ---- errata.* ---------------------------------------------------------------------------------

  async getErrataDetails(advisory: string): Promise<ErrataDetails> {
    const method = 'errata.getDetails';
    const r = this.reader(method);
    return toErrataDetails(r, r.struct(await this.call(method, advisory)));
  }

  async listCves(advisory: string): Promise<string[]> {
    const method = 'errata.listCves';
    return this.reader(method).strings(await this.call(method, advisory));
  }

  async listPackages(advisory: string): Promise<ErrataPackage[]> {
    const method = 'errata.listPackages';
    const r = this.reader(method);
    return r.structs(await this.call(method, advisory)).map((s) => toErrataPackage(r, s));
  }

  async listAffectedSystems(advisory: string): Promise<SystemOverview[]> {
    const method = 'errata.listAffectedSystems';
    const r = this.reader(method);
    return r.structs(await this.call(method, advisory)).map((s) => toSystemOverview(r, s));
  }

  // ---- system.* scheduling ----------------------------------------------------------------------

  /**
   * Returns the created action ids; they don't say which system got which (Salt groups systems with
   * identical errata sets into one action). Always the overload with `earliest` and `allowModules` (#4, or
   * #5 when `onlyRelevant` is given); `earliest` defaults to now, a maintenance window passes its start.
   * Faults: 2600 UyuniInvalidErrataError (not relevant or already scheduled), 2107
   * UyuniModulesNotAllowedError (modular channel with allowModules off), 2602 UyuniRetractedErrataError (a
   * retracted erratum), 1334/11334 UyuniNotInMaintenanceError (`earliest` outside a target's maintenance window).
   */
  async scheduleApplyErrata(
    sids: readonly number[],
    errataIds: readonly number[],
    earliest?: Date,
    options: ScheduleApplyErrataOptions = {},
  ): Promise<number[]> {
    const method = 'system.scheduleApplyErrata';
    assertIds(method, 'sids', sids);
    assertIds(method, 'errataIds', errataIds);
    const params: XmlRpcParam[] = [sids, errataIds, earliest ?? new Date(), this.modulesAllowed(options)];
    if (options.onlyRelevant !== undefined) params.push(options.onlyRelevant);
    const r = this.reader(method);
    return r.array(await this.call(method, ...params)).map((id, index) => r.int(id, `result[${index}]`));
  }

  async scheduleReboot(sid: number, earliest: Date): Promise<number> {
    const method = 'system.scheduleReboot';
    assertIds(method, 'sid', [sid]);
    return this.reader(method).int(await this.call(method, sid, earliest));
  }

  /** Single-system overload with allowModules: returns one action id. Faults as scheduleApplyErrata (2107). */
  async schedulePackageInstall(sid: number, packageIds: readonly number[], earliest: Date, options: ScheduleOptions = {}): Promise<number> {
    const method = 'system.schedulePackageInstall';
    assertIds(method, 'sid', [sid]);
    assertIds(method, 'packageIds', packageIds);
    return this.reader(method).int(await this.call(method, sid, packageIds, earliest, this.modulesAllowed(options)));
  }

  async schedulePackageInstallByNevra(sid: number, nevras: readonly PackageNevra[], earliest: Date, options: ScheduleOptions = {}): Promise<number> {
    const method = 'system.schedulePackageInstallByNevra';
    assertIds(method, 'sid', [sid]);
    const wire = nevras.map((p) => ({
      package_name: p.name,
      package_epoch: p.epoch ?? '',
      package_version: p.version,
      package_release: p.release,
      package_arch: p.arch,
    }));
    return this.reader(method).int(await this.call(method, sid, wire, earliest, this.modulesAllowed(options)));
  }

  // ---- outcome polling --------------------------------------------------------------------------

  async getEventDetails(sid: number, actionId: number): Promise<EventDetails> {
    const method = 'system.getEventDetails';
    assertIds(method, 'sid', [sid]);
    assertIds(method, 'actionId', [actionId]);
    const r = this.reader(method);
    return toEventDetails(r, r.struct(await this.call(method, sid, actionId)));
  }

  async listSystemEvents(sid: number): Promise<SystemEvent[]> {
    const method = 'system.listSystemEvents';
    assertIds(method, 'sid', [sid]);
    const r = this.reader(method);
    return r.structs(await this.call(method, sid)).map((s) => toSystemEvent(r, s));
  }

  async listCompletedSystems(actionId: number): Promise<ActionSystem[]> {
    return this.listActionSystems('schedule.listCompletedSystems', actionId);
  }

  async listFailedSystems(actionId: number): Promise<ActionSystem[]> {
    return this.listActionSystems('schedule.listFailedSystems', actionId);
  }

  async listInProgressSystems(actionId: number): Promise<ActionSystem[]> {
    return this.listActionSystems('schedule.listInProgressSystems', actionId);
  }

  /** schedule.listInProgressActions: org-wide actions with a system still queued or picked up (adoption of a batch). */
  async listInProgressActions(): Promise<ScheduledAction[]> {
    const method = 'schedule.listInProgressActions';
    const r = this.reader(method);
    return r.structs(await this.call(method)).map((s) => toScheduledAction(r, s));
  }

  /** schedule.listAllActions: every action of the org (uyuni-api.md §3.5). */
  async listAllActions(): Promise<ScheduledAction[]> {
    const method = 'schedule.listAllActions';
    const r = this.reader(method);
    return r.structs(await this.call(method)).map((s) => toScheduledAction(r, s));
  }

  private async listActionSystems(method: string, actionId: number): Promise<ActionSystem[]> {
    assertIds(method, 'actionId', [actionId]);
    const r = this.reader(method);
    return r.structs(await this.call(method, actionId)).map((s) => toActionSystem(r, s));
  }

  // ---- maintenance.* (uyuni-api.md §3.8; Uyuni 2020.07+) ----------------------------------------

  async listScheduleNames(): Promise<string[]> {
    const method = 'maintenance.listScheduleNames';
    return this.reader(method).strings(await this.call(method));
  }

  async getScheduleDetails(name: string): Promise<MaintenanceSchedule> {
    const method = 'maintenance.getScheduleDetails';
    const r = this.reader(method);
    return toMaintenanceSchedule(r, r.struct(await this.call(method, name)));
  }

  /** The systems a schedule is assigned to: the inverse gives each system's schedule (a system has at most one). */
  async listSystemsWithSchedule(name: string): Promise<number[]> {
    const method = 'maintenance.listSystemsWithSchedule';
    const r = this.reader(method);
    return r.array(await this.call(method, name)).map((id, index) => r.int(id, `result[${index}]`));
  }

  async listCalendarLabels(): Promise<string[]> {
    const method = 'maintenance.listCalendarLabels';
    return this.reader(method).strings(await this.call(method));
  }

  async getCalendarDetails(label: string): Promise<MaintenanceCalendar> {
    const method = 'maintenance.getCalendarDetails';
    const r = this.reader(method);
    return toMaintenanceCalendar(r, r.struct(await this.call(method, label)));
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  stats(): UyuniClientStats {
    return this.callStats.snapshot(this.session.stats());
  }

  /** Logs out (best effort) and closes the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.session.close();
    this.closed = true;
    await this.transport.close();
  }

  // ---- internals --------------------------------------------------------------------------------

  private modulesAllowed(options: ScheduleOptions): boolean {
    return options.allowModules ?? this.allowModules;
  }

  private reader(method: string): WireReader {
    return new WireReader(method, this.timeZone);
  }

  private assertOpen(method: string): void {
    if (this.closed) throw new UyuniProgrammingError('UYUNI client is closed', { method });
  }

  private async login(): Promise<string> {
    const method = 'auth.login';
    const params: XmlRpcParam[] =
      this.#sessionDurationSec === undefined
        ? [this.#user, this.#password]
        : [this.#user, this.#password, this.#sessionDurationSec];
    const key = await this.invoke(method, params);
    if (typeof key !== 'string' || key === '') {
      throw new UyuniProtocolError('auth.login did not return a session key', { method });
    }
    this.redactor.addSessionKey(key);
    this.logger.info({ user: this.#user }, 'uyuni login succeeded');
    return key;
  }

  /**
   * One HTTP round trip: encode, post, decode, with faults classified and redacted. The fast
   * decoder is fed each chunk as it arrives; decodeMs counts only the time spent decoding.
   */
  private async invoke(method: string, params: readonly XmlRpcParam[]): Promise<XmlRpcValue> {
    return observed(this.observer, 'uyuni', method, () => this.invokeOnce(method, params));
  }

  private async invokeOnce(method: string, params: readonly XmlRpcParam[]): Promise<XmlRpcValue> {
    const body = encodeMethodCall(method, params, this.timeZone);
    this.callStats.countCall(method);
    const started = performance.now();
    const options: DecodeOptions = { timeZone: this.timeZone, method, redact: this.redact };
    let decodeMs = 0;
    let sink: BodySink;
    let decode: () => XmlRpcValue | Promise<XmlRpcValue>;
    if (this.decoder === 'fast') {
      const decoder = new StreamingDecoder(options);
      sink = (chunk) => {
        const pushStarted = performance.now();
        decoder.push(chunk);
        decodeMs += performance.now() - pushStarted;
      };
      decode = () => decoder.end();
    } else {
      const chunks: Buffer[] = [];
      sink = (chunk) => chunks.push(chunk);
      decode = () => decodeReference(Buffer.concat(chunks).toString('utf8'), options);
    }
    const bytes = await this.transport.post(body, method, sink);
    const decodeStarted = performance.now();
    let outcome = 'ok';
    try {
      return await decode();
    } catch (error) {
      if (error instanceof UyuniFault || (error instanceof UyuniProgrammingError && error.faultCode !== undefined)) {
        this.callStats.countFault();
        outcome = 'fault';
      } else {
        outcome = 'error';
      }
      throw error;
    } finally {
      decodeMs += performance.now() - decodeStarted;
      this.callStats.recordDecode(bytes, decodeMs);
      this.logger.debug(
        { method, bytes, ms: Math.round(performance.now() - started), decodeMs: Math.round(decodeMs * 10) / 10, outcome },
        'uyuni call',
      );
    }
  }
}
