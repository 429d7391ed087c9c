/** system.* — per-system reads, scheduling, and the event views used to poll action outcomes. */
import type { Erratum, LabSystem, Nevra } from '../../fleet/index.js';
import { encodeFragment, type WireRaw } from '../codec.js';
import { intList, type HandlerContext, type MethodDef, type Overload, type ParamType } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';
import { errataOverview, eventDetails, installedPackageStruct, serverDetails, systemEvent } from '../structs.js';
import { faulting } from './errors.js';

function requireSystem(ctx: HandlerContext, sid: number): LabSystem {
  const s = ctx.fleet.system(sid);
  if (!s) throw uyuniFaults.noSuchSystem(sid);
  return s;
}

function sidsOf(arg: unknown): number[] {
  return Array.isArray(arg) ? intList(arg) : [arg as number];
}

/**
 * SystemHandler's check before any errata or package action with allowModules=false: each server is looked up
 * (the manager's -1 "Could not find server" for an unknown one) and one on a modular channel refuses the whole
 * call with 2107.
 */
function refuseModular(ctx: HandlerContext, sids: readonly number[], allowModules: boolean): void {
  if (allowModules) return;
  for (const sid of sids) {
    const s = ctx.fleet.system(sid);
    if (!s) throw uyuniFaults.serverNotFound(sid, ctx.login);
    if (s.modularChannels.length > 0) throw uyuniFaults.modulesNotAllowed();
  }
}

function nevraList(arg: unknown): Nevra[] {
  return (arg as unknown[]).map((item) => {
    const m = item as Record<string, unknown>;
    const field = (k: string): string => {
      const v = m[k];
      if (typeof v !== 'string') throw uyuniFaults.unhandled(`Missing or invalid ${k} in package NEVRA`);
      return v;
    };
    return {
      name: field('package_name'),
      epoch: typeof m.package_epoch === 'string' ? m.package_epoch.trim() : '',
      version: field('package_version'),
      release: field('package_release'),
      arch: field('package_arch'),
    };
  });
}

