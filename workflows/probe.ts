import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { probeTestSystem: probe, testSystemResidue, finishRelease } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 2 } });

export interface ProbeInput {
  systemId: number;
  /** Undo what the quarantining test left on the host (and verify it) when the host is up. */
  restore?: boolean;
  requestedBy?: string;
  /** For the restore's activity timeout: TEST_ACTION_TIMEOUT_SECONDS and TEST_REBOOT_TIMEOUT_SECONDS. */
  timing?: { actionTimeoutSeconds: number; rebootTimeoutSeconds: number; pollSeconds: number };
}

export interface ProbeResult {
  up: boolean;
  /** The quarantine was lifted (recorded in operator_actions either way). */
  released: boolean;
  /** Why the host cannot be released (down, or still carrying a test's changes); empty when it can. */
  reasons: string[];
  /** What a restore did, when one ran. */
  restored?: { ok: boolean; steps: string[]; differences: string[] };
}

/**
 * Whether a quarantined test system can go back into rotation: its host answers (Salt, its exporter) and is
 * as it was before the test that quarantined it. With `restore`, that test's changes are undone and verified
 * first. The release (or its refusal) is recorded and takes effect here, so a request that stopped waiting
 * still gets its outcome. Run by POST /api/v1/test-systems/<id>/release.
 */
export async function probeTestSystem(input: ProbeInput): Promise<ProbeResult> {
  const actor = input.requestedBy ?? 'unknown';
  const health = await probe({ systemId: input.systemId });
  if (!health.up) {
    await finishRelease({ systemId: input.systemId, actor, restore: input.restore ?? false, reasons: health.reasons, restored: null });
    return { ...health, released: false };
  }
  let residue = await testSystemResidue({ systemId: input.systemId });
  let restored: ProbeResult['restored'];
  if (residue && input.restore) {
    const t = input.timing ?? { actionTimeoutSeconds: 600, rebootTimeoutSeconds: 600, pollSeconds: 5 };
    const { restoreTestSystem } = proxyActivities<Activities>({
      startToCloseTimeout: `${t.actionTimeoutSeconds * 2 + t.rebootTimeoutSeconds + 120} seconds`,
      heartbeatTimeout: `${Math.max(30, Math.ceil(t.pollSeconds * 4))} seconds`,
      retry: { maximumAttempts: 3 },
    });
    restored = await restoreTestSystem({ systemId: input.systemId, requestedBy: input.requestedBy ?? 'unknown' });
    residue = restored.ok ? null : await testSystemResidue({ systemId: input.systemId });
  }
  const reasons = residue
    ? [`it still carries what test ${residue.testId} (${residue.advisoryName}) changed: ${residue.differences.join('; ')}`]
    : [];
  const released = await finishRelease({ systemId: input.systemId, actor, restore: input.restore ?? false, reasons, restored: restored ?? null });
  return { up: true, released, reasons, ...(restored ? { restored } : {}) };
}
