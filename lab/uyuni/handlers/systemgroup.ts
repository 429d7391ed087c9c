/** systemgroup.* — group discovery. */
import type { LabGroup, LabSystem } from '../../fleet/index.js';
import type { HandlerContext, MethodDef } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';
import { groupStruct, serverDetails, systemOverview } from '../structs.js';

function requireGroup(ctx: HandlerContext, name: string): LabGroup {
  const g = ctx.fleet.group(name);
  // UYUNI surfaces the missing group as an unhandled lookup exception.
  if (!g) throw uyuniFaults.unhandled(`com.redhat.rhn.common.hibernate.LookupException: Could not find server group with name: ${name}`);
  return g;
}

function members(ctx: HandlerContext, g: LabGroup): LabSystem[] {
  return g.systemIds.map((id) => ctx.fleet.system(id) as LabSystem);
}

export function systemgroupMethods(): MethodDef[] {
  return [
    {
      name: 'systemgroup.listAllGroups',
      cache: 'fleet',
      overloads: [{ params: ['session'], run: (ctx) => ctx.fleet.groups.map(groupStruct) }],
    },
    {
      name: 'systemgroup.listSystems',
      cache: 'fleet',
      overloads: [{ params: ['session', 'string'], run: (ctx, [, name]) => members(ctx, requireGroup(ctx, name as string)).map(serverDetails) }],
    },
    {
      name: 'systemgroup.listSystemsMinimal',
      cache: 'fleet',
      overloads: [
        {
          params: ['session', 'string'],
          run: (ctx, [, name]) => members(ctx, requireGroup(ctx, name as string)).map((s) => systemOverview(s, ctx.fleet)),
        },
      ],
    },
  ];
}
