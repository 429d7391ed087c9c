// The enrichment's activities (issue 14). Each is idempotent (upserts keyed by CVE) and heartbeats while it
// waits for NVD's rate limit, so a pass of thousands of look-ups survives a worker restart where it was. CVE
// lists never enter workflow history: every chunk activity picks its own next CVEs from the database.
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from '../index.js';
import {
  cvesNeedingEpss,
  cvesNeedingNvd,
  nvdRow,
  recordSource,
  referencedCves,
  refreshErrataIntel,
  replaceKev,
  sourceState,
  touchNvd,
  upsertEpss,
  upsertNvd,
} from '../../db/queries/cve-intel.js';
import { EPSS_BATCH, EpssClient } from '../epss/client.js';
import { KevClient } from '../kev/client.js';
import { NvdClient, nvdWindows } from '../nvd/client.js';
import { PgRollingWindowLimiter } from '../nvd/rate-limit.js';
import { isIntelError } from '../shared/intel-http.js';

const HOUR = 3_600_000;
/** a refresh window starts this long before the oldest stale fetch (records modified while it was fetched) */
const WINDOW_OVERLAP_MS = HOUR;

export interface NvdPlan {
  mode: 'none' | 'lookup' | 'window';
  /** CVEs new or stale */
  planned: number;
  windows: { start: string; end: string }[];
}

export interface IntelClients {
  nvd: NvdClient;
  epss: EpssClient;
  kev: KevClient;
}

export function createIntelClients(deps: Pick<ActivityDeps, 'config' | 'db' | 'log'>): IntelClients {
  const { intel } = deps.config;
  const limiter = new PgRollingWindowLimiter(deps.db, { limit: intel.nvd.rateLimit, windowMs: intel.nvd.windowMs });
  return {
    nvd: new NvdClient({
      url: intel.nvd.url,
      ...(intel.nvd.apiKey ? { apiKey: intel.nvd.apiKey } : {}),
      timeoutMs: intel.nvd.timeoutMs,
      limiter,
      backoffMs: intel.nvd.backoffMs,
      logger: deps.log.child({ component: 'nvd' }),
    }),
    epss: new EpssClient({ url: intel.epss.url, timeoutMs: intel.timeoutMs }),
    kev: new KevClient({ url: intel.kev.url, timeoutMs: intel.timeoutMs }),
  };
}

/** An IntelError as a Temporal failure: its type, and non-retryable when the request itself is wrong. */
function asFailure(err: unknown): unknown {
  if (!isIntelError(err)) return err;
  return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable, details: [{ source: err.source, status: err.status ?? null }] });
}

function beat(details?: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // outside an activity (the ops CLI's import, the bench): nothing to heartbeat
  }
}

function signal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

