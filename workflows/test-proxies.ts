import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { TestTiming } from './messages.js';

const seconds = (n: number) => `${Math.ceil(n)} seconds`;

/**
 * The activity stubs of the test engine, by how long a call may take and how hard it is retried.
 * `record` writes a person's action before it takes effect: it fails within seconds (so the person gets an
 * answer and both stores stay as they were) instead of retrying for minutes like `store`.
 */
export function testActivities(t: TestTiming) {
  const heartbeatTimeout = seconds(Math.max(5, t.pollSeconds * 4));
  return {
    store: proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
    }),
    record: proxyActivities<Activities>({
      startToCloseTimeout: '5 seconds',
      retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 3 },
    }),
    host: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.metricsRangeSeconds + 120),
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 },
    }),
    action: proxyActivities<Activities>({
      startToCloseTimeout: seconds(Math.max(t.actionTimeoutSeconds, t.rebootTimeoutSeconds * 2) + 120),
      heartbeatTimeout,
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 },
    }),
    /** A rollback: the old versions installed, maybe a reboot onto the old kernel, the added packages removed. */
    rollback: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.actionTimeoutSeconds * 2 + t.rebootTimeoutSeconds + 120),
      heartbeatTimeout,
      retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 4 },
    }),
    /** Waits (heartbeating) until the test system is at rest. */
    baseline: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.baselineTimeoutSeconds + t.metricsRangeSeconds + 60),
      heartbeatTimeout: seconds(Math.max(30, t.metricsRangeSeconds * 2)),
      retry: { initialInterval: '2 seconds', maximumInterval: '10 seconds', maximumAttempts: 4 },
    }),
    metrics: proxyActivities<Activities>({
      startToCloseTimeout: seconds(t.metricsRangeSeconds + 60),
      retry: { initialInterval: '2 seconds', maximumInterval: '10 seconds', maximumAttempts: 4 },
    }),
  };
}

export type TestActivityStubs = ReturnType<typeof testActivities>;
