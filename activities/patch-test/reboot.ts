import { cancellationSignal } from '@temporalio/activity';
import { phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { waitForBoot } from '../shared/reboot.js';
import { guarded } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict } from './types.js';

// The reboot phase: a reboot through UYUNI, proved by the boot time.

export function createRebootActivities(deps: TestDeps) {
  const { db, uyuni, salt } = deps;
  const signal = () => cancellationSignal();

  return {
    /** Reboots through UYUNI and proves it by the boot time; a host that never comes back fails the phase. */
    async rebootPhase(input: { testId: number; system: LeasedSystem; bootBefore: number; timing: { pollSeconds: number; rebootTimeoutSeconds: number } }): Promise<PhaseVerdict & { hung: boolean; seconds?: number }> {
      const { testId, system } = input;
      await phaseStarted(db, testId, 'reboot', { bootBefore: input.bootBefore });
      const started = Date.now();
      const before = await guarded(() => salt.uptime(system.minion, { signal: signal() })).catch(() => ({ kind: 'no-answer' as const }));
      // Only schedule when the host still runs the old boot (a retry after the reboot must not reboot again).
      if (before.kind === 'up' && before.sinceT <= input.bootBefore) {
        await guarded(() => uyuni.scheduleReboot(system.systemId, new Date()));
      }
      const result = await waitForBoot(salt, system.minion, input.bootBefore, { timeoutSeconds: input.timing.rebootTimeoutSeconds, pollSeconds: input.timing.pollSeconds, signal: signal() });
      if (!result.back) {
        const reason = `${system.name} did not come back from its reboot within ${input.timing.rebootTimeoutSeconds} s`;
        await phaseFinished(db, testId, 'reboot', 'failed', { bootBefore: input.bootBefore }, reason);
        return { ok: false, hung: true, reason };
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      await updateTest(db, testId, { reboot_duration_seconds: seconds });
      await phaseFinished(db, testId, 'reboot', 'passed', { bootBefore: input.bootBefore, bootAfter: result.sinceT, seconds });
      return { ok: true, hung: false, seconds };
    },
  };
}
