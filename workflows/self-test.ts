import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { recordSelfTest } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface SelfTestResult {
  workflowId: string;
  databaseTime: string;
  workerIdentity: string;
}

/** Proves the whole chain end to end: server → worker → workflow → activity → PostgreSQL. */
export async function selfTest(): Promise<SelfTestResult> {
  const { databaseTime, workerIdentity } = await recordSelfTest();
  return { workflowId: workflowInfo().workflowId, databaseTime, workerIdentity };
}
