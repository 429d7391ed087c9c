import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/context.js';

// notificationEndpoint before the batch delivery (one notifyAttempt activity per attempt, notifyClaim between)
// is still the path of every delivery workflow run started before it: `patched('notify-batch-delivery')` keeps
// it (workflows/notify.ts). This history is such a run — recorded with that code (commit a749fab) by
// bench/notify (40 events, max_concurrency 4), still open, as every delivery workflow in production is — and
// must replay against the current bundle. Kept apart from histories/ (which `npm run replay:record` rewrites
// from the current code) until the patch is deprecated; then delete it with the old path.
const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'legacy', 'notify-per-attempt.notificationEndpoint.json');

describe('a delivery workflow run of the per-attempt loop (before notify-batch-delivery)', () => {
  const history = JSON.parse(readFileSync(FILE, 'utf8')) as { events: Record<string, { activityType?: { name: string }; markerName?: string } | undefined>[] };

  it('is what it claims: per-attempt activities, no patch marker', () => {
    const scheduled = history.events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name] : []));
    expect(new Set(scheduled)).toEqual(new Set(['notifyClaim', 'notifyAttempt']));
    expect(scheduled.filter((t) => t === 'notifyAttempt').length).toBeGreaterThanOrEqual(40);
    expect(history.events.some((e) => e.markerRecordedEventAttributes)).toBe(false);
  });

  it('replays against the current workflow code without a nondeterminism error', async () => {
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, 'notify-endpoint-1');
  }, 60_000);
});
