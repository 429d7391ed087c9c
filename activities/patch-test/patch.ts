import { cancellationSignal } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { getTest, phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { diffInventory, type InventoryChanges } from '../../domain/package-inventory.js';
import { scheduleErratumOnce, waitForAction } from '../shared/errata-action.js';
import { retractAdvisory } from '../shared/retraction.js';
import { guarded } from './support.js';
import type { TestDeps, PhaseVerdict } from './types.js';

// The patch phase: the erratum applied through UYUNI, never twice.

export function createPatchActivities(deps: TestDeps) {
  const { db, uyuni, salt } = deps;

  const recordChanges = async (testId: number, minion: string): Promise<InventoryChanges | null> => {
    const before = (await getTest(db, testId))?.inventory_before;
    if (!before) return null;
    const after = await guarded(() => salt.listInventory(minion, { signal: cancellationSignal() }));
    const changes = diffInventory(before, after);
    await updateTest(db, testId, { inventory_changes: json(changes) });
    return changes;
  };

  /** Of a bundle's advisories, those UYUNI now says are retracted (fault 2602 names errata ids, not names). */
  const retractedOf = async (names: string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const name of names) {
      const d = await guarded(() => uyuni.getErrataDetails(name)).catch(() => null);
      if (d?.advisoryStatus === 'retracted') out.push(name);
    }
    return out;
  };

  return {
    /**
     * Applies the erratum through UYUNI and waits for the action. Never applies twice: the action id is kept
     * before polling, and UYUNI refuses (2600) an erratum that is already scheduled or no longer relevant,
     * in which case the existing action is adopted.
     */
    async patchPhase(input: {
      testId: number; systemId: number; minion: string; errataId: number; advisoryName: string; timing: { pollSeconds: number; actionTimeoutSeconds: number };
      /** A bundle: every errata id, applied in one action (system.scheduleApplyErrata takes a list), and their names. */
      errataIds?: number[]; advisoryNames?: string[];
    }): Promise<PhaseVerdict & { actionId: number | null; notApplicable?: boolean; retracted?: boolean; outsideWindow?: boolean }> {
      const { testId, systemId } = input;
      const errataIds = input.errataIds?.length ? input.errataIds : [input.errataId];
      const names = input.advisoryNames?.length ? input.advisoryNames : [input.advisoryName];
      await phaseStarted(db, testId, 'patch', { advisory: input.advisoryName, ...(names.length > 1 ? { advisories: names, errataIds } : {}) });
      let actionId = (await getTest(db, testId))?.uyuni_action_id ?? null;
      if (actionId === null) {
        const scheduled = await scheduleErratumOnce(uyuni, { systemId, errataIds, advisoryNames: names });
        if ('outsideWindow' in scheduled) {
          // 1334: the test system's maintenance window closed (or moved) since the workflow looked. Nothing was
          // scheduled; the phase stays open and the workflow waits for the next window, then tries again.
          return { ok: false, reason: scheduled.outsideWindow, actionId: null, outsideWindow: true };
        }
        if ('retracted' in scheduled) {
          // 2602: retracted by its vendor. Nothing was applied; recorded as a retraction (never the patch's failure).
          const retracted = names.length === 1 ? names : await retractedOf(names);
          for (const name of retracted.length ? retracted : names.slice(0, 1)) await retractAdvisory(deps, name, 'test');
          await phaseFinished(db, testId, 'patch', 'failed', { retracted: true, advisories: retracted }, scheduled.retracted);
          return { ok: false, reason: scheduled.retracted, actionId: null, retracted: true };
        }
        if ('refused' in scheduled) {
          // 2600 with no action to adopt: UYUNI no longer finds the erratum applicable to this system (a later
          // patch installed here covers it). Nothing was applied and nothing was judged: never the patch's failure.
          await phaseFinished(db, testId, 'patch', 'failed', { notApplicable: true }, scheduled.refused);
          return { ok: false, reason: scheduled.refused, actionId: null, notApplicable: true };
        }
        actionId = scheduled.actionId;
        await updateTest(db, testId, { uyuni_action_id: actionId });
      }
      const outcome = await waitForAction(uyuni, { systemId, actionId }, { pollSeconds: input.timing.pollSeconds, timeoutSeconds: input.timing.actionTimeoutSeconds });
      // What the action changed (upgraded, added, removed), from the whole inventory: what a rollback undoes,
      // now or later (a rejected patch is undone after other tests ran on the system).
      const changes = outcome.status === 'TimedOut' ? null : await recordChanges(testId, input.minion);
      if (outcome.status === 'Completed') {
        await phaseFinished(db, testId, 'patch', 'passed', { actionId, resultMessage: outcome.resultMsg, changes });
        return { ok: true, actionId };
      }
      const reason =
        outcome.status === 'TimedOut'
          ? `UYUNI action ${actionId} still ${outcome.lastStatus} after ${input.timing.actionTimeoutSeconds} s`
          : `UYUNI action ${actionId} failed: ${outcome.resultMsg ?? 'no message'}`;
      await phaseFinished(db, testId, 'patch', 'failed', { actionId, outcome }, reason);
      return { ok: false, reason, actionId };
    },
  };
}
