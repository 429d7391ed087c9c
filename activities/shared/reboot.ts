import { heartbeat, sleep } from '@temporalio/activity';
import type { SaltClient } from '../salt/client.js';

/**
 * Waits until the minion reports a boot after `bootBefore` (Salt `status.uptime`): the proof that a reboot
 * happened. False when the deadline passes first (the host did not come back).
 */
export async function waitForBoot(
  salt: SaltClient,
  minion: string,
  bootBefore: number,
  timing: { timeoutSeconds: number; pollSeconds: number; signal?: AbortSignal },
): Promise<{ back: boolean; sinceT?: number }> {
  const deadline = Date.now() + timing.timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const up = await salt.uptime(minion, timing.signal ? { signal: timing.signal } : {}).catch(() => ({ kind: 'no-answer' as const }));
    if (up.kind === 'up' && up.sinceT > bootBefore) return { back: true, sinceT: up.sinceT };
    heartbeat({ waitingForBoot: minion });
    await sleep(timing.pollSeconds * 1000);
  }
  return { back: false };
}
