import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { WaveSummary } from '../activities/deploy/batch-activities.js';
import { haltSignal, type DeploymentWaveInput } from './messages.js';

/**
 * One wave of a production rollout (id deploy-<queueId>.wave-<n>, a child of productionDeployment): its
 * batches run side by side, each: wait for its `earliest` (a durable timer; the maintenance-window hook says
 * when), take the restore point, ONE UYUNI action for all its systems, poll the action's system lists, reboot
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
  const batches = await store.waveBatches({ rolloutId, wave, requiresReboot: input.requiresReboot });
  await Promise.all(
    batches.map(async (b) => {
      const { earliest } = await store.batchEarliest({ systemIds: b.systemIds, maxWaitSeconds: Math.min(t.actionTimeoutSeconds, 60) });
      const wait = Date.parse(earliest) - Date.now();
      if (wait > 0) await condition(() => halted !== null, wait);
      if (halted !== null) return;
      const at = { rolloutId, wave, batch: b.batch };
      await host.deployBatchRestorePoint({ ...at, os: input.os, advisoryNames: [input.advisoryName] });
      await host.deployBatchSchedule({ ...at, earliest, errataIds: [input.errataId], advisoryNames: [input.advisoryName] });
      await polls.deployBatchPoll({ ...at, requiresReboot: input.requiresReboot, timing: t });
      if (b.requiresReboot) await reboots.deployBatchReboot({ ...at, timing: t });
      await host.deployBatchVerify({ ...at, os: input.os });
    }),
  );
  return store.finishWave({ rolloutId, queueId: input.queueId, wave });
}
