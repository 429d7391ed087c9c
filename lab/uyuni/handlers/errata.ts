/** errata.* — advisory metadata by advisory name. Errata never change, so most of it caches for good. */
import type { Erratum } from '../../fleet/index.js';
import type { HandlerContext, MethodDef } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';
import { channelOf, errataDetails, packageStruct, systemOverview } from '../structs.js';

function requireErratum(ctx: HandlerContext, name: string): Erratum {
  const e = ctx.fleet.erratumByName(name);
  if (!e) throw uyuniFaults.patchNotFound(name);
  return e;
}

/** Packages of an erratum as errata.listPackages shows them. */
export function erratumPackages(ctx: HandlerContext, e: Erratum) {
  const built = Date.parse(`${e.issueDate}T06:00:00Z`) - 2 * 86_400_000;
  return ctx.fleet.packagesOf(e).map((p) => packageStruct(p, channelOf(e), built));
}

export function errataMethods(): MethodDef[] {
  const byName = (run: (ctx: HandlerContext, e: Erratum) => unknown) => [
    { params: ['session', 'string'] as const, run: (ctx: HandlerContext, args: unknown[]) => run(ctx, requireErratum(ctx, args[1] as string)) },
  ];
  return [
    // 'errata', not 'static': a retraction changes advisory_status.
    { name: 'errata.getDetails', cache: 'errata', overloads: byName((ctx, e) => errataDetails(e, ctx.fleet.advisoryStatus(e))) },
    { name: 'errata.listCves', cache: 'static', overloads: byName((_ctx, e) => [...e.cves]) },
    { name: 'errata.listPackages', cache: 'static', overloads: byName((ctx, e) => erratumPackages(ctx, e)) },
    {
      name: 'errata.listAffectedSystems',
      cache: 'fleet',
      overloads: byName((ctx, e) => ctx.fleet.affectedSystems(e.id).map((s) => systemOverview(s, ctx.fleet))),
    },
  ];
}
