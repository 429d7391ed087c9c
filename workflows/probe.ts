import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { probeTestSystem: probe } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 2 } });

/** Asks whether a test system's host is there (Salt answers, its exporter is up): run before a release. */
export async function probeTestSystem(input: { systemId: number }): Promise<{ up: boolean; reasons: string[] }> {
  return probe(input);
}
