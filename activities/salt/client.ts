// The salt-api client: lowstate calls (`local` with full_return, `local_async`, /jobs polling) over
// the transport and token cache, plus typed helpers for the execution functions the test engine
// uses. A plain library (no Temporal, no global config): everything comes in through the options.
// Per-minion helpers target one exact id (`tgt_type: list`), unwrap its result and throw
// SaltNoAnswerError / SaltExecutionError, except where "no answer" is itself an answer (ping, uptime).
import { SaltAuthError, SaltExecutionError, SaltFunctionUnavailableError, SaltHttpError, SaltNoAnswerError, SaltProtocolError } from './errors.js';
import { observed, type CallObserver } from '../shared/call-observer.js';
import { silentLogger, type SaltLogger } from './logger.js';
import { pollJob } from './poll.js';
import { SaltRedactor } from './redact.js';
import { firstReturn, isRecord, parseAsyncJob, parseFullReturn, parseJob } from './results.js';
import {
  toBoolean,
  toGrains,
  toCommandResult,
  toPackageChanges,
  toPackageInventory,
  toPackageVersion,
  toPackageVersions,
  toSnapshotNumber,
  toSnapshots,
  toUndoCounts,
  toUptime,
} from './returns.js';
import { TokenCache } from './session.js';
import { SaltCallStats, type SaltClientStats } from './stats.js';
import { SaltTransport, type SaltRequest } from './transport.js';
import type { PackageInventory, PackageVersion } from '../../domain/package-inventory.js';
import type {
  AsyncJob,
  CallOptions,
  CommandResult,
  Grains,
  InstallPinnedOptions,
  JobOutcome,
  LocalOptions,
  MinionResult,
  MinionResults,
  PackageChanges,
  PackageVersions,
  SaltJob,
  SnapperCreateOptions,
  SnapperSnapshot,
  SnapperUndoCounts,
  UptimeResult,
  WaitForJobOptions,
} from './types.js';

export interface SaltClientOptions {
  /** Told about every salt-api request (function or endpoint, latency, error): the worker's call metrics. */
  observer?: CallObserver;
  /** salt-api base URL, e.g. https://127.0.0.1:9080 or http://127.0.0.1:8000 */
  url: string;
  user: string;
  password: string;
  /** external_auth backend: `file`, `sharedsecret`, `pam`, `auto`, `ldap`. */
  eauth: string;
  /** Default true. UYUNI's salt-api uses a self-signed localhost certificate. */
  verifyTls?: boolean;
  /** Deadline per HTTP request. Default 30 s; a sync `local` call can override it per call. */
  timeoutMs?: number;
  logger?: SaltLogger;
}

/** A job that was published (the target matched at least the minion asked for). */
export interface StartedJob {
  jid: string;
  minions: string[];
}

export type SaltTarget = string | readonly string[];

/** One minion's converted answer of a many-minion call. */
export type ManyResult<T> = { ok: true; value: T } | { ok: false; error: string };

const DEFAULT_TIMEOUT_MS = 30_000;
const ERROR_DETAIL_CHARS = 500;
const GLOB_CHARS = /[*?[\]]/;

export class SaltClient {
  readonly #user: string;
  readonly #password: string;
  readonly #eauth: string;
  private readonly logger: SaltLogger;
  private readonly redactor = new SaltRedactor();
  private readonly redact = (text: string): string => this.redactor.redact(text);
  private readonly transport: SaltTransport;
  private readonly session: TokenCache;
  private readonly callStats = new SaltCallStats();
  private readonly observer: CallObserver | undefined;
  private closed = false;

  constructor(options: SaltClientOptions) {
    if (options.user === '') throw new TypeError('Salt user must not be empty');
    if (options.password === '') throw new TypeError('Salt password must not be empty');
    if (options.eauth === '') throw new TypeError('Salt eauth must not be empty');
    this.#user = options.user;
    this.#password = options.password;
    this.#eauth = options.eauth;
    this.redactor.addSecret(options.password);
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer;
    this.transport = new SaltTransport({
      url: options.url,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      verifyTls: options.verifyTls ?? true,
      redact: this.redact,
    });
    this.session = new TokenCache({
      login: () => this.login(),
      logout: async (token) => {
        await this.send({ method: 'POST', path: '/logout', name: '/logout', token, body: {} });
      },
      logger: this.logger,
    });
  }

