import { ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { intelMoreSignal, intelProgressQuery, type IntelInput, type IntelProgress, type IntelSummary } from './intel-messages.js';

// The enrichment after each sync (issue 14): KEV catalog (daily) and EPSS in chunks, then every erratum's
// severity and urgency at once (a KEV listing reaches the queue without waiting for NVD's rate limit), then
// NVD for new or stale CVEs (look-ups in chunks, or lastModified windows), then the ranking again. One workflow
// per task queue (`intel-enrichment`): a sync only signals it (signal-with-start), so no sync ever waits on
// NVD's rate limit; a sync that commits during a pass makes it run one more pass.

const LOOKUPS_PER_CHUNK = 50;
const EPSS_PER_CHUNK = 2_000;
const MAX_PASSES_PER_RUN = 20;

const quick = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 5 },
});
// A chunk of 50 look-ups takes 5 minutes at 5 requests / 30 s; it heartbeats while it waits for a slot.
const nvd = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 6 },
});

function failureText(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return err instanceof Error ? err.message : String(err);
}

export async function intelEnrichment(input: IntelInput = { trigger: 'sync' }): Promise<IntelSummary> {
  const progress: IntelProgress = {
    phase: 'starting',
    pass: 0,
    startedAt: new Date().toISOString(),
    kev: null,
    nvd: { mode: 'none', planned: 0, done: 0, requests: 0, windows: 0, windowsDone: 0, pages: 0, stored: 0, notFound: 0 },
    epss: { planned: 0, done: 0, scored: 0, requests: 0 },
    errataUpdated: 0,
    errors: [],
  };
  let more = 0;
  setHandler(intelMoreSignal, () => void more++);
  setHandler(intelProgressQuery, () => progress);
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      // One source down must not stop the others: the pass goes on and says what failed.
      progress.errors.push(`${what}: ${failureText(err)}`);
    }
  };

  let force = input.force ?? false;
  let seen = 0;
  for (let pass = 0; pass < MAX_PASSES_PER_RUN; pass++) {
    seen = more;
    progress.pass = (input.passes ?? 0) + pass + 1;

    progress.phase = 'kev';
    await attempt('kev', async () => {
      progress.kev = await quick.intelRefreshKev({ force });
    });

    progress.phase = 'epss';
    await attempt('epss', async () => {
      for (let first = true; ; first = false) {
        const r = await quick.intelEpss({ limit: EPSS_PER_CHUNK, force: force && first });
        if (first) progress.epss.planned = r.done + r.remaining;
        progress.epss.done += r.done;
        progress.epss.scored += r.scored;
        progress.epss.requests += r.requests;
        if (r.remaining === 0 || r.done === 0) break;
      }
    });

    progress.phase = 'rank';
    await attempt('rank', async () => {
      progress.errataUpdated += (await quick.intelRankErrata()).errataUpdated;
    });

    progress.phase = 'nvd';
    await attempt('nvd', async () => {
      const plan = await quick.intelPlanNvd();
      progress.nvd = { ...progress.nvd, mode: plan.mode, planned: plan.planned, windows: plan.windows.length, windowsDone: 0 };
      if (plan.mode === 'window') {
        for (const w of plan.windows) {
          const r = await nvd.intelNvdWindow(w);
          progress.nvd.windowsDone++;
          progress.nvd.pages += r.pages;
          progress.nvd.requests += r.requests;
          progress.nvd.stored += r.stored;
          progress.nvd.done += r.stored;
        }
        const first = plan.windows[0];
        const last = plan.windows[plan.windows.length - 1];
        if (first && last) await quick.intelNvdSweepDone({ sweptFrom: first.start, sweptTo: last.end });
      }
      if (plan.mode !== 'none') {
        // Look-ups: everything in lookup mode, and after a sweep the CVEs no window returned.
        for (;;) {
          const r = await nvd.intelNvdLookups({ limit: LOOKUPS_PER_CHUNK });
          progress.nvd.done += r.done;
          progress.nvd.requests += r.requests;
          progress.nvd.notFound += r.notFound;
          if (r.remaining === 0 || r.done === 0) break;
        }
      }
    });

    progress.phase = 'rank';
    await attempt('rank', async () => {
      progress.errataUpdated += (await quick.intelRankErrata()).errataUpdated;
    });

    force = false;
    // A sync that committed meanwhile may have brought new CVEs: one more pass. Otherwise done.
    if (!(await condition(() => more > seen, 1))) break;
  }
  // Still asked for more after MAX_PASSES_PER_RUN passes: start over with a fresh history.
  if (more > seen) await continueAsNew<typeof intelEnrichment>({ trigger: input.trigger, passes: progress.pass });
  progress.phase = 'done';
  return { ...progress, finishedAt: new Date().toISOString() };
}
