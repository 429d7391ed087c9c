// Everything a workflow and its callers (API, CLI, tests) must agree on, defined once.
// Pure module: imported by workflow code, so only @temporalio/common and @temporalio/workflow APIs.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** Custom search attributes: make `temporal workflow list --query` and the Web UI filters useful. */
export const SA = {
  patchStatus: defineSearchAttributeKey('PatchStatus', 'KEYWORD'),
  advisoryName: defineSearchAttributeKey('AdvisoryName', 'KEYWORD'),
  targetOs: defineSearchAttributeKey('TargetOs', 'KEYWORD'),
  queueId: defineSearchAttributeKey('QueueId', 'INT'),
  testSystem: defineSearchAttributeKey('TestSystem', 'KEYWORD'),
  testPhase: defineSearchAttributeKey('TestPhase', 'KEYWORD'),
  /** The bundle a run belongs to (its root), and the run's role in the bisection tree. */
  bundleId: defineSearchAttributeKey('BundleId', 'INT'),
  bundleKind: defineSearchAttributeKey('BundleKind', 'KEYWORD'),
} as const;

export const SEARCH_ATTRIBUTES = Object.values(SA);

export const workflowIds = {
  selfTest: (nonce: string) => `self-test-${nonce}`,
  queue: (requestId: string) => `queue-${requestId}`,
  patchTest: (queueId: number) => `patch-test-${queueId}`,
  /** A bundle's root run; its bisection's nodes are `bundle-<id>.<n>[.<n>…]` (the tree in their ids too). */
  bundle: (bundleId: number) => `bundle-${bundleId}`,
  testRollback: (testId: number) => `test-rollback-${testId}`,
  dispatcher: () => 'test-dispatcher',
  deployment: (queueId: number) => `deploy-${queueId}`,
  deploymentRollback: (queueId: number) => `deploy-rollback-${queueId}`,
  /** One wave of a rollout, a child of deploy-<queueId> (its own bounded history). */
  deploymentWave: (queueId: number, wave: number) => `deploy-${queueId}.wave-${wave}`,
  /** A dry run: the plan computed and stored, nothing started. */
  deploymentPlan: (queueId: number) => `deploy-plan-${queueId}`,
  probe: (systemId: number, nonce: string) => `probe-test-system-${systemId}-${nonce}`,
} as const;

// --- uyuniSync ---------------------------------------------------------------------------------------

export const SYNC_SCHEDULE_ID = 'uyuni-sync';
export const SYNC_WORKFLOW_TYPE = 'uyuniSync';

export type SyncTrigger = 'schedule' | 'api' | 'cli' | 'startup' | 'manual';

export interface SyncInput {
  trigger: SyncTrigger;
  /** How hard to retry a failing UYUNI chunk (UYUNI_RETRY_*); the starter passes the configured values. */
  uyuniRetry?: { maximumAttempts: number; initialIntervalMs: number };
}

export const DEFAULT_UYUNI_RETRY = { maximumAttempts: 6, initialIntervalMs: 2_000 } as const;

export interface SyncProgress {
  phase: 'starting' | 'groups' | 'systems' | 'errata' | 'details' | 'commit' | 'done' | 'failed';
  syncRunId: number | null;
  groups: { done: number; total: number };
  systems: { done: number; total: number };
  /** Distinct advisories seen so far (errata), then advisories whose details were fetched. */
  errata: { seen: number; detailsDone: number; detailsTotal: number };
  uyuniCalls: number;
  errors: number;
}

export interface SyncSummary {
  syncRunId: number;
  groups: number;
  systems: number;
  errata: number;
  inserted: number;
  updated: number;
  cvesFetched: number;
  uyuniCalls: number;
  durationMs: number;
  errors: { scope: string; message: string }[];
}

export const syncProgressQuery = defineQuery<SyncProgress>('progress');

// --- patchTest ---------------------------------------------------------------------------------------

export type TestPhaseName = 'lease' | 'snapshot' | 'patch' | 'reboot' | 'validate' | 'services' | 'rollback' | 'verify_rollback';
export type PhaseState = 'pending' | 'running' | 'passed' | 'failed' | 'skipped';

