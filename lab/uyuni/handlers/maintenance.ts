/**
 * maintenance.* — UYUNI's maintenance windows (uyuni-api.md §3.8; MaintenanceHandler): the read side the
 * orchestrator uses, plus assignment. Structs as MaintenanceHandler returns them: a schedule
 * {id, name, type, calendar?}, a calendar {id, label, ical, url?} (null members omitted).
 */
import type { HandlerContext, MethodDef } from '../dispatcher.js';
import { intList } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';

const scheduleOf = (ctx: HandlerContext, name: string) => {
  const s = ctx.fleet.maintenance.schedule(name);
  if (!s) throw uyuniFaults.maintenanceEntityNotFound(`Maintenance schedule ${name}`);
  return s;
};

export function maintenanceMethods(): MethodDef[] {
  return [
    { name: 'maintenance.listScheduleNames', cache: 'none', overloads: [{ params: ['session'], run: (ctx) => ctx.fleet.maintenance.scheduleNames() }] },
    {
      name: 'maintenance.getScheduleDetails',
      cache: 'none',
      overloads: [{
        params: ['session', 'string'],
        run: (ctx, [, name]) => {
          const s = scheduleOf(ctx, name as string);
          return { id: s.id, name: s.name, type: s.type, ...(s.calendar !== null ? { calendar: s.calendar } : {}) };
        },
      }],
    },
    {
      name: 'maintenance.listSystemsWithSchedule',
      cache: 'none',
      overloads: [{ params: ['session', 'string'], run: (ctx, [, name]) => ctx.fleet.maintenance.systemsWith(scheduleOf(ctx, name as string).name) }],
    },
    { name: 'maintenance.listCalendarLabels', cache: 'none', overloads: [{ params: ['session'], run: (ctx) => ctx.fleet.maintenance.calendarLabels() }] },
    {
      name: 'maintenance.getCalendarDetails',
      cache: 'none',
      overloads: [{
        params: ['session', 'string'],
        run: (ctx, [, label]) => {
          const c = ctx.fleet.maintenance.calendar(label as string);
          if (!c) throw uyuniFaults.maintenanceEntityNotFound(`Maintenance calendar ${label as string}`);
          return { id: c.id, label: c.label, ical: c.ical };
        },
      }],
    },
    {
      name: 'maintenance.retractScheduleFromSystems',
      cache: 'none',
      overloads: [{
        params: ['session', 'array'],
        run: (ctx, [, sids]) => {
          ctx.fleet.maintenance.unassign(intList(sids));
          return 1;
        },
      }],
    },
  ];
}