export function systemMethods(): MethodDef[] {
  // Errata are immutable: serialize each overview struct once and splice it into every response.
  const fragments = new Map<number, WireRaw>();
  const overview = (e: Erratum): WireRaw => {
    let f = fragments.get(e.id);
    if (!f) {
      f = encodeFragment(errataOverview(e));
      fragments.set(e.id, f);
    }
    return f;
  };
  const relevant = (ctx: HandlerContext, sid: number) => {
    requireSystem(ctx, sid);
    return ctx.fleet.relevantErrata(sid).map(overview);
  };

  const applyErrata = (
    ctx: HandlerContext,
    sids: unknown,
    eids: unknown,
    earliest?: unknown,
    allowModules = false,
    onlyRelevant = true,
  ): number[] =>
    faulting(
      () => {
        refuseModular(ctx, sidsOf(sids), allowModules);
        return ctx.fleet.scheduleApplyErrata(sidsOf(sids), intList(eids), {
          earliestMs: earliest instanceof Date ? earliest.getTime() : undefined,
          onlyRelevant,
          scheduler: ctx.login,
        });
      },
      { serverLookup: !allowModules, login: ctx.login },
    );
  const applyOverloads: Overload[] = (['array', 'int'] as const).flatMap((target): Overload[] => {
    const t: ParamType[] = ['session', target, 'array'];
    const list: Overload[] = [
      { params: t, run: (ctx, a) => applyErrata(ctx, a[1], a[2]) },
      { params: [...t, 'boolean'], run: (ctx, a) => applyErrata(ctx, a[1], a[2], undefined, a[3] as boolean) },
      { params: [...t, 'dateTime'], run: (ctx, a) => applyErrata(ctx, a[1], a[2], a[3]) },
      { params: [...t, 'dateTime', 'boolean'], run: (ctx, a) => applyErrata(ctx, a[1], a[2], a[3], a[4] as boolean) },
    ];
    if (target === 'array') {
      list.push(
        { params: [...t, 'dateTime', 'boolean', 'boolean'], run: (ctx, a) => applyErrata(ctx, a[1], a[2], a[3], a[4] as boolean, a[5] as boolean) },
        // allowVendorChange has no meaning in the lab.
        { params: [...t, 'dateTime', 'boolean', 'boolean', 'boolean'], run: (ctx, a) => applyErrata(ctx, a[1], a[2], a[3], a[4] as boolean, a[5] as boolean) },
      );
    }
    return list;
  });

  const installById = (ctx: HandlerContext, target: unknown, pkgs: unknown, earliest: unknown, allowModules = false): number =>
    faulting(
      () => {
        refuseModular(ctx, sidsOf(target), allowModules);
        return ctx.fleet.schedulePackageInstall(sidsOf(target), intList(pkgs), { earliestMs: (earliest as Date).getTime(), scheduler: ctx.login });
      },
      { serverLookup: true, login: ctx.login },
    );
  const installByNevra = (ctx: HandlerContext, target: unknown, nevras: unknown, earliest: unknown, allowModules = false): number =>
    faulting(
      () => {
        refuseModular(ctx, sidsOf(target), allowModules);
        return ctx.fleet.schedulePackageInstallByNevra(sidsOf(target), nevraList(nevras), { earliestMs: (earliest as Date).getTime(), scheduler: ctx.login });
      },
      { serverLookup: true, login: ctx.login },
    );
  // The int-sid forms return one action id, the int[] forms an array of them.
  const installOverloads = (run: typeof installById): Overload[] => [
    { params: ['session', 'array', 'array', 'dateTime'], run: (ctx, a) => [run(ctx, a[1], a[2], a[3])] },
    { params: ['session', 'array', 'array', 'dateTime', 'boolean'], run: (ctx, a) => [run(ctx, a[1], a[2], a[3], a[4] as boolean)] },
    { params: ['session', 'int', 'array', 'dateTime'], run: (ctx, a) => run(ctx, a[1], a[2], a[3]) },
    { params: ['session', 'int', 'array', 'dateTime', 'boolean'], run: (ctx, a) => run(ctx, a[1], a[2], a[3], a[4] as boolean) },
  ];

  const events = (ctx: HandlerContext, sid: number, type?: string, since?: Date) => {
    requireSystem(ctx, sid);
    return ctx.fleet
      .systemActions(sid)
      .filter((a) => (type === undefined || a.typeName === type) && (since === undefined || a.createdMs >= since.getTime()))
      .map((a) => systemEvent(a, a.systems.get(sid) as NonNullable<ReturnType<typeof a.systems.get>>));
  };

  return [
    {
      name: 'system.getRelevantErrata',
      cache: 'fleet',
      overloads: [
        { params: ['session', 'int'], run: (ctx, [, sid]) => relevant(ctx, sid as number) },
        {
          params: ['session', 'array'],
          // The multi-system form carries system_id as a string.
          run: (ctx, [, sids]) => intList(sids).map((sid) => ({ system_id: String(sid), errata: relevant(ctx, sid) })),
        },
      ],
    },
    {
      name: 'system.getNetwork',
      cache: 'fleet',
      overloads: [
        {
          params: ['session', 'int'],
          run: (ctx, [, sid]) => {
            const s = requireSystem(ctx, sid as number);
            return { ip: s.ip, ip6: '', hostname: s.name };
          },
        },
      ],
    },
    {
      name: 'system.getDetails',
      cache: 'fleet',
      overloads: [{ params: ['session', 'int'], run: (ctx, [, sid]) => serverDetails(requireSystem(ctx, sid as number)) }],
    },
    {
      name: 'system.getName',
      cache: 'fleet',
      overloads: [
        {
          params: ['session', 'int'],
          run: (ctx, [, sid]) => {
            const s = requireSystem(ctx, sid as number);
            return { id: s.id, name: s.name, last_checkin: new Date(s.lastCheckinMs) };
          },
        },
      ],
    },
    {
      name: 'system.listInstalledPackages',
      cache: 'fleet',
      overloads: [
        {
          params: ['session', 'int'],
          run: (ctx, [, sid]) => {
            const s = requireSystem(ctx, sid as number);
            return ctx.fleet.installedPackages(s.id).map((p) => installedPackageStruct(p, p.build <= 0 ? s.registeredMs : undefined));
          },
        },
      ],
    },
    {
      name: 'system.listSuggestedReboot',
      cache: 'fleet',
      overloads: [{ params: ['session'], run: (ctx) => ctx.fleet.systems.filter((s) => s.rebootNeeded).map((s) => ({ id: s.id, name: s.name })) }],
    },
    { name: 'system.scheduleApplyErrata', cache: 'none', overloads: applyOverloads },
    {
      name: 'system.scheduleReboot',
      cache: 'none',
      overloads: [
        {
          params: ['session', 'int', 'dateTime'],
          run: (ctx, [, sid, earliest]) =>
            faulting(() => ctx.fleet.scheduleReboot(sid as number, { earliestMs: (earliest as Date).getTime(), scheduler: ctx.login }), {
              serverLookup: true,
              login: ctx.login,
            }),
        },
      ],
    },
    { name: 'system.schedulePackageInstall', cache: 'none', overloads: installOverloads(installById) },
    { name: 'system.schedulePackageInstallByNevra', cache: 'none', overloads: installOverloads(installByNevra) },
    {
      name: 'system.getEventDetails',
      cache: 'fleet',
      overloads: [
        {
          params: ['session', 'int', 'int'],
          run: (ctx, [, sid, eid]) => {
            requireSystem(ctx, sid as number);
            const action = ctx.fleet.action(eid as number);
            const st = action?.systems.get(sid as number);
            if (!action || !st) throw uyuniFaults.noSuchHistoryEvent();
            return eventDetails(action, st);
          },
        },
      ],
    },
    {
      name: 'system.listSystemEvents',
      cache: 'fleet',
      overloads: [
        { params: ['session', 'int'], run: (ctx, [, sid]) => events(ctx, sid as number) },
        { params: ['session', 'int', 'string'], run: (ctx, [, sid, type]) => events(ctx, sid as number, type as string) },
        { params: ['session', 'int', 'dateTime'], run: (ctx, [, sid, since]) => events(ctx, sid as number, undefined, since as Date) },
        {
          params: ['session', 'int', 'string', 'dateTime'],
          run: (ctx, [, sid, type, since]) => events(ctx, sid as number, type as string, since as Date),
        },
      ],
    },
  ];
}
