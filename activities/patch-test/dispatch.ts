import type { ActivityDeps } from '../index.js';
import { dispatchable } from '../../db/queries/dispatch.js';
import { approvalPolicy } from '../../db/queries/orchestrator-config.js';
import { startPatchTest } from '../../temporal/tests.js';

/** The auto-dispatcher: starts a test for each queued item a free test system can take now. */
export function createDispatchActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'temporal' | 'log'>) {
  return {
    async dispatchQueuedTests(): Promise<number[]> {
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