  // ---- lowstate calls ---------------------------------------------------------------------------

  /** Sync `local` with full_return: one typed result per minion the master knows was targeted. */
  async local(tgt: SaltTarget, fun: string, options: LocalOptions = {}): Promise<MinionResults> {
    const body = await this.run(this.chunk('local', tgt, fun, options), fun, options);
    return parseFullReturn(body, fun, this.redact);
  }

  /** Publishes a job and returns at once; `jid: null` when no accepted minion matched. */
  async localAsync(tgt: SaltTarget, fun: string, options: LocalOptions = {}): Promise<AsyncJob> {
    const body = await this.run(this.chunk('local_async', tgt, fun, options), fun, options);
    return parseAsyncJob(body, fun);
  }

  /** `GET /jobs/<jid>`: expected minions and the returns so far (needs `runner` enabled and @jobs). */
  async job(jid: string, options: CallOptions = {}): Promise<SaltJob> {
    if (jid === '') throw new TypeError('jid must not be empty');
    const name = '/jobs';
    const response = await this.withToken(name, {
      method: 'GET',
      path: `/jobs/${encodeURIComponent(jid)}`,
      name,
      ...requestOptions(options),
    });
    return parseJob(response, jid, this.redact);
  }

  /** Polls until every awaited minion returned or `deadlineMs` passed; missing minions are no-answer. */
  async waitForJob(jid: string, options: WaitForJobOptions): Promise<JobOutcome> {
    return pollJob(
      jid,
      options,
      (id, signal) => {
        this.callStats.countPoll();
        return this.job(id, signal === undefined ? {} : { signal });
      },
      this.logger,
    );
  }

  // ---- typed helpers, one minion each -----------------------------------------------------------

  /** test.ping: false when the minion does not answer (that is what a ping is for). */
  async ping(minion: string, options: LocalOptions = {}): Promise<boolean> {
    const fun = 'test.ping';
    const result = await this.one(minion, fun, options);
    if (result.kind === 'no-answer') return false;
    return toBoolean(fun, this.unwrap(minion, fun, result));
  }

  /** grains.items, or grains.item with the named keys (far cheaper on every minion). */
  async grains(minion: string, keys: readonly string[] = [], options: CallOptions = {}): Promise<Grains> {
    const fun = keys.length === 0 ? 'grains.items' : 'grains.item';
    return toGrains(fun, await this.oneOk(minion, fun, { ...options, arg: keys }));
  }

  async listPackages(minion: string, options: CallOptions = {}): Promise<PackageVersions> {
    const fun = 'pkg.list_pkgs';
    return toPackageVersions(fun, await this.oneOk(minion, fun, options));
  }

  /** The installed version, or null when the package is not installed. */
  async packageVersion(minion: string, name: string, options: CallOptions = {}): Promise<string | null> {
    const fun = 'pkg.version';
    if (name === '' || GLOB_CHARS.test(name)) throw new TypeError('package name must be a plain name (a glob returns a map)');
    return toPackageVersion(fun, await this.oneOk(minion, fun, { ...options, arg: [name] }));
  }

