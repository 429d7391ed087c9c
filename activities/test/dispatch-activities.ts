import type { ActivityDeps } from '../index.js';
import { dispatchable } from '../../db/queries/dispatch.js';
import { startPatchTest } from '../../temporal/tests.js';

/** The auto-dispatcher: starts a test for each queued item a free test system can take now. */
export function createDispatchActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'temporal' | 'log'>) {
  return {
    async dispatchQueuedTests(): Promise<number[]> {
      const started: number[] = [];
      for (const item of await dispatchable(deps.db)) {
        if (await startPatchTest(deps.temporal, deps.config, item.id, 'auto-dispatch')) started.push(item.id);
      }
      if (started.length) deps.log.info({ queueIds: started }, 'auto-dispatch started tests');
      return started;
    },
  };
}
