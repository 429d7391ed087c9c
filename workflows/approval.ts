import { allHandlersFinished, ApplicationFailure, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  approveSignal,
  decideUpdate,
  rejectSignal,
  rolledBackSignal,
  snoozeSignal,
  type ApprovalPolicy,
  type Decision,
  type DecisionInput,
  type DecisionResult,
} from './messages.js';
import type { TestActivityStubs } from './test-proxies.js';
import { reasonOf } from './test-run.js';
import type { TestView } from './test-view.js';

type DecisionRequest = DecisionInput & { decision: Decision };
export type ApprovalOutcome = 'approved' | 'rejected' | 'expired' | 'rolled_back';

/**
 * A passed test waiting for a person: approve / reject / snooze arrive as the `decide` Update (the API: a
 * refusal is an error the caller sees) or as signals (`temporal workflow signal`: a refusal is logged, recorded
 * in operator_actions and listed by the `status` query). Every decision is written to PostgreSQL *before* the
 * workflow acts on it; one that cannot be written is refused and changes nothing, so both stores agree.
 * Reminders every `reminderSeconds`, an expiry after `expirySeconds`, a snooze until a time.
 */
export class ApprovalDesk {
  private open = false;
  /** A decision is being written: others are refused until it is (no two decisions race). */
  private recording = false;
  private decided: DecisionRequest | null = null;
  private snoozedUntil: number | null = null;
  private rolledBack: { by: string; reason: string } | null = null;
  private decisions = 0;
  testId: number | null = null;

  /** A forced rollback (testRollback) ended the item's wait. */
  get rolledBackByForce(): boolean {
    return this.rolledBack !== null;
  }

  constructor(
    private readonly queueId: number,
    private readonly acts: TestActivityStubs,
    private readonly view: TestView,
  ) {
    setHandler(decideUpdate, (d) => this.apply(d, d.source ?? 'api'), {
      validator: (d) => {
        const why = this.refusal(d);
        if (why) throw ApplicationFailure.nonRetryable(why, 'DecisionRefused');
      },
    });
    for (const [signal, decision] of [[approveSignal, 'approve'], [rejectSignal, 'reject'], [snoozeSignal, 'snooze']] as const) {
      setHandler(signal, async (d) => {
        const request: DecisionRequest = { ...(d ?? { by: '' }), decision };
        const why = this.refusal(request);
        if (why) return this.refuse(request, why);
        await this.apply(request, request.source ?? 'cli').catch((err: unknown) => this.refuse(request, reasonOf(err)));
      });
    }
    setHandler(rolledBackSignal, (s) => {
      this.rolledBack = s;
      this.open = false;
    });
  }

  /** Why a decision cannot be taken now, or null. */
  private refusal(d: DecisionRequest): string | null {
    if (!this.open) return `queue item ${this.queueId} is not waiting for a decision (it is ${this.view.state.status})`;
    if (this.recording) return `another decision on queue item ${this.queueId} is being recorded`;
    if (typeof d.by !== 'string' || !d.by.trim()) return 'a decision needs `by`, the person who takes it';
    if (d.decision === 'snooze') {
      const until = Date.parse(d.until ?? '');
      if (!Number.isFinite(until) || until <= Date.now()) return 'a snooze needs `until`, a time in the future (ISO 8601)';
    }
    return null;
  }

  private async refuse(d: DecisionRequest, why: string): Promise<void> {
    const at = new Date().toISOString();
    this.view.refused({ at, action: d.decision, by: typeof d.by === 'string' ? d.by : '', why });
    // Best effort: the refusal is also in the query and the worker's log; a database outage must not fail the workflow.
    await this.acts.store
      .recordRefusal({ queueId: this.queueId, workflowId: workflowInfo().workflowId, action: d.decision, by: typeof d.by === 'string' ? d.by : '', why, input: d, source: d.source ?? 'cli' })
      .catch(() => undefined);
  }