  /**
   * pkg.install with exact versions (`pkgs=[{name: version}]`; lower versions are downgraded by both
   * aptpkg and yumpkg) through local_async + waitForJob, because an install outlives any sane HTTP
   * request. Returns the `{name: {old, new}}` changes. After a SaltExecutionError the real state is
   * whatever `packageVersion` says: the ERROR text only quotes apt/yum output.
   */
  async installPinned(minion: string, pins: Record<string, string>, options: InstallPinnedOptions): Promise<PackageChanges> {
    const fun = 'pkg.install';
    const entries = Object.entries(pins);
    if (entries.length === 0) throw new TypeError('installPinned needs at least one package');
    for (const [name, version] of entries) {
      if (name === '' || typeof version !== 'string' || version === '') {
        throw new TypeError(`pin for "${name}" needs a non-empty version string`);
      }
    }
    const { refresh, ...wait } = options;
    const job = await this.started(minion, fun, {
      kwarg: { pkgs: entries.map(([name, version]) => ({ [name]: version })), ...(refresh === undefined ? {} : { refresh }) },
      ...(wait.signal === undefined ? {} : { signal: wait.signal }),
    });
    this.logger.info({ minion, fun, jid: job.jid, packages: entries.length }, 'salt pinned install published');
    const outcome = await this.waitForJob(job.jid, { ...wait, minions: [minion] });
    const result = outcome.results[minion] ?? { kind: 'no-answer' };
    return toPackageChanges(fun, this.unwrap(minion, fun, result, job.jid));
  }

  /**
   * Every installed package with all its versions (`pkg.list_pkgs versions_as_list=True`): install-only
   * packages such as RPM kernels have several. The inventory a rollback restores and is verified against.
   */
  async listInventory(minion: string, options: CallOptions = {}): Promise<PackageInventory> {
    const fun = 'pkg.list_pkgs';
    return toPackageInventory(fun, await this.oneOk(minion, fun, { ...options, kwarg: { versions_as_list: true } }));
  }

  /**
   * pkg.install of exact versions, several versions of one name allowed (an install-only kernel put back
   * beside another). Same path as installPinned: local_async + waitForJob.
   */
  async installVersions(minion: string, packages: readonly PackageVersion[], options: InstallPinnedOptions): Promise<PackageChanges> {
    return this.packageJob(minion, 'pkg.install', packages, options);
  }

  /**
   * pkg.remove of exact versions (`pkgs=[{name: version}]`: yumpkg removes `name-version` of a multi-version
   * package, aptpkg removes the name). Package managers refuse to remove the running kernel: that is a
   * SaltExecutionError, with nothing removed.
   */
  async removePackages(minion: string, packages: readonly PackageVersion[], options: InstallPinnedOptions): Promise<PackageChanges> {
    return this.packageJob(minion, 'pkg.remove', packages, options);
  }

  /** cmd.run_all: the command's exit code, stdout and stderr (a non-zero exit is an answer, not an error). */
  async runCommand(minion: string, command: string, options: CallOptions & { timeoutSeconds?: number } = {}): Promise<CommandResult> {
    const fun = 'cmd.run_all';
    const { timeoutSeconds, ...call } = options;
    const kwarg: Record<string, unknown> = { python_shell: false, ...(timeoutSeconds === undefined ? {} : { timeout: timeoutSeconds }) };
    const result = await this.one(minion, fun, { ...callOptions(call), arg: [command], kwarg });
    // cmd.run_all reports the command's own exit code as the job's retcode: the dict is the answer either way.
    if (result.kind === 'error' && isRecord(result.ret) && 'retcode' in result.ret) return toCommandResult(fun, result.ret);
    return toCommandResult(fun, this.unwrap(minion, fun, result));
  }