/** How long things may take; the starter fills it from the configuration (tests and the lab shorten it). */
export interface TestTiming {
  /** Wait after patching (and reboot) before the after-metrics. */
  settleSeconds: number;
  /** Range over which before/after metrics are averaged. */
  metricsRangeSeconds: number;
  /** rate() window for CPU; must cover several scrapes. */
  metricsWindowSeconds: number;
  pollSeconds: number;
  actionTimeoutSeconds: number;
  rebootTimeoutSeconds: number;
  /** How often a test waiting for a free test system looks again. */
  leaseWaitSeconds: number;
  /** Longest wait for the test system to be at rest before the baseline (then: inconclusive). */
  baselineTimeoutSeconds: number;
}

/** How a passed test waits for a person (orchestrator_config approval.*). */
export interface ApprovalPolicy {
  reminderSeconds: number;
  expirySeconds: number;
}

export interface PatchTestInput {
  queueId: number;
  requestedBy: string;
  timing: TestTiming;
  /** Wait for approve / reject / snooze after a pass. Absent: a test-only run that ends at `passed`. */
  approval?: ApprovalPolicy;
  /** Start the next queued tests when this one frees its system (TEST_AUTO_DISPATCH). */
  autoDispatch?: boolean;
  /**
   * Tested already, in a bundle run that passed and restored its test system (workflows/bundle.ts): this
   * workflow only takes the approval and the rollout; a rejection has nothing to undo.
   */
  pretested?: { testId: number; bundleId: number };
}

export interface PhaseView {
  phase: TestPhaseName;
  state: PhaseState;
  startedAt?: string;
  completedAt?: string;
  summary?: string;
}

export interface TestStatusView {
  queueId: number;
  testId: number | null;
  advisoryName: string | null;
  targetOs: string | null;
  status: PatchStatusValue;
  phase: TestPhaseName | 'approval' | 'done';
  testSystem: { id: number; name: string } | null;
  waitingForSystem: boolean;
  /**
   * issue 15: the test system's UYUNI maintenance window the test waits for (`waiting`) or patches in (`open`);
   * absent/null when the system has no schedule.
   */
  maintenanceWindow?: { schedule: string; opensAt: string; closesAt: string; state: 'waiting' | 'open' } | null;
  rollbackType: 'package' | 'snapshot' | null;
  failure: { phase: TestPhaseName; reason: string } | null;
  phases: PhaseView[];
  approval: ApprovalView | null;
  /** Signals and Updates this workflow refused (the last 20): who asked for what, and why it was refused. */
  refusals: Refusal[];
}

/** The PatchStatus search attribute's values: the queue item's status as the workflow knows it. */
export type PatchStatusValue =
  | 'testing' | 'passed' | 'failed' | 'rolled_back' | 'inconclusive' | 'untestable' | 'pending_approval' | 'snoozed' | 'approved' | 'rejected'
  | 'expired' | 'promoting' | 'prod_applied' | 'completed' | 'halted' | 'rolling_back' | 'prod_rolled_back' | 'prod_rollback_failed';

export interface Refusal {
  at: string;
  action: string;
  by: string;
  why: string;
}

export interface ApprovalView {
  /** True while a decision is accepted (pending or snoozed). */
  waiting: boolean;
  since: string;
  snoozedUntil: string | null;
  reminders: number;
  decision: Decision | 'expire' | null;
  decidedBy: string | null;
}

export interface TestResult {
  testId: number;
  status: 'passed' | 'failed' | 'rolled_back' | 'inconclusive' | 'untestable' | 'approved' | 'rejected' | 'expired';
  failure: { phase: TestPhaseName; reason: string } | null;
  rollbackType: 'package' | 'snapshot' | null;
  rollbackVerified: boolean | null;
  /** The production rollout's result, for an approved and deployed patch. */
  deployment?: DeploymentResult;
  /** A rejected or expired patch undone on its test system: verified, or why not. */
  undone?: { ok: boolean; reason?: string };
  /** What a failure is blamed on (only `patch` counts against an erratum). */
  cause?: 'patch' | 'test_system' | 'unknown';
}

export const testStatusQuery = defineQuery<TestStatusView>('status');
/** Sent by a forced rollback of a passed test, so the test (waiting for approval) ends as rolled back. */
export const rolledBackSignal = defineSignal<[{ by: string; reason: string }]>('rolledBack');

// --- approval ------------------------------------------------------------------------------------------

export type Decision = 'approve' | 'reject' | 'snooze';

