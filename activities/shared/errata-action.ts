import { heartbeat, sleep } from '@temporalio/activity';
import type { UyuniClient } from '../uyuni/client.js';
import { UyuniInvalidErrataError } from '../uyuni/errors.js';
import { toApplicationFailure } from '../uyuni/failure.js';

// Applying an erratum on one system through UYUNI, for the test engine and the production rollout alike.
// Never twice: the caller keeps the action id before polling, and UYUNI refuses (fault 2600) an erratum that is
// already scheduled or no longer relevant, in which case the action it already has is adopted.

async function uyuniCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

/** Schedules the erratum, or finds the action UYUNI already has for it; `refused` when there is none. */
export async function scheduleErratumOnce(
  uyuni: UyuniClient,
  target: { systemId: number; errataId: number; advisoryName: string },
): Promise<{ actionId: number } | { refused: string }> {
  try {
    const [actionId] = await uyuni.scheduleApplyErrata([target.systemId], [target.errataId]);
    if (actionId === undefined) throw new Error('UYUNI returned no action id');
    return { actionId };
  } catch (err) {
    if (!(err instanceof UyuniInvalidErrataError)) throw toApplicationFailure(err);
    const events = await uyuniCall(() => uyuni.listSystemEvents(target.systemId));
    const existing = events.filter((e) => e.actionType === 'Patch Update' && e.name.includes(target.advisoryName)).sort((a, b) => b.id - a.id)[0];
    return existing ? { actionId: existing.id } : { refused: `UYUNI refused ${target.advisoryName} for system ${target.systemId}: ${err.message}` };
  }
}

export type ActionOutcome = { status: 'Completed' | 'Failed'; resultMsg: string | null } | { status: 'TimedOut'; lastStatus: string };

/** Polls the action on the system to Completed/Failed, heartbeating, until the deadline. */
export async function waitForAction(
  uyuni: UyuniClient,
  action: { systemId: number; actionId: number },
  timing: { pollSeconds: number; timeoutSeconds: number },
): Promise<ActionOutcome> {
  const deadline = Date.now() + timing.timeoutSeconds * 1000;
  for (;;) {
    const event = await uyuniCall(() => uyuni.getEventDetails(action.systemId, action.actionId));
    if (event.status === 'Completed' || event.status === 'Failed') return { status: event.status, resultMsg: event.resultMsg };
    if (Date.now() > deadline) return { status: 'TimedOut', lastStatus: event.status };
    heartbeat({ ...action, status: event.status });
    await sleep(timing.pollSeconds * 1000);
  }
}
