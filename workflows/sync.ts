import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { chunk } from '../domain/chunks.js';
import { forEachInWindow } from '../domain/window.js';
import { wakeDispatcher } from './dispatch.js';
import { DEFAULT_UYUNI_RETRY, syncProgressQuery, type SyncInput, type SyncProgress, type SyncSummary } from './messages.js';

// Fan-out is by chunks, never one activity per RPC, so history stays small at 10,000 systems; inside a
// chunk the activity calls UYUNI in parallel under the worker's UYUNI_SYNC_WORKERS limit.
const SYSTEMS_PER_CHUNK = 50;
const ADVISORIES_PER_CHUNK = 100;
/** Chunk activities in flight: each already holds more calls than the worker's UYUNI limit lets through. */
const CHUNKS_IN_FLIGHT = 3;

const uyuniActivities = (retry: NonNullable<SyncInput['uyuniRetry']>) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: retry.initialIntervalMs, backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: retry.maximumAttempts },
  });

const store = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Syncs the errata UYUNI says apply to the test systems into errata_cache. */
export async function uyuniSync(input: SyncInput = { trigger: 'schedule' }): Promise<SyncSummary> {
  const progress: SyncProgress = {
    phase: 'starting',
    syncRunId: null,
    groups: { done: 0, total: 0 },
    systems: { done: 0, total: 0 },
    errata: { seen: 0, detailsDone: 0, detailsTotal: 0 },
    uyuniCalls: 0,
    errors: 0,
  };
  setHandler(syncProgressQuery, () => progress);
  const uyuni = uyuniActivities(input.uyuniRetry ?? DEFAULT_UYUNI_RETRY);

  const started = Date.now();
  const phaseDurations: Record<string, number> = {};
  const errors: { scope: string; message: string }[] = [];
  let phaseStarted = started;
  const enter = (phase: SyncProgress['phase']) => {
    const now = Date.now();
    if (progress.phase !== 'starting') phaseDurations[progress.phase] = now - phaseStarted;
    phaseStarted = now;
    progress.phase = phase;
  };
  const addErrors = (more: { scope: string; message: string }[]) => {
    errors.push(...more.slice(0, Math.max(0, 100 - errors.length))); // keep the row and the result small
    progress.errors += more.length;
  };

  const syncRunId = await store.beginSyncRun({ trigger: input.trigger });
  progress.syncRunId = syncRunId;
  let cvesFetched = 0;

  try {
    enter('groups');
    const { groups, skipped } = await uyuni.listTestGroups();
    progress.uyuniCalls++;
    addErrors(skipped.map((g) => ({ scope: `group ${g}`, message: 'the group name names no known OS; skipped' })));
    progress.groups.total = groups.length;

    const systemsByGroup = await Promise.all(
      groups.map(async (group) => {
        const ids = await uyuni.listGroupSystems(group);
        progress.uyuniCalls++;
        progress.groups.done++;
        progress.systems.total += ids.length;
        return ids.map((id) => ({ id, os: group.os }));
      }),
    );
    // A system in two test groups is fetched once.
    const seen = new Set<number>();
    const systems = systemsByGroup.flat().filter((s) => !seen.has(s.id) && seen.add(s.id));
    progress.systems.total = systems.length;

    enter('errata');
    await forEachInWindow(chunk(systems, SYSTEMS_PER_CHUNK), CHUNKS_IN_FLIGHT, async (part, index) => {
      const r = await uyuni.collectRelevantErrata({ syncRunId, chunk: index, systems: part });
      progress.systems.done += part.length;
      progress.errata.seen += r.errata;
      progress.uyuniCalls += r.calls;
      addErrors(r.errors);
    });

    enter('details');
    const planned = await store.planAdvisoryDetails({ syncRunId });
    progress.errata.detailsTotal = planned;
    const ranges: { fromSeq: number; toSeq: number }[] = [];
    for (let from = 1; from <= planned; from += ADVISORIES_PER_CHUNK) {
      ranges.push({ fromSeq: from, toSeq: Math.min(planned, from + ADVISORIES_PER_CHUNK - 1) });
    }
    await forEachInWindow(ranges, CHUNKS_IN_FLIGHT, async (range) => {
      const r = await uyuni.fetchAdvisoryDetails({ syncRunId, ...range });
      progress.errata.detailsDone += r.advisories;
      progress.uyuniCalls += r.calls;
      cvesFetched += r.cvesFetched;
      addErrors(r.errors);
    });

    enter('commit');
    const committed = await store.commitSync({
      syncRunId,
      groups: groups.length,
      systems: progress.systems.done,
      uyuniCalls: progress.uyuniCalls,
      cvesFetched,
      phaseDurations,
      errors,
    });
    // issue 15: advisories retracted since: their queued items cancelled, their rollouts halted. Behind patched()
    // so the syncs recorded before it replay unchanged.
    if (patched('sync-retractions')) await uyuni.checkRetractions();
    // What the sync learnt may make queued items untestable (superseded) or testable again.
    await store.recheckQueue();
    await wakeDispatcher();
    enter('done');
    return {
      syncRunId,
      groups: groups.length,
      systems: progress.systems.done,
      errata: committed.errataCount,
      inserted: committed.inserted,
      updated: committed.updated,
      cvesFetched,
      uyuniCalls: progress.uyuniCalls,
      durationMs: Date.now() - started,
      errors,
    };
  } catch (err) {
    progress.phase = 'failed';
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => store.failSyncRun({ syncRunId, error: 'cancelled', errors }));
      throw err;
    }
    const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    // The cache is untouched until the commit, so a failed run leaves the previous one intact.
    await CancellationScope.nonCancellable(() => store.failSyncRun({ syncRunId, error: message, errors }));
    throw ApplicationFailure.nonRetryable(`sync run ${syncRunId} failed: ${message}`, 'SyncFailed');
  }
}
