/** schedule.* — org-wide action lists and per-action system lists (the polling side). */
import type { LabAction, LabSystem, SystemActionState } from '../../fleet/index.js';
import type { HandlerContext, MethodDef } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';
import { scheduleAction, scheduleSystem } from '../structs.js';

type Bucket = (st: SystemActionState) => boolean;
const inProgress: Bucket = (st) => st.status === 'Queued' || st.status === 'Picked Up';
const completed: Bucket = (st) => st.status === 'Completed';
const failed: Bucket = (st) => st.status === 'Failed';

function systemsIn(ctx: HandlerContext, actionId: number, bucket: Bucket) {
  const action = ctx.fleet.action(actionId);
  if (!action) throw uyuniFaults.noSuchAction(actionId);
  return [...action.systems.values()].filter(bucket).map((st) => scheduleSystem(ctx.fleet.system(st.systemId) as LabSystem, st, action));
}

function actionsWhere(ctx: HandlerContext, keep: (a: LabAction) => boolean) {
  const out = [];
  for (const a of ctx.fleet.allActions()) if (keep(a)) out.push(scheduleAction(a));
  return out;
}

const any = (a: LabAction, bucket: Bucket) => [...a.systems.values()].some(bucket);

export function scheduleMethods(): MethodDef[] {
  const perAction = (name: string, bucket: Bucket): MethodDef => ({
    name,
    cache: 'fleet',
    overloads: [{ params: ['session', 'int'], run: (ctx, [, id]) => systemsIn(ctx, id as number, bucket) }],
  });
  const orgWide = (name: string, keep: (a: LabAction) => boolean): MethodDef => ({
    name,
    cache: 'fleet',
    overloads: [{ params: ['session'], run: (ctx) => actionsWhere(ctx, keep) }],
  });
  return [
    perAction('schedule.listInProgressSystems', inProgress),
    perAction('schedule.listCompletedSystems', completed),
    perAction('schedule.listFailedSystems', failed),
    orgWide('schedule.listAllActions', () => true),
    orgWide('schedule.listInProgressActions', (a) => any(a, inProgress)),
    orgWide('schedule.listCompletedActions', (a) => any(a, completed)),
    orgWide('schedule.listFailedActions', (a) => any(a, failed)),
  ];
}
