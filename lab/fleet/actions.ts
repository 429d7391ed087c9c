/**
 * UYUNI actions and their per-system life cycle (Queued → Picked Up → Completed | Failed).
 * Time advances lazily: every read calls `tick(now)`, which is O(1) until something is due,
 * so the XML-RPC server can call it on every request.
 */
import type { ActionKind, LabAction, SystemActionState } from './types.js';

export const FIRST_ACTION_ID = 50001;

/** What happens to the fleet when a system picks up or finishes an action. */
export interface ActionHooks {
  isUp(systemId: number): boolean;
  /** Called at pick-up; return 'stuck' to keep the action Picked Up for ever (a hung reboot). */
  pickUp(action: LabAction, state: SystemActionState, now: number): 'ok' | 'stuck';
  /** Must set state.status to Completed or Failed and may set resultMsg/resultCode. */
  complete(action: LabAction, state: SystemActionState, now: number): void;
  changed(): void;
}

export interface ActionSpec {
  kind: ActionKind;
  typeLabel: string;
  typeName: string;
  name: string;
  scheduler: string;
  errataIds?: readonly number[];
  packageIds?: readonly number[];
  systemIds: readonly number[];
  earliestMs: number;
}

interface Pending {
  action: LabAction;
  state: SystemActionState;
  /** Picked Up → done, kept so a blocked action can be re-timed when its system returns. */
  runMs: number;
}

export interface ActionTimings {
  pickupMs: number;
  completeMs: number;
  rebootMs: number;
}

export class ActionBook {
  private readonly actions = new Map<number, LabAction>();
  private readonly bySystem = new Map<number, number[]>();
  private pending: Pending[] = [];
  private nextDueMs = Number.POSITIVE_INFINITY;
  private nextId = FIRST_ACTION_ID;

  constructor(
    private readonly hooks: ActionHooks,
    private readonly timings: ActionTimings,
  ) {}

  get(id: number): LabAction | undefined {
    return this.actions.get(id);
  }

  /** Action ids touching a system, oldest first. */
  forSystem(systemId: number): readonly number[] {
    return this.bySystem.get(systemId) ?? [];
  }

  all(): IterableIterator<LabAction> {
    return this.actions.values();
  }

  create(spec: ActionSpec, now: number): LabAction {
    const start = Math.max(now, spec.earliestMs);
    const runMs = spec.kind === 'reboot' ? this.timings.rebootMs : this.timings.completeMs;
    const action: LabAction = {
      id: this.nextId++,
      kind: spec.kind,
      typeLabel: spec.typeLabel,
      typeName: spec.typeName,
      name: spec.name,
      scheduler: spec.scheduler,
      createdMs: now,
      earliestMs: spec.earliestMs,
      errataIds: spec.errataIds ?? [],
      packageIds: spec.packageIds ?? [],
      systems: new Map(),
      modifiedMs: now,
    };
    for (const systemId of spec.systemIds) {
      const pickupDueMs = start + this.timings.pickupMs;
      const state: SystemActionState = {
        systemId,
        status: 'Queued',
        pickupDueMs,
        completeDueMs: pickupDueMs + runMs,
        blocked: false,
        stuck: false,
      };
      action.systems.set(systemId, state);
      this.pending.push({ action, state, runMs });
      this.nextDueMs = Math.min(this.nextDueMs, pickupDueMs);
      const list = this.bySystem.get(systemId);
      if (list) list.push(action.id);
      else this.bySystem.set(systemId, [action.id]);
    }
    this.actions.set(action.id, action);
    this.hooks.changed();
    return action;
  }

  /** Advances every due transition up to `now`, in time order. */
  tick(now: number): void {
    if (now < this.nextDueMs) return;
    for (;;) {
      const due = this.pending
        .filter((p) => dueAt(p) <= now)
        .sort((a, b) => dueAt(a) - dueAt(b) || a.action.id - b.action.id || a.state.systemId - b.state.systemId);
      if (due.length === 0) break;
      for (const p of due) this.advance(p, now);
      this.pending = this.pending.filter((p) => p.state.status === 'Queued' || p.state.status === 'Picked Up');
    }
    this.nextDueMs = this.pending.reduce((min, p) => Math.min(min, dueAt(p)), Number.POSITIVE_INFINITY);
  }

  /** A system came back (reboot finished, recovered): its blocked actions can be picked up again. */
  unblock(systemId: number, now: number): void {
    for (const p of this.pending) {
      if (p.state.systemId !== systemId || !p.state.blocked) continue;
      p.state.blocked = false;
      p.state.pickupDueMs = now + this.timings.pickupMs;
      p.state.completeDueMs = p.state.pickupDueMs + p.runMs;
      this.nextDueMs = Math.min(this.nextDueMs, p.state.pickupDueMs);
    }
  }

  /** Ends a stuck action (e.g. after the lab power-cycles a hung system). */
  fail(actionId: number, systemId: number, message: string, now: number): void {
    const state = this.actions.get(actionId)?.systems.get(systemId);
    if (!state || state.status === 'Completed' || state.status === 'Failed') return;
    state.status = 'Failed';
    state.stuck = false;
    state.completedMs = now;
    state.resultMsg = message;
    state.resultCode = 1;
    this.pending = this.pending.filter((p) => p.state !== state);
    this.touch(actionId, now);
  }

  private advance(p: Pending, now: number): void {
    const { action, state } = p;
    if (state.status === 'Queued') {
      const at = state.pickupDueMs;
      if (!this.hooks.isUp(state.systemId)) {
        // A minion that is down cannot pick anything up; wait until it is back.
        state.blocked = true;
        state.pickupDueMs = Number.POSITIVE_INFINITY;
        state.completeDueMs = Number.POSITIVE_INFINITY;
        return;
      }
      state.status = 'Picked Up';
      state.pickedUpMs = at;
      if (this.hooks.pickUp(action, state, at) === 'stuck') {
        state.stuck = true;
        state.completeDueMs = Number.POSITIVE_INFINITY;
      }
      this.touch(action.id, at);
      return;
    }
    if (state.status === 'Picked Up' && !state.stuck) {
      const at = Math.min(state.completeDueMs, now);
      state.completedMs = at;
      this.hooks.complete(action, state, at);
      this.touch(action.id, at);
    }
  }

  private touch(actionId: number, at: number): void {
    const action = this.actions.get(actionId);
    if (action) action.modifiedMs = Math.max(action.modifiedMs, at);
    this.hooks.changed();
  }
}

function dueAt(p: Pending): number {
  if (p.state.status === 'Queued') return p.state.pickupDueMs;
  if (p.state.status === 'Picked Up' && !p.state.stuck) return p.state.completeDueMs;
  return Number.POSITIVE_INFINITY;
}
