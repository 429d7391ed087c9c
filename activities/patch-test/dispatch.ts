import type { ActivityDeps } from '../index.js';
import { recheckTestability } from '../../db/queries/dispatch.js';
import { approvalPolicy } from '../../db/queries/orchestrator-config.js';
import { claimAndStartBundle, loadBundleSettings } from '../../temporal/bundles.js';
import { loadTestSettings, testTimingInUse } from './settings.js';

/** At most this many tests started per run (a safety bound: each start takes one free test system). */
const MAX_STARTS = 100;

/** The auto-dispatcher: starts a test for each queued item a free test system can take now. */
export function createDispatchActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'temporal' | 'log'>) {
  const recheck = async () => {
    const settings = await loadTestSettings(deps.db, deps.config);
    return recheckTestability(deps.db, { retryAfterSeconds: settings.inconclusiveRetrySeconds, maxRetries: settings.inconclusiveMaxRetries });
  };
  return {
    /** Untestable / testable again / inconclusive to retry (see recheckTestability); after each sync and dispatch. */
    async recheckQueue(): Promise<Record<string, number>> {
      const moved = await recheck();
      if (Object.keys(moved).length) deps.log.info({ moved }, 'queue re-checked against the test systems');
      return moved;
    },

    async dispatchQueuedTests(): Promise<number[]> {
      await recheck();
      const started: number[] = [];
      const approval = await approvalPolicy(deps.db, deps.config.approval);
      const timing = await testTimingInUse(deps.db, deps.config);
      const settings = await loadBundleSettings(deps.db);
      // The same claim as POST /tests/start: the dispatcher and the API never pick the same item or system.
      // Each start takes the head of the queue, alone or in a bundle sized for its risk (temporal/bundles.ts).
      for (let i = 0; i < MAX_STARTS; i++) {
        const r = await claimAndStartBundle(deps.db, deps.temporal, deps.config, { requestedBy: 'auto-dispatch', approval, timing, settings });
        if (!r.started) break;
        started.push(...(r.members ?? [r.claim.queueId]));
      }
      if (started.length) deps.log.info({ queueIds: started }, 'auto-dispatch started tests');
      return started;
    },
  };
}