export interface DecisionInput {
  by: string;
  reason?: string;
  /** snooze: ISO time until which the item sleeps. */
  until?: string;
  /** Makes the decision's record idempotent (the API sends one; a CLI signal gets one from the workflow). */
  requestId?: string;
  source?: 'api' | 'cli' | 'dashboard';
}

export interface DecisionResult {
  decision: Decision;
  status: 'approved' | 'rejected' | 'snoozed';
  approvalId: number;
}

/** For `temporal workflow signal --name approve|reject|snooze --input '{"by":"alice","reason":"..."}'`. */
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export const snoozeSignal = defineSignal<[DecisionInput]>('snooze');
/** The API's race-free path: the validator refuses a decision when the test is not waiting for one. */
export const decideUpdate = defineUpdate<DecisionResult, [DecisionInput & { decision: Decision }]>('decide');

// --- production deployment -----------------------------------------------------------------------------

/** The rollout policy (orchestrator_config deploy.*), fixed when the deployment starts. */
export interface DeploymentPlanPolicy {
  /** Canary systems per production group (0: no canary wave). */
  canarySize: number;
  soakSeconds: number;
  waveSize: number;
  failureBudgetCount: number;
  failureBudgetPercent: number;
  /** Systems per UYUNI action (deploy.batch_size); absent in requests recorded before batches: 100. */
  batchSize?: number;
  /** Percent of each production group in the canary; when > 0 it replaces canarySize (deploy.canary_fraction). */
  canaryFraction?: number;
  /** Judge each wave after its soak (deploy.verdict); absent: off. */
  verdict?: boolean;
  /** verdict.marginal_reminder_hours in seconds: how often a rollout paused by a wave verdict reminds. */
  verdictReminderSeconds?: number;
}

export interface DeploymentInput {
  queueId: number;
  advisoryName: string;
  errataId: number;
  targetOs: string;
  requiresReboot: boolean;
  requestedBy: string;
  policy: DeploymentPlanPolicy;
  timing: TestTiming;
  /** A rollout of a set (a patch day): the other approved errata of the OS it carries, one UYUNI action per system for all. */
  members?: CarriedErratum[];
}

export interface CarriedErratum {
  queueId: number;
  errataId: number;
  advisoryName: string;
  requiresReboot: boolean;
}

/** To a member of a set rollout, from the carrier's patchTest once the set's requests are recorded: it is carried. */
export const carriedBySignal = defineSignal<[{ carrier: number; by: string; policy: DeploymentPlanPolicy }]>('carriedBy');
/** To a member of a set rollout: the rollout that carried it has ended (sent by the carrier's patchTest). */
export const carriedRolloutDoneSignal = defineSignal<[DeploymentResult]>('carriedRolloutDone');

export interface DeploymentView {
  queueId: number;
  status: 'planning' | 'promoting' | 'halted' | 'completed';
  targets: number;
  waves: DeploymentWaveView[];
  applied: number;
  failed: number;
  budget: { count: number; percent: number; used: number; exceeded: boolean };
  haltReason: string | null;
  /** The current (or last) pause for a person's decision on a wave verdict; absent: none so far. */
  verdictPause?: VerdictPauseView;
}

/** One wave in the rollout's status query: counts only (the systems are in patch_deployments). */
export interface DeploymentWaveView {
  wave: number;
  /** How many systems the wave holds. */
  systems: number;
  state: 'pending' | 'running' | 'done' | 'skipped';
  batches?: number;
  /** Systems per production group. */
  groups?: Record<string, number>;
  applied?: number;
  failed?: number;
  /** The wave verdicts per group (deploy.verdict on). */
  verdicts?: { group: string; verdict: 'pass' | 'marginal' | 'fail' | 'nodata'; decision: 'continue' | 'pause' | 'halt'; score: number | null; reason: string; verdictId: number; personDecided?: 'continue' | 'halt' }[];
}

/** productionWave's input: one wave of the rollout deploy-<queueId>, in batches. */
export interface DeploymentWaveInput {
  rolloutId: string;
  queueId: number;
  wave: number;
  errataId: number;
  advisoryName: string;
  requiresReboot: boolean;
  os: string;
  timing: TestTiming;
}

export interface DeploymentResult {
  status: 'completed' | 'halted';
  targets: number;
  applied: number;
  failed: number;
  skipped: number;
  haltReason: string | null;
}

