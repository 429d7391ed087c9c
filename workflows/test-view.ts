import { upsertSearchAttributes } from '@temporalio/workflow';
import { SA, type PhaseView, type TestPhaseName, type TestStatusView } from './messages.js';

export const TEST_PHASES: TestPhaseName[] = ['lease', 'snapshot', 'patch', 'reboot', 'validate', 'services', 'rollback', 'verify_rollback'];

/**
 * The live state of a test that its `status` query returns, and the search attributes that follow it
 * (PatchStatus, TestPhase), changed together so the Web UI and the query never disagree.
 */
export class TestView {
  readonly state: TestStatusView;

  constructor(queueId: number) {
    this.state = {
      queueId,
      testId: null,
      advisoryName: null,
      targetOs: null,
      status: 'testing',
      phase: 'lease',
      testSystem: null,
      waitingForSystem: false,
      rollbackType: null,
      failure: null,
      phases: TEST_PHASES.map((phase): PhaseView => ({ phase, state: 'pending' })),
      approval: null,
      refusals: [],
    };
  }

  private phaseOf(p: TestPhaseName): PhaseView {
    return this.state.phases.find((x) => x.phase === p) as PhaseView;
  }

  enter(p: TestPhaseName): void {
    this.state.phase = p;
    Object.assign(this.phaseOf(p), { state: 'running', startedAt: new Date().toISOString(), completedAt: undefined, summary: undefined });
    upsertSearchAttributes([{ key: SA.testPhase, value: p }]);
  }

  leave(p: TestPhaseName, state: PhaseView['state'], summary?: string): void {
    Object.assign(this.phaseOf(p), { state, completedAt: new Date().toISOString(), ...(summary ? { summary } : {}) });
  }

  /** The test's phases are over (TestPhase=done, so the Web UI never shows a phase long finished). */
  done(): void {
    this.state.phase = 'done';
    upsertSearchAttributes([{ key: SA.testPhase, value: 'done' }]);
  }

  setStatus(status: TestStatusView['status']): void {
    this.state.status = status;
    upsertSearchAttributes([{ key: SA.patchStatus, value: status }]);
  }

  /** A refused signal or Update, kept for the `status` query (the last 20). */
  refused(r: TestStatusView['refusals'][number]): void {
    this.state.refusals.push(r);
    if (this.state.refusals.length > 20) this.state.refusals.shift();
  }
}
