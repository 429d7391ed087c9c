/**
 * Salt targeting over the fleet's minions: glob (the default; an exact id is a glob without
 * wildcards), list, pcre, ipcidr and grain. Unknown target types match nothing, as LocalClient
 * does, so the caller sees `{}` rather than an error.
 */
import type { LabSystem } from '../fleet/index.js';

export type GrainLookup = (sys: LabSystem) => Record<string, unknown>;

/** fnmatch-style glob (`*`, `?`, `[...]`) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const a = ipToInt(ip);
  const b = ipToInt(net ?? '');
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : (~((1 << (32 - bits)) - 1)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

export function matchMinions(systems: readonly LabSystem[], tgt: unknown, tgtType: string, grains: GrainLookup): LabSystem[] {
  switch (tgtType) {
    case 'glob': {
      if (typeof tgt !== 'string') return [];
      const re = globToRegExp(tgt);
      return systems.filter((s) => re.test(s.minionId));
    }
    case 'list': {
      const ids = new Set(Array.isArray(tgt) ? tgt.map(String) : typeof tgt === 'string' ? tgt.split(',').map((x) => x.trim()) : []);
      return systems.filter((s) => ids.has(s.minionId));
    }
    case 'pcre': {
      if (typeof tgt !== 'string') return [];
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${tgt})`); // Python's re.match anchors at the start only
      } catch {
        return [];
      }
      return systems.filter((s) => re.test(s.minionId));
    }
    case 'ipcidr':
      // Matched against each system's own address (its loopback 127.0.X.Y in the lab).
      return typeof tgt === 'string' ? systems.filter((s) => inCidr(s.ip, tgt)) : [];
    case 'grain': {
      if (typeof tgt !== 'string') return [];
      const idx = tgt.indexOf(':');
      if (idx <= 0) return [];
      const key = tgt.slice(0, idx);
      const re = globToRegExp(tgt.slice(idx + 1));
      return systems.filter((s) => {
        const v = grains(s)[key];
        return Array.isArray(v) ? v.some((x) => re.test(String(x))) : v !== undefined && re.test(String(v));
      });
    }
    default:
      return [];
  }
}