export const deploymentStatusQuery = defineQuery<DeploymentView>('status');
/** Stop starting new waves (a rollback asks for it); systems in flight finish their wave. */
export const haltSignal = defineSignal<[{ by: string; reason: string }]>('halt');
/** POST /api/v1/deployments: an approved test starts its productionDeployment child. */
export const deployUpdate = defineUpdate<{ workflowId: string }, [DeployRequest]>('deploy');

export interface DeployRequest {
  by: string;
  policy: DeploymentPlanPolicy;
  /** Makes the request's record idempotent. */
  requestId?: string;
  source?: 'api' | 'cli' | 'dashboard';
  /** A set rollout: the queue items this item's rollout carries with it (approved, same OS). */
  members?: number[];
  /** A set rollout: this item is carried by that queue item's rollout (deploy-<carriedBy>). */
  carriedBy?: number;
}

// --- auto-dispatch -------------------------------------------------------------------------------------

export interface DispatcherInput {
  /** The safety sweep: a dispatch round at least this often, even when nothing woke the dispatcher. */
  sweepSeconds: number;
  /** Rounds done by earlier runs (carried over continue-as-new). */
  rounds?: number;
}

export interface DispatcherStatus {
  rounds: number;
  lastRoundAt: string | null;
  lastStarted: number[];
  stopped: boolean;
}

/** Something changed (a test system freed, items queued, a sync done): dispatch now. */
export const wakeDispatchSignal = defineSignal('wake');
/** TEST_AUTO_DISPATCH turned off: the dispatcher ends. */
export const stopDispatchSignal = defineSignal('stop');
export const dispatcherStatusQuery = defineQuery<DispatcherStatus>('status');

// --- notification delivery (workflows/notify.ts) ---------------------------------------------------------

/** One long-lived delivery workflow per endpoint: `notify-endpoint-<id>`. */
export const notifyEndpointWorkflowId = (endpointId: number) => `notify-endpoint-${endpointId}`;

export interface NotifyEndpointInput {
  endpointId: number;
  /** Looks for due deliveries at least this often when nothing woke it (NOTIFY_SWEEP_SECONDS). */
  sweepSeconds: number;
  /** Carried over continue-as-new. */
  totals?: NotifyEndpointStatus['totals'];
}

export interface NotifyEndpointStatus {
  endpointId: number;
  state: 'active' | 'disabled' | 'gone';
  /** A notifyDeliver run (or, in a run of the per-attempt loop, an attempt) is under way. */
  delivering: boolean;
  /** Attempts in flight and claimed ones waiting: known to the per-attempt loop only (null: inside notifyDeliver). */
  inFlight: number | null;
  queued: number | null;
  concurrency: number;
  nextDueAt: string | null;
  totals: { attempts: number; delivered: number; retrying: number; failed: number; activityFailures: number };
}

/** New deliveries may be due (new events, a redelivery, the endpoint enabled): look now. */
export const notifyWakeSignal = defineSignal('wake');
export const notifyEndpointStatusQuery = defineQuery<NotifyEndpointStatus>('status');

// --- a wave verdict that waits for a person (workflows/verdict-pause.ts) -------------------------------

export type VerdictDecisionKind = 'continue' | 'halt';

export interface VerdictDecisionInput {
  /** The verdict the decision is about (a rollout refuses a decision on any other). */
  verdictId: number;
  decision: VerdictDecisionKind;
  /** The person. */
  by: string;
  reason?: string | null;
  /** Idempotency of the record (the API passes its request id). */
  requestId?: string;
  source?: 'api' | 'cli' | 'dashboard';
}

export interface VerdictDecisionResult {
  verdictId: number;
  decision: VerdictDecisionKind;
  by: string;
}

/** A person's decision on a marginal (or nodata) wave verdict: continue the rollout or halt it. Refused unless that verdict waits. */
export const verdictDecideUpdate = defineUpdate<VerdictDecisionResult, [VerdictDecisionInput]>('verdictDecide');

/** What the rollout's status query shows while a verdict waits. */
export interface VerdictPauseView {
  verdictId: number;
  waiting: boolean;
  since: string;
  reminders: number;
  decision: VerdictDecisionKind | null;
  decidedBy: string | null;
}