export function createIntelActivities(deps: Pick<ActivityDeps, 'config' | 'db' | 'log'>, clients: IntelClients = createIntelClients(deps)) {
  const { db, config, log } = deps;
  const { intel } = config;
  // While a request waits (a rate-limit slot, a backoff) the activity heartbeats; `details` keeps what a retry
  // resumes from (a window's next startIndex) in every heartbeat.
  const hooks = (details: () => Record<string, unknown> = () => ({})) => {
    const s = signal();
    return { ...(s ? { signal: s } : {}), onWait: (what: string, ms: number) => beat({ ...details(), waiting: what, ms }) };
  };

  return {
    /** Downloads the KEV catalog when it is older than INTEL_KEV_REFRESH_HOURS (or `force`). */
    async intelRefreshKev(input: { force?: boolean } = {}): Promise<{ refreshed: boolean; listed: number; removed: number }> {
      const state = await sourceState(db, 'kev');
      if (!input.force && state?.refreshedAt && Date.now() - state.refreshedAt.getTime() < intel.kev.refreshHours * HOUR) {
        return { refreshed: false, listed: Number(state.details.listed ?? 0), removed: 0 };
      }
      try {
        const catalog = await clients.kev.catalog();
        const r = await replaceKev(db, catalog.entries);
        await recordSource(db, 'kev', { version: catalog.catalogVersion, details: { listed: r.listed, dateReleased: catalog.dateReleased, from: 'download' } });
        log.info({ catalogVersion: catalog.catalogVersion, ...r }, 'KEV catalog refreshed');
        return { refreshed: true, ...r };
      } catch (err) {
        throw asFailure(err);
      }
    },

    /**
     * What NVD must be asked: nothing, one cveId look-up per new or stale CVE (up to INTEL_NVD_LOOKUP_MAX), or
     * lastModified windows (≤ 120 days each, paged by 2000) from the oldest stale fetch — or INTEL_NVD_SWEEP_DAYS
     * back for CVEs never fetched — to now.
     */
    async intelPlanNvd(): Promise<NvdPlan> {
      const now = Date.now();
      const needing = await cvesNeedingNvd(db, new Date(now - intel.nvd.staleHours * HOUR));
      if (!needing.length) return { mode: 'none', planned: 0, windows: [] };
      if (needing.length <= intel.nvd.lookupMax) return { mode: 'lookup', planned: needing.length, windows: [] };
      const stale = needing.filter((n) => n.fetchedAt !== null).map((n) => n.fetchedAt!.getTime());
      let start = now - intel.nvd.sweepDays * 24 * HOUR;
      if (stale.length) start = Math.min(start, Math.min(...stale) - WINDOW_OVERLAP_MS);
      if (!needing.some((n) => n.fetchedAt === null)) start = Math.min(...stale) - WINDOW_OVERLAP_MS;
      const windows = nvdWindows(new Date(start), new Date(now)).map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() }));
      return { mode: 'window', planned: needing.length, windows };
    },

    /** Looks up to `limit` new or stale CVEs one by one (rate-limited), storing each answer at once. */
    async intelNvdLookups(input: { limit: number }): Promise<{ done: number; notFound: number; requests: number; remaining: number }> {
      const staleBefore = new Date(Date.now() - intel.nvd.staleHours * HOUR);
      const batch = await cvesNeedingNvd(db, staleBefore, input.limit);
      const before = clients.nvd.requests;
      let notFound = 0;
      try {
        for (const [i, { cve }] of batch.entries()) {
          const record = await clients.nvd.cve(cve, hooks());
          if (record) await upsertNvd(db, [nvdRow(record)]);
          else {
            notFound++;
            await upsertNvd(db, [], [cve]);
          }
          beat({ done: i + 1 });
        }
      } catch (err) {
        throw asFailure(err);
      }
      const remaining = (await cvesNeedingNvd(db, staleBefore)).length;
      return { done: batch.length, notFound, requests: clients.nvd.requests - before, remaining };
    },

    /** Pages through one lastModified window, storing the records of CVEs the errata reference; resumes from its last heartbeat. */
    async intelNvdWindow(input: { start: string; end: string }): Promise<{ pages: number; records: number; stored: number; requests: number }> {
      let from = 0;
      try {
        const last = Context.current().info.heartbeatDetails as { startIndex?: number } | undefined;
        if (typeof last?.startIndex === 'number') from = last.startIndex;
      } catch {
        // not in an activity
      }
      let next = from;
      const before = clients.nvd.requests;
      let records = 0;
      let stored = 0;
      try {
        const r = await clients.nvd.modified(
          { start: new Date(input.start), end: new Date(input.end) },
          async (page) => {
            records += page.vulnerabilities.length;
            const wanted = await referencedCves(db, page.vulnerabilities.map((v) => v.cve.id));
            stored += await upsertNvd(db, page.vulnerabilities.filter((v) => wanted.has(v.cve.id)).map((v) => nvdRow(v.cve)));
            next = page.startIndex + page.vulnerabilities.length;
            beat({ startIndex: next });
          },
          hooks(() => ({ startIndex: next })),
          from,
        );
        return { pages: r.pages, records, stored, requests: clients.nvd.requests - before };
      } catch (err) {
        throw asFailure(err);
      }
    },

    /**
     * After the windows from `sweptFrom` to `sweptTo`: every stale CVE fetched after `sweptFrom` that no window
     * returned was not modified since, so it is current; recorded as checked. CVEs never fetched that no window
     * returned are left for look-ups.
     */
    async intelNvdSweepDone(input: { sweptFrom: string; sweptTo: string }): Promise<{ confirmed: number; remaining: number }> {
      const staleBefore = new Date(Date.now() - intel.nvd.staleHours * HOUR);
      const needing = await cvesNeedingNvd(db, staleBefore);
      const from = Date.parse(input.sweptFrom);
      const confirmed = needing.filter((n) => n.fetchedAt !== null && n.fetchedAt.getTime() >= from).map((n) => n.cve);
      await touchNvd(db, confirmed);
      await recordSource(db, 'nvd', { windowEnd: new Date(input.sweptTo), details: { sweptFrom: input.sweptFrom, keyed: clients.nvd.keyed } });
      return { confirmed: confirmed.length, remaining: needing.length - confirmed.length };
    },

    /** EPSS for up to `limit` CVEs without a fresh score, in batches of 100 per request. */
    async intelEpss(input: { limit: number; force?: boolean }): Promise<{ done: number; scored: number; requests: number; remaining: number }> {
      const staleBefore = new Date(input.force ? Date.now() : Date.now() - intel.epss.staleHours * HOUR);
      const all = await cvesNeedingEpss(db, staleBefore);
      const batch = all.slice(0, input.limit);
      let scored = 0;
      let requests = 0;
      let model: string | null = null;
      try {
        for (let i = 0; i < batch.length; i += EPSS_BATCH) {
          const ids = batch.slice(i, i + EPSS_BATCH);
          const r = await clients.epss.scores(ids);
          requests++;
          model = r.modelVersion ?? model;
          const got = new Set(r.scores.map((s) => s.cve));
          await upsertEpss(db, r.scores, r.modelVersion, ids.filter((c) => !got.has(c)));
          scored += r.scores.length;
          beat({ done: i + ids.length });
        }
      } catch (err) {
        throw asFailure(err);
      }
      if (batch.length) await recordSource(db, 'epss', { ...(model ? { version: model } : {}), details: { from: 'api' } });
      return { done: batch.length, scored, requests, remaining: all.length - batch.length };
    },

    /** Recomputes every erratum's severity, aggregate and urgency; the queue follows by trigger. */
    async intelRankErrata(): Promise<{ errataUpdated: number }> {
      return { errataUpdated: await refreshErrataIntel(db, new Date()) };
    },
  };
}
