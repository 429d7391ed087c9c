/**
 * Lowstate `arg`/`kwarg` to a call's positional and keyword arguments, the way Salt's
 * `parse_input` does it: `key=value` strings and `{__kwarg__: true, ...}` objects in `arg`
 * become keyword arguments; YAML-ish scalars in `key=value` are decoded (JSON here).
 */
export interface CallArgs {
  readonly positional: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
}

const KWARG_RE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

function decodeScalar(text: string): unknown {
  if (text === 'True' || text === 'true') return true;
  if (text === 'False' || text === 'false') return false;
  if (text === 'None' || text === 'null') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function parseCallArgs(arg: unknown, kwarg: unknown): CallArgs {
  const list = arg === undefined || arg === null ? [] : Array.isArray(arg) ? arg : [arg];
  const positional: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  for (const a of list) {
    if (typeof a === 'string') {
      const m = KWARG_RE.exec(a);
      if (m) {
        kwargs[m[1] as string] = decodeScalar(m[2] as string);
        continue;
      }
    }
    if (a && typeof a === 'object' && !Array.isArray(a) && (a as Record<string, unknown>).__kwarg__ === true) {
      for (const [k, v] of Object.entries(a)) if (k !== '__kwarg__') kwargs[k] = v;
      continue;
    }
    positional.push(a);
  }
  if (kwarg && typeof kwarg === 'object' && !Array.isArray(kwarg)) Object.assign(kwargs, kwarg);
  return { positional, kwargs };
}

/** The n-th positional argument or the named keyword, whichever was given. */
export function argOf(args: CallArgs, index: number, name: string): unknown {
  return name in args.kwargs ? args.kwargs[name] : args.positional[index];
}