  /**
   * pkg.install (or pkg.remove) of the same exact versions on many minions as ONE Salt job (a fleet rollback
   * undoes the same patch on a whole batch: one call, not one per system). Per minion its changes, or an error
   * entry (refused, or no answer by the deadline): each minion fails alone.
   */
  async packageJobMany(minions: readonly string[], fun: 'pkg.install' | 'pkg.remove', packages: readonly PackageVersion[], options: InstallPinnedOptions): Promise<Record<string, ManyResult<PackageChanges>>> {
    if (packages.length === 0) throw new TypeError(`${fun} needs at least one package`);
    for (const p of packages) {
      if (p.name === '' || typeof p.version !== 'string' || p.version === '') throw new TypeError(`${fun}: "${p.name}" needs a name and a version`);
    }
    const out: Record<string, ManyResult<PackageChanges>> = {};
    if (minions.length === 0) return out;
    const { refresh, ...wait } = options;
    const job = await this.localAsync([...minions], fun, {
      kwarg: { pkgs: packages.map((p) => ({ [p.name]: p.version })), ...(refresh === undefined || fun === 'pkg.remove' ? {} : { refresh }) },
      tgtType: 'list',
      ...(wait.signal === undefined ? {} : { signal: wait.signal }),
    });
    const accepted = new Set(job.jid === null ? [] : job.minions);
    const awaited = minions.filter((m) => accepted.has(m));
    this.logger.info({ minions: minions.length, accepted: awaited.length, fun, jid: job.jid, packages: packages.length }, 'salt package job published');
    const outcome = job.jid !== null && awaited.length ? await this.waitForJob(job.jid, { ...wait, minions: awaited }) : null;
    for (const minion of minions) {
      if (!accepted.has(minion) || !outcome) {
        out[minion] = { ok: false, error: `${minion}: no accepted minion key matched the target of ${fun}` };
        continue;
      }
      try {
        out[minion] = { ok: true, value: toPackageChanges(fun, this.unwrap(minion, fun, outcome.results[minion] ?? { kind: 'no-answer' }, job.jid as string)) };
      } catch (err) {
        out[minion] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    return out;
  }

  private async packageJob(minion: string, fun: 'pkg.install' | 'pkg.remove', packages: readonly PackageVersion[], options: InstallPinnedOptions): Promise<PackageChanges> {
    if (packages.length === 0) throw new TypeError(`${fun} needs at least one package`);
    for (const p of packages) {
      if (p.name === '' || typeof p.version !== 'string' || p.version === '') throw new TypeError(`${fun}: "${p.name}" needs a name and a version`);
    }
    const { refresh, ...wait } = options;
    const job = await this.started(minion, fun, {
      kwarg: { pkgs: packages.map((p) => ({ [p.name]: p.version })), ...(refresh === undefined || fun === 'pkg.remove' ? {} : { refresh }) },
      ...(wait.signal === undefined ? {} : { signal: wait.signal }),
    });
    this.logger.info({ minion, fun, jid: job.jid, packages: packages.length }, 'salt package job published');
    const outcome = await this.waitForJob(job.jid, { ...wait, minions: [minion] });
    const result = outcome.results[minion] ?? { kind: 'no-answer' };
    return toPackageChanges(fun, this.unwrap(minion, fun, result, job.jid));
  }

  /**
   * service.status per name → running or not. One call per service, in parallel: service.status
   * takes one name (a glob changes the return to a map) and compound calls key results by
   * function, so several service.status calls can't share one. A boolean answer is accepted even
   * with a non-zero retcode, since `systemctl is-active` exits 3 for an inactive unit.
   */
  async serviceStatus(minion: string, names: readonly string[], options: CallOptions = {}): Promise<Record<string, boolean>> {
    const fun = 'service.status';
    for (const name of names) {
      if (name === '' || GLOB_CHARS.test(name)) throw new TypeError(`service name "${name}" must be a plain unit name`);
    }
    const answers = await Promise.all(
      names.map(async (name) => {
        const result = await this.one(minion, fun, { ...options, arg: [name] });
        if (result.kind === 'error' && typeof result.ret === 'boolean') return [name, result.ret] as const;
        return [name, toBoolean(fun, this.unwrap(minion, fun, result))] as const;
      }),
    );
    return Object.fromEntries(answers);
  }

  /**
   * system.reboot through local_async, without waiting: with `now` the minion may go down before
   * it answers. Prove the reboot with `uptime` (sinceT moves) once `ping` answers again.
   */
  async reboot(minion: string, options: CallOptions & { atMinutes?: number } = {}): Promise<StartedJob> {
    const fun = 'system.reboot';
    const { atMinutes, ...call } = options;
    const job = await this.started(minion, fun, { ...call, ...(atMinutes === undefined ? {} : { kwarg: { at_time: atMinutes } }) });
    this.logger.info({ minion, fun, jid: job.jid }, 'salt reboot published');
    return job;
  }

  /** status.uptime; `no-answer` is an expected state while a minion reboots. */
  async uptime(minion: string, options: LocalOptions = {}): Promise<UptimeResult> {
    const fun = 'status.uptime';
    const result = await this.one(minion, fun, options);
    if (result.kind === 'no-answer') return { kind: 'no-answer' };
    return toUptime(fun, this.unwrap(minion, fun, result));
  }

  /**
   * Whether the snapper module loaded on the minion (btrfs root, python3-dbus, snapperd): a cheap list call
   * answers. False for every form of "function unavailable" (parseFunctionUnavailable); any other failure throws.
   */
  async snapperAvailable(minion: string, options: CallOptions = {}): Promise<boolean> {
    const fun = 'snapper.list_snapshots';
    const result = await this.one(minion, fun, { ...options, kwarg: { config: 'root' } });
    if (result.kind === 'error' && result.unavailable !== undefined) return false;
    this.unwrap(minion, fun, result);
    return true;
  }

  /** snapper.create_snapshot → the new snapshot number. */
  async snapperCreate(minion: string, description: string, options: SnapperCreateOptions & CallOptions = {}): Promise<number> {
    const fun = 'snapper.create_snapshot';
    const kwarg: Record<string, unknown> = {
      config: options.config ?? 'root',
      snapshot_type: options.snapshotType ?? 'single',
      description,
    };
    if (options.preNumber !== undefined) kwarg.pre_number = options.preNumber;
    if (options.cleanupAlgorithm !== undefined) kwarg.cleanup_algorithm = options.cleanupAlgorithm;
    if (options.userdata !== undefined) kwarg.userdata = options.userdata;
    return toSnapshotNumber(fun, await this.oneOk(minion, fun, { ...callOptions(options), kwarg }));
  }

  async snapperList(minion: string, options: CallOptions & { config?: string } = {}): Promise<SnapperSnapshot[]> {
    const fun = 'snapper.list_snapshots';
    return toSnapshots(fun, await this.oneOk(minion, fun, { ...callOptions(options), kwarg: { config: options.config ?? 'root' } }));
  }

  /** snapper undochange pre..post: files only; services are not restarted, the kernel stays. */
  async snapperUndo(
    minion: string,
    pre: number,
    post: number,
    options: CallOptions & { config?: string } = {},
  ): Promise<SnapperUndoCounts> {
    const fun = 'snapper.undo';
    const kwarg = { config: options.config ?? 'root', num_pre: pre, num_post: post };
    return toUndoCounts(fun, await this.oneOk(minion, fun, { ...callOptions(options), kwarg }));
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  stats(): SaltClientStats {
    return this.callStats.snapshot(this.session.stats());
  }

  /** Logs out (best effort) and closes the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close();
    await this.transport.close();
  }

  // ---- typed helpers, many minions in one call (a batch of a production rollout) ------------------

  /**
   * One `local` call on a list of minions, each answer converted on its own: `{ ok: true, value }`, or
   * `{ ok: false, error }` with why (no answer, the minion's error, or an answer of the wrong shape). Salt
   * calls grow with batches, not with systems.
   */
  async many<T>(minions: readonly string[], fun: string, options: LocalOptions, convert: (ret: unknown, minion: string) => T): Promise<Record<string, ManyResult<T>>> {
    const out: Record<string, ManyResult<T>> = {};
    if (minions.length === 0) return out;
    const results = await this.local(minions, fun, { ...options, tgtType: 'list' });
    for (const minion of minions) {
      try {
        out[minion] = { ok: true, value: convert(this.unwrap(minion, fun, results[minion] ?? { kind: 'no-answer' }), minion) };
      } catch (err) {
        out[minion] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    return out;
  }

  /** listInventory on many minions in one call. */
  async listInventories(minions: readonly string[], options: CallOptions = {}): Promise<Record<string, ManyResult<PackageInventory>>> {
    const fun = 'pkg.list_pkgs';
    return this.many(minions, fun, { ...options, kwarg: { versions_as_list: true } }, (ret) => toPackageInventory(fun, ret));
  }

  /** status.uptime on many minions in one call (no answer is an error entry: the host may be rebooting). */
  async uptimes(minions: readonly string[], options: CallOptions = {}): Promise<Record<string, ManyResult<UptimeResult>>> {
    const fun = 'status.uptime';
    return this.many(minions, fun, options, (ret) => toUptime(fun, ret));
  }

  /** cmd.run_all of one command on many minions; a non-zero exit is an error entry naming it. */
  async runCommandMany(minions: readonly string[], command: string, options: CallOptions & { timeoutSeconds?: number } = {}): Promise<Record<string, ManyResult<string>>> {
    const fun = 'cmd.run_all';
    const { timeoutSeconds, ...call } = options;
    const kwarg: Record<string, unknown> = { python_shell: false, ...(timeoutSeconds === undefined ? {} : { timeout: timeoutSeconds }) };
    const out: Record<string, ManyResult<string>> = {};
    if (minions.length === 0) return out;
    const results = await this.local(minions, fun, { ...callOptions(call), arg: [command], kwarg, tgtType: 'list' });
    for (const minion of minions) {
      const result = results[minion] ?? { kind: 'no-answer' as const };
      try {
        const ret = result.kind === 'error' && isRecord(result.ret) && 'retcode' in result.ret ? result.ret : this.unwrap(minion, fun, result);
        const r = toCommandResult(fun, ret);
        out[minion] = r.retcode === 0 ? { ok: true, value: r.stdout.trim() } : { ok: false, error: `\`${command}\` on ${minion} exited ${r.retcode}: ${(r.stderr || r.stdout).trim().slice(0, 300)}` };
      } catch (err) {
        out[minion] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    return out;
  }

  /** service.status of each name on many minions: one call per service name, not per minion. */
  async serviceStatusMany(minions: readonly string[], names: readonly string[], options: CallOptions = {}): Promise<Record<string, ManyResult<Record<string, boolean>>>> {
    const fun = 'service.status';
    for (const name of names) {
      if (name === '' || GLOB_CHARS.test(name)) throw new TypeError(`service name "${name}" must be a plain unit name`);
    }
    const out: Record<string, ManyResult<Record<string, boolean>>> = Object.fromEntries(minions.map((m) => [m, { ok: true, value: {} }]));
    if (minions.length === 0) return out;
    await Promise.all(
      names.map(async (name) => {
        const results = await this.local(minions, fun, { ...options, arg: [name], tgtType: 'list' });
        for (const minion of minions) {
          const entry = out[minion];
          if (!entry?.ok) continue;
          const result = results[minion] ?? { kind: 'no-answer' as const };
          try {
            entry.value[name] = result.kind === 'error' && typeof result.ret === 'boolean' ? result.ret : toBoolean(fun, this.unwrap(minion, fun, result));
          } catch (err) {
            out[minion] = { ok: false, error: err instanceof Error ? err.message : String(err) };
          }
        }
      }),
    );
    return out;
  }

  // ---- internals --------------------------------------------------------------------------------

  private chunk(client: 'local' | 'local_async', tgt: SaltTarget, fun: string, options: LocalOptions): Record<string, unknown> {
    if (fun === '') throw new TypeError('fun must not be empty');
    const chunk: Record<string, unknown> = { client, tgt: typeof tgt === 'string' ? tgt : [...tgt], fun, full_return: true };
    const tgtType = options.tgtType ?? (typeof tgt === 'string' ? undefined : 'list');
    if (tgtType !== undefined) chunk.tgt_type = tgtType;
    if (options.arg !== undefined && options.arg.length > 0) chunk.arg = [...options.arg];
    if (options.kwarg !== undefined) chunk.kwarg = options.kwarg;
    if (options.timeout !== undefined) chunk.timeout = options.timeout;
    return chunk;
  }

  /** `POST /` with one lowstate chunk. */
  private async run(chunk: Record<string, unknown>, fun: string, options: CallOptions): Promise<unknown> {
    return this.withToken(fun, { method: 'POST', path: '/', name: fun, body: [chunk], ...requestOptions(options) });
  }

  private async withToken(name: string, request: Omit<SaltRequest, 'token'>): Promise<unknown> {
    if (this.closed) throw new SaltProtocolError('Salt client is closed', { fun: name });
    return this.session.withToken(name, async (token) => (await this.send({ ...request, token })).body);
  }

  private async send(request: SaltRequest): Promise<{ body: unknown; authToken: string | undefined }> {
    this.callStats.countCall(request.name);
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await observed(this.observer, 'salt', request.name, () => this.transport.request(request));
    } catch (error) {
      outcome = (error as { type?: string }).type ?? 'error';
      throw error;
    } finally {
      this.logger.debug({ fun: request.name, ms: Math.round(performance.now() - started), outcome }, 'salt call');
    }
  }

  private async login(): Promise<string> {
    const name = '/login';
    let response: { body: unknown; authToken: string | undefined };
    try {
      response = await this.send({
        method: 'POST',
        path: '/login',
        name,
        body: { username: this.#user, password: this.#password, eauth: this.#eauth },
      });
    } catch (error) {
      if (error instanceof SaltHttpError && error.status === 401) {
        throw new SaltAuthError(`login refused for user ${this.#user} (eauth ${this.#eauth}): bad credentials or not in external_auth`, 'login', name);
      }
      throw error;
    }
    // The header and return[0].token carry the same CherryPy session id; prefer the header.
    const first = firstReturn(response.body, name);
    const token = response.authToken ?? (isRecord(first) && typeof first.token === 'string' ? first.token : undefined);
    if (token === undefined || token === '') throw new SaltProtocolError('login reply carries no token', { fun: name });
    this.redactor.addToken(token);
    this.logger.info({ user: this.#user, eauth: this.#eauth }, 'salt-api login succeeded');
    return token;
  }

  /** local on exactly one minion; a minion missing from the map did not answer. */
  private async one(minion: string, fun: string, options: LocalOptions): Promise<MinionResult> {
    if (minion === '') throw new TypeError('minion id must not be empty');
    const results = await this.local([minion], fun, { ...options, tgtType: 'list' });
    return results[minion] ?? { kind: 'no-answer' };
  }

  private async oneOk(minion: string, fun: string, options: LocalOptions): Promise<unknown> {
    return this.unwrap(minion, fun, await this.one(minion, fun, options));
  }

  private unwrap(minion: string, fun: string, result: MinionResult, jid?: string): unknown {
    switch (result.kind) {
      case 'ok':
        return result.ret;
      case 'no-answer':
        throw new SaltNoAnswerError(minion, fun, jid === undefined ? {} : { jid });
      case 'error': {
        const detail = result.message.slice(0, ERROR_DETAIL_CHARS);
        const retcode = result.retcode === undefined ? {} : { retcode: result.retcode };
        if (result.unavailable !== undefined) throw new SaltFunctionUnavailableError(minion, fun, detail, result.unavailable, retcode);
        throw new SaltExecutionError(minion, fun, detail, { ...retcode, reason: result.reason });
      }
    }
  }

  /** local_async on one minion; a target that matched no accepted key is reported as no answer. */
  private async started(minion: string, fun: string, options: LocalOptions): Promise<StartedJob> {
    if (minion === '') throw new TypeError('minion id must not be empty');
    const job = await this.localAsync([minion], fun, { ...options, tgtType: 'list' });
    if (job.jid === null || !job.minions.includes(minion)) {
      throw new SaltNoAnswerError(minion, fun, { detail: 'no accepted minion key matched the target' });
    }
    return { jid: job.jid, minions: job.minions };
  }
}

function requestOptions(options: CallOptions): Pick<SaltRequest, 'signal' | 'timeoutMs'> {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.httpTimeoutMs === undefined ? {} : { timeoutMs: options.httpTimeoutMs }),
  };
}

function callOptions(options: CallOptions): CallOptions {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }),
  };
}
