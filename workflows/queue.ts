import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { QueueRequest } from '../activities/queue/queue-activities.js';
import { wakeDispatcher } from './dispatch.js';

// Short: the API waits for it. UYUNI down must answer 503 within seconds, not retry for minutes.
const uyuni = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  scheduleToCloseTimeout: '60 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3 },
});
const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 5 },
});

/** Queues advisories: packages fetched from UYUNI on demand, Success Score and risk profile, queue rows. */
export async function queuePatches(request: QueueRequest): Promise<number[]> {
  await uyuni.fetchErrataPackages({ advisories: [...new Set(request.items.map((i) => i.advisoryName))] });
  const ids = await store.insertQueueItems(request);
  await wakeDispatcher();
  return ids;
}