  private async apply(d: DecisionRequest, source: 'api' | 'cli' | 'dashboard'): Promise<DecisionResult> {
    this.recording = true;
    let approvalId: number;
    try {
      approvalId = await this.acts.record.recordDecision({
        testId: this.testId as number, queueId: this.queueId, workflowId: workflowInfo().workflowId, decision: d.decision, by: d.by.trim(),
        reason: d.reason ?? null, until: d.decision === 'snooze' ? new Date(Date.parse(d.until as string)).toISOString() : null,
        requestId: d.requestId ?? `${workflowInfo().workflowId}/${workflowInfo().runId}/decision-${++this.decisions}`, source,
      });
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`the ${d.decision} decision could not be recorded, so it was not taken: ${reasonOf(err)}`, 'DecisionNotRecorded');
    } finally {
      this.recording = false;
    }
    // Recorded: now it takes effect.
    if (d.decision === 'snooze') this.snoozedUntil = Date.parse(d.until as string);
    else {
      this.decided = d;
      this.open = false;
    }
    const status = d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'snoozed';
    if (this.view.state.approval) {
      Object.assign(this.view.state.approval, { decision: d.decision, decidedBy: d.by, snoozedUntil: d.decision === 'snooze' ? d.until : null });
    }
    return { decision: d.decision, status, approvalId };
  }

  /** Pending approval until a person decides, the item expires, or a forced rollback ends it. */
  async awaitDecision(policy: ApprovalPolicy): Promise<ApprovalOutcome> {
    const { store } = this.acts;
    const testId = this.testId as number;
    const view = this.view;
    await store.openApproval({ testId, queueId: this.queueId });
    view.state.phase = 'approval';
    view.state.approval = { waiting: true, since: new Date().toISOString(), snoozedUntil: null, reminders: 0, decision: null, decidedBy: null };
    view.setStatus('pending_approval');
    this.open = true;
    const approval = view.state.approval;
    const deadline = Date.now() + policy.expirySeconds * 1000;
    while (!this.decided && !this.rolledBack) {
      const now = Date.now();
      if (now >= deadline) {
        // A decision being written when the deadline passes wins if it is recorded.
        await condition(() => !this.recording);
        if (this.decided || this.rolledBack) break;
        this.open = false;
        await store.expireApproval({ testId, queueId: this.queueId, workflowId: workflowInfo().workflowId });
        Object.assign(approval, { waiting: false, decision: 'expire', decidedBy: 'system' });
        view.setStatus('expired');
        return 'expired';
      }
      const until = this.snoozedUntil;
      if (until !== null) {
        if (view.state.status !== 'snoozed') view.setStatus('snoozed');
        approval.snoozedUntil = new Date(until).toISOString();
        const woke = await condition(() => this.decided !== null || this.rolledBack !== null || this.snoozedUntil !== until, Math.max(1, Math.min(until, deadline) - now));
        if (!woke && this.snoozedUntil === until && Date.now() >= until) {
          this.snoozedUntil = null;
          approval.snoozedUntil = null;
          approval.reminders++;
          await store.endSnooze({ testId, queueId: this.queueId });
          view.setStatus('pending_approval');
        }
        continue;
      }
      const woke = await condition(
        () => this.decided !== null || this.rolledBack !== null || this.snoozedUntil !== null,
        Math.max(1, Math.min(policy.reminderSeconds * 1000, deadline - now)),
      );
      if (!woke && Date.now() < deadline) {
        approval.reminders++;
        await store.remindApproval({ testId, queueId: this.queueId, reminder: approval.reminders });
      }
    }
    this.open = false;
    approval.waiting = false;
    await condition(allHandlersFinished);
    if (this.rolledBack) {
      view.setStatus('rolled_back');
      return 'rolled_back';
    }
    const outcome = (this.decided as DecisionRequest).decision === 'approve' ? 'approved' : 'rejected';
    view.setStatus(outcome);
    return outcome;
  }
}
