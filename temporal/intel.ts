import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import type { intelEnrichment } from '../workflows/index.js';
import { INTEL_WORKFLOW_TYPE, intelMoreSignal, intelProgressQuery, intelWorkflowId, type IntelInput, type IntelProgress, type IntelSummary } from '../workflows/intel-messages.js';

// Client side of the enrichment: wake it after a sync (signal-with-start: a pass in progress runs once more,
// none running starts one), run it now and wait (the ops CLI), and its progress.

export async function wakeIntel(client: Client, config: Readonly<Config>, trigger: IntelInput['trigger'] = 'sync'): Promise<string> {
  const handle = await client.workflow.signalWithStart<typeof intelEnrichment>(INTEL_WORKFLOW_TYPE, {
    workflowId: intelWorkflowId(config.temporal.taskQueue),
    taskQueue: config.temporal.taskQueue,
    args: [{ trigger }],
    signal: intelMoreSignal,
    workflowExecutionTimeout: '1 day',
  });
  return handle.workflowId;
}

/** Starts a pass (or joins the one running) and waits for its summary. */
export async function runIntelNow(client: Client, config: Readonly<Config>, input: IntelInput): Promise<IntelSummary> {
  const workflowId = intelWorkflowId(config.temporal.taskQueue);
  try {
    const handle = await client.workflow.start<typeof intelEnrichment>(INTEL_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowExecutionTimeout: '1 day',
    });
    return await handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = client.workflow.getHandle<typeof intelEnrichment>(workflowId);
    await running.signal(intelMoreSignal);
    return running.result();
  }
}

export async function intelProgress(client: Client, config: Readonly<Config>): Promise<{ workflowId: string; status: string; progress: IntelProgress | null }> {
  const workflowId = intelWorkflowId(config.temporal.taskQueue);
  try {
    const handle = client.workflow.getHandle(workflowId);
    const d = await handle.describe();
    const progress = d.status.name === 'RUNNING' ? await handle.query(intelProgressQuery) : ((await handle.result().catch(() => null)) as IntelProgress | null);
    return { workflowId, status: d.status.name, progress };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'NEVER_RUN', progress: null };
    throw err;
  }
}
