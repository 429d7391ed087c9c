import { heartbeat, sleep } from '@temporalio/activity';
import type { SaltClient } from '../salt/client.js';
import type { UyuniClient } from '../uyuni/client.js';

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

/**
 * Reboots a system through UYUNI (system.scheduleReboot) and waits for the proof (a later boot time). Only
 * schedules when the host still runs the boot it had (`bootBefore`, or the one it reports now), so a retried
 * activity does not reboot it twice.
 */
export async function rebootThroughUyuni(
  uyuni: Pick<UyuniClient, 'scheduleReboot'>,
  salt: SaltClient,
  target: { systemId: number; minion: string },
  timing: { timeoutSeconds: number; pollSeconds: number; signal?: AbortSignal; bootBefore?: number },
): Promise<{ back: boolean; sinceT?: number; bootBefore: number }> {
  const now = await salt.uptime(target.minion, timing.signal ? { signal: timing.signal } : {}).catch(() => ({ kind: 'no-answer' as const }));
  const bootBefore = timing.bootBefore ?? (now.kind === 'up' ? now.sinceT : 0);
  if (now.kind === 'up' && now.sinceT <= bootBefore) await uyuni.scheduleReboot(target.systemId, new Date());
  const result = await waitForBoot(salt, target.minion, bootBefore, timing);
  return { ...result, bootBefore };
}
