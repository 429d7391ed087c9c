import { heartbeat, sleep } from '@temporalio/activity';
import type { UyuniClient } from '../uyuni/client.js';
import { UyuniInvalidErrataError, UyuniNotInMaintenanceError, UyuniRetractedErrataError } from '../uyuni/errors.js';
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

/**
 * What scheduling gave: the action (new or adopted); `refused` (2600 with no action to adopt: not applicable
 * now); `retracted` (2602: an erratum of the set was retracted by its vendor — never a failure of the patch,
 * the caller records the retraction); `outsideWindow` (1334/11334: `earliest` is outside a target's maintenance
 * window — the caller reschedules into the next window, never a failure).
 */
export type ScheduleOutcome = { actionId: number } | { refused: string } | { retracted: string } | { outsideWindow: string };

/**
 * Schedules the errata (one action for all of them: system.scheduleApplyErrata takes a list), or finds the
 * action UYUNI already has for them; `refused` when there is none. With onlyRelevant, one erratum already
 * scheduled or no longer relevant refuses the whole call (fault 2600, uyuni-api.md): the newest Patch Update
 * event naming the first advisory (and, for several, "and <n-1> more", as UYUNI names such an action) is adopted.
 * `earliest` (default now): inside the system's maintenance window when it has one (uyuni-api.md §3.8).
 */
export async function scheduleErratumOnce(
  uyuni: UyuniClient,
  target: { systemId: number; errataId: number; advisoryName: string } | { systemId: number; errataIds: number[]; advisoryNames: string[] },
  earliest?: Date,
): Promise<ScheduleOutcome> {
  const errataIds = 'errataIds' in target ? target.errataIds : [target.errataId];
  const names = 'advisoryNames' in target ? target.advisoryNames : [target.advisoryName];
  try {
    const [actionId] = await uyuni.scheduleApplyErrata([target.systemId], errataIds, earliest);
    if (actionId === undefined) throw new Error('UYUNI returned no action id');
    return { actionId };
  } catch (err) {
    if (err instanceof UyuniRetractedErrataError) return { retracted: `UYUNI refused ${names.join(', ')} as retracted (fault ${err.faultCode}): ${err.faultString}` };
    if (err instanceof UyuniNotInMaintenanceError) {
      return { outsideWindow: `system ${target.systemId} is not in a maintenance window at ${(earliest ?? new Date()).toISOString()} (fault ${err.faultCode}): ${err.faultString}` };
    }
    if (!(err instanceof UyuniInvalidErrataError)) throw toApplicationFailure(err);
    const events = await uyuniCall(() => uyuni.listSystemEvents(target.systemId));
    // One erratum: "Patch Update: <advisory> - <synopsis>"; several: "Patch Update: <first> and <n-1> more".
    const ours = (name: string) => name.includes(names[0] as string) && (names.length === 1 || name.includes(`and ${names.length - 1} more`));
    const existing = events.filter((e) => e.actionType === 'Patch Update' && ours(e.name)).sort((a, b) => b.id - a.id)[0];
    if (existing) return { actionId: existing.id };
    // Several errata: UYUNI's fault does not say which one it refused. Its relevant errata for the system now do.
    let which = '';
    if (errataIds.length > 1) {
      const relevant = new Set((await uyuniCall(() => uyuni.getRelevantErrata(target.systemId))).map((e) => e.id));
      const gone = names.filter((_, i) => !relevant.has(errataIds[i] as number));
      which = gone.length ? `; not relevant to the system now: ${gone.join(', ')}` : '; every one is still relevant to the system (already scheduled?)';
    }
    return { refused: `UYUNI refused ${names.join(', ')} for system ${target.systemId}: ${err.message}${which}` };
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
