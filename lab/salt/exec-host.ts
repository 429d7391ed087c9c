/** test.*, grains.*, service.*, status.uptime and system.reboot over the fleet. */
import { argOf } from './args.js';
import { InvalidArgumentsError, type ExecContext, type ExecFunction } from './exec-types.js';
import { grainsOf, SALT_VERSION } from './grains.js';

function serviceName(ctx: ExecContext): string {
  const name = argOf(ctx.args, 0, 'name');
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentsError(`${ctx.fun}() missing 1 required positional argument: 'name'`);
  return name;
}

/** systemd knows the critical services the fleet tracks; anything else is an unknown unit. A broken unit does not start. */
function setService(ctx: ExecContext, running: boolean): boolean {
  return ctx.fleet.setServiceState(ctx.system.id, serviceName(ctx), running);
}

function uptime(ctx: ExecContext): Record<string, unknown> {
  const nowSec = ctx.fleet.now() / 1000;
  const since = ctx.system.bootTimeSec;
  const seconds = Math.max(0, Math.floor(nowSec - since));
  const days = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  return {
    seconds,
    // Python's naive datetime.fromtimestamp().isoformat(): no zone suffix (minions run in UTC here).
    since_iso: new Date(since * 1000).toISOString().slice(0, 19),
    since_t: since,
    days,
    time: `${Math.floor(rest / 3600)}:${Math.floor((rest % 3600) / 60)}`,
    users: 1,
  };
}

function reboot(ctx: ExecContext): string {
  const atTime = argOf(ctx.args, 0, 'at_time');
  let delayMs = 0;
  if (atTime !== undefined && atTime !== null) {
    const minutes = Number(atTime);
    if (!Number.isFinite(minutes) || minutes < 0) throw new InvalidArgumentsError(`invalid at_time: ${String(atTime)}`);
    delayMs = minutes * ctx.shutdownMinuteMs;
  }
  const { fleet, system } = ctx;
  // `shutdown -r` returns at once; the minion disappears after its return went out.
  ctx.afterReturn(() => {
    fleet.tick();
    fleet.rebootNow(system.id);
  }, delayMs);
  return '';
}

export const hostFunctions: readonly ExecFunction[] = [
  { name: 'test.ping', run: () => true },
  { name: 'test.version', run: () => SALT_VERSION },
  { name: 'grains.items', run: ({ fleet, system }) => grainsOf(fleet, system) },
  {
    name: 'grains.item',
    run: ({ fleet, system, args }) => {
      const all = grainsOf(fleet, system);
      return Object.fromEntries(args.positional.map(String).map((k) => [k, all[k] ?? '']));
    },
  },
  {
    name: 'grains.get',
    run: ({ fleet, system, args }) => {
      const key = argOf(args, 0, 'key');
      let value: unknown = grainsOf(fleet, system);
      for (const part of String(key ?? '').split(':')) {
        value = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
      }
      return value ?? args.kwargs.default ?? '';
    },
  },
  { name: 'service.status', run: (ctx) => ctx.system.services[serviceName(ctx)] ?? false },
  { name: 'service.available', run: (ctx) => serviceName(ctx) in ctx.system.services },
  { name: 'service.missing', run: (ctx) => !(serviceName(ctx) in ctx.system.services) },
  { name: 'service.start', run: (ctx) => setService(ctx, true) },
  { name: 'service.restart', run: (ctx) => setService(ctx, true) },
  { name: 'service.stop', run: (ctx) => setService(ctx, false) },
  { name: 'status.uptime', run: uptime },
  { name: 'system.reboot', duration: 'rebootMs', run: reboot },
];
