import type { ActivityDeps } from '../index.js';
import { dispatchable, recheckTestability } from '../../db/queries/dispatch.js';
import { loadTestSettings } from './settings.js';
import { approvalPolicy } from '../../db/queries/orchestrator-config.js';
import { startPatchTest } from '../../temporal/tests.js';

/** The auto-dispatcher: starts a test for each queued item a free test system can take now. */
export function createDispatchActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'temporal' | 'log'>) {
  return {
    /** Untestable / testable again / inconclusive to retry (see recheckTestability); after each sync and dispatch. */
    async recheckQueue(): Promise<Record<string, number>> {
      const settings = await loadTestSettings(deps.db, deps.config);
      const moved = await recheckTestability(deps.db, { retryAfterSeconds: settings.inconclusiveRetrySeconds, maxRetries: settings.inconclusiveMaxRetries });
      if (Object.keys(moved).length) deps.log.info({ moved }, 'queue re-checked against the test systems');
      return moved;
    },

    async dispatchQueuedTests(): Promise<number[]> {
      const settings = await loadTestSettings(deps.db, deps.config);
      await recheckTestability(deps.db, { retryAfterSeconds: settings.inconclusiveRetrySeconds, maxRetries: settings.inconclusiveMaxRetries });
      const started: number[] = [];
      const approval = await approvalPolicy(deps.db, deps.config.approval);
      for (const item of await dispatchable(deps.db)) {
        if (await startPatchTest(deps.temporal, deps.config, item.id, 'auto-dispatch', approval)) started.push(item.id);
      }
      if (started.length) deps.log.info({ queueIds: started }, 'auto-dispatch started tests');
      return started;
    },
  };
}
