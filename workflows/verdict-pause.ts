import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { VerdictDecisionActivities } from '../activities/verdict/decision.js';
import { reasonOf } from './test-run.js';
import { verdictDecideUpdate, type VerdictDecisionInput, type VerdictDecisionKind, type VerdictDecisionResult, type VerdictPauseView } from './messages.js';

/**
 * A rollout paused by a marginal (or nodata) wave verdict until a person decides (issue 15): `continue` goes
 * on with the next wave, `halt` stops it. The decision arrives as the `verdictDecide` Update, is refused
 * (validator: the caller sees why) unless this verdict waits, and is written to PostgreSQL by an activity
 * *before* it takes effect — one that cannot be written changes nothing. While nobody decides, a reminder
 * every `reminderSeconds` (a `deployment.verdict_paused` notification, numbered). Self-contained: the rollout
 * constructs one at workflow start (registering the handler) and awaits `pause(...)` after a verdict whose
 * decision is `pause`.
 */
export class VerdictPause {
  private waitingFor: number | null = null;
  private recording = false;
  private decided: VerdictDecisionInput | null = null;
  private updates = 0;
  /** The current (or last) pause, for the workflow's status query. */
  view: VerdictPauseView | null = null;

  constructor(
    private readonly acts: Pick<VerdictDecisionActivities, 'recordVerdictDecision' | 'remindVerdict'>,
    private readonly workflowId: string,
  ) {
    setHandler(verdictDecideUpdate, (d) => this.apply(d), {
      validator: (d) => {
        const why = this.refusal(d);
        if (why) throw ApplicationFailure.nonRetryable(why, 'DecisionRefused');
      },
    });
  }

  private refusal(d: VerdictDecisionInput): string | null {
    if (this.waitingFor === null) return 'no verdict waits for a decision';
    if (d?.verdictId !== this.waitingFor) return `verdict ${String(d?.verdictId)} does not wait for a decision (verdict ${this.waitingFor} does)`;
    if (this.recording) return `a decision on verdict ${this.waitingFor} is being recorded`;
    if (d.decision !== 'continue' && d.decision !== 'halt') return 'decision must be continue or halt';
    if (typeof d.by !== 'string' || !d.by.trim()) return 'a decision needs `by`, the person who takes it';
    return null;
  }

  private async apply(d: VerdictDecisionInput): Promise<VerdictDecisionResult> {
    this.recording = true;
    try {
      await this.acts.recordVerdictDecision({
        verdictId: d.verdictId, decision: d.decision, by: d.by.trim(), reason: d.reason ?? null, source: d.source ?? 'api',
        requestId: d.requestId ?? `${this.workflowId}/verdict-${d.verdictId}/decision-${++this.updates}`,
      });
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`the ${d.decision} decision could not be recorded, so it was not taken: ${reasonOf(err)}`, 'DecisionNotRecorded');
    } finally {
      this.recording = false;
    }
    // Recorded: now it takes effect.
    this.decided = d;
    this.waitingFor = null;
    if (this.view) Object.assign(this.view, { waiting: false, decision: d.decision, decidedBy: d.by.trim() });
    return { verdictId: d.verdictId, decision: d.decision, by: d.by.trim() };
  }

  /**
   * Waits until a person decides on `verdictId`, reminding every `reminderSeconds` (> 0). The first notice
   * (reminder 0) goes out at once. Returns the recorded decision, or null when `stop` turned true first (a halt
   * signal: the rollout halts for its own reason, and this verdict stays undecided in PostgreSQL).
   */
  async pause(input: { verdictId: number; queueId: number; reminderSeconds: number; stop?: () => boolean }): Promise<{ decision: VerdictDecisionKind; by: string; reason: string | null } | null> {
    const stop = input.stop ?? (() => false);
    this.decided = null;
    this.waitingFor = input.verdictId;
    this.view = { verdictId: input.verdictId, waiting: true, since: new Date().toISOString(), reminders: 0, decision: null, decidedBy: null };
    const view = this.view;
    await this.acts.remindVerdict({ verdictId: input.verdictId, queueId: input.queueId, reminder: 0 });
    while (this.decided === null && !stop()) {
      const woke = await condition(() => this.decided !== null || stop(), Math.max(1, input.reminderSeconds) * 1000);
      if (!woke) {
        view.reminders++;
        await this.acts.remindVerdict({ verdictId: input.verdictId, queueId: input.queueId, reminder: view.reminders });
      }
    }
    if (this.decided === null) {
      // Stopped: no decision can arrive for it any more (unless one is being recorded: then it lands first).
      if (this.recording) await condition(() => !this.recording);
      if (this.decided === null) {
        this.waitingFor = null;
        view.waiting = false;
        return null;
      }
    }
    const d = this.decided as VerdictDecisionInput;
    return { decision: d.decision, by: d.by.trim(), reason: d.reason ?? null };
  }
}
