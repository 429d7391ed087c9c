import { condition, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { WaveBatch, WaveSummary } from '../activities/deploy/batch-activities.js';
import { haltSignal, type DeploymentWaveInput } from './messages.js';

/**
 * One wave of a production rollout (id deploy-<queueId>.wave-<n>, a child of productionDeployment): its
 * batches (cut by maintenance window) run side by side, each: wait for its `earliest` (a durable timer inside
 * every member's next window), take the restore point, ONE UYUNI action for all its systems, poll the action's system lists, reboot
 * when required, check the services. A wave is its own history, so a rollout of 10,000 systems never puts
 * more than one wave's few hundred events in one. A halt stops batches that have not started; batches in
 * flight finish (their actions are already in UYUNI).
 */
export async function productionWave(input: DeploymentWaveInput): Promise<WaveSummary> {
  const t = input.timing;
  const store = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { initialInterval: '1 second', maximumAttempts: 10 } });
  const retry = { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 6 };
  const heartbeatTimeout = `${Math.max(5, Math.ceil(t.pollSeconds * 4))} seconds`;
  // One Salt or UYUNI round for the whole batch: the activity heartbeats while it waits for the answer.
  const host = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout, retry });
  // The waits (the action, the reboots) heartbeat every poll: a dead worker is noticed within seconds.
  const polls = proxyActivities<Activities>({ startToCloseTimeout: `${t.actionTimeoutSeconds + 120} seconds`, heartbeatTimeout, retry });
  const reboots = proxyActivities<Activities>({ startToCloseTimeout: `${t.rebootTimeoutSeconds + 180} seconds`, heartbeatTimeout, retry });
  let halted: string | null = null;
  setHandler(haltSignal, ({ by, reason }) => {
    halted ??= `halted by ${by}: ${reason}`;
  });

  const { rolloutId, wave } = input;
  // Batches by maintenance window (issue 15): the wave is cut by its systems' next windows when it starts; each
  // batch sleeps until its `earliest` (a workflow timer: days if need be; a halt ends the wait), and systems UYUNI
  // still refuses outside their window (1334) come back as new batches at their next window, run the same way.
  const byWindow = patched('deploy-batches-by-window');
  const runBatch = async (b: WaveBatch, earliest: string) => {
    const at = { rolloutId, wave, batch: b.batch };
    await host.deployBatchRestorePoint({ ...at, os: input.os, advisoryNames: [input.advisoryName] });
    return host.deployBatchSchedule({ ...at, earliest, errataIds: [input.errataId], advisoryNames: [input.advisoryName], ...(byWindow ? { reschedule: true } : {}) });
  };
  const finishBatch = async (b: WaveBatch) => {
    const at = { rolloutId, wave, batch: b.batch };
    await polls.deployBatchPoll({ ...at, requiresReboot: input.requiresReboot, timing: t });
    if (b.requiresReboot) await reboots.deployBatchReboot({ ...at, timing: t });
    await host.deployBatchVerify({ ...at, os: input.os });
  };
  if (byWindow) {
    const windowed = async (b: WaveBatch): Promise<void> => {
      const earliest = b.earliest ?? new Date(Date.now()).toISOString();
      const wait = Date.parse(earliest) - Date.now();
      if (wait > 0) await condition(() => halted !== null, wait);
      if (halted !== null) return;
      const s = await runBatch(b, earliest);
      await Promise.all([finishBatch(b), ...s.rescheduled.map((m) => windowed({ ...m, requiresReboot: m.requiresReboot || b.requiresReboot }))]);
    };
    const batches = await store.waveBatches({ rolloutId, wave, requiresReboot: input.requiresReboot, byWindow: true });
    await Promise.all(batches.map(windowed));
    return store.finishWave({ rolloutId, queueId: input.queueId, wave });
  }
  // Rollouts started before: the window hook waits for windows opening within a minute at most.
  const batches = await store.waveBatches({ rolloutId, wave, requiresReboot: input.requiresReboot });
  await Promise.all(
    batches.map(async (b) => {
      const { earliest } = await store.batchEarliest({ systemIds: b.systemIds, maxWaitSeconds: Math.min(t.actionTimeoutSeconds, 60) });
      const wait = Date.parse(earliest) - Date.now();
      if (wait > 0) await condition(() => halted !== null, wait);
      if (halted !== null) return;
      await runBatch(b, earliest);
      await finishBatch(b);
    }),
  );
  return store.finishWave({ rolloutId, queueId: input.queueId, wave });
}
