import { fromPayloadsAtIndex } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { DeploymentInput } from '../workflows/messages.js';

// A rollout's policy (canary size, soak, waves, budget) is fixed when productionDeployment starts and lives in
// its start event only. It never changes, so each workflow's is read once (the first history event alone) and
// kept; the dashboard's deployment page polls without costing Temporal a history read each time.

const cache = new Map<string, DeploymentInput>();
const MAX_CACHED = 1_000;

/** The input productionDeployment `workflowId` was started with, or null when there is no such workflow. */
export async function deploymentInputOf(client: Client, workflowId: string): Promise<DeploymentInput | null> {
  const hit = cache.get(workflowId);
  if (hit) return hit;
  const history = await client.workflowService
    .getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId }, maximumPageSize: 1 })
    .catch(() => null);
  const started = history?.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) return null;
  const input = fromPayloadsAtIndex<DeploymentInput>(client.options.loadedDataConverter.payloadConverter, 0, started.input?.payloads);
  if (!input?.policy) return null;
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(workflowId, input);
  return input;
}
