/**
 * The PromQL the orchestrator sends, and nothing more: the node_exporter CPU % expression, the
 * memory % expression and `up`, each with optional label matchers (reference/prometheus.md §2.2).
 * Anything else is a parse error, which the API answers with `bad_data` like Prometheus.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type LabQuery =
  | { kind: 'cpu'; matchers: Matcher[]; windowSeconds: number }
  | { kind: 'memory'; matchers: Matcher[] }
  | { kind: 'up'; matchers: Matcher[] };

export class PromQlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromQlError';
  }
}

/** Removes whitespace outside quoted strings, so spacing variants compare equal. */
export function squeeze(query: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < query.length; i++) {
    const c = query[i] as string;
    if (quote) {
      out += c;
      if (c === '\\' && quote !== '`' && i + 1 < query.length) out += query[++i];
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  if (quote) throw new PromQlError('unterminated quoted string');
  return out;
}

function unquote(raw: string): string {
  const q = raw[0];
  const body = raw.slice(1, -1);
  if (q === '`') return body;
  return body.replace(/\\(.)/g, (_m, ch: string) => (ch === 'n' ? '\n' : ch === 't' ? '\t' : ch));
}

const MATCHER_RE = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)$/;

/** Parses the inside of `{...}` (already squeezed). */
export function parseMatchers(inner: string): Matcher[] {
  if (inner === '') return [];
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (quote) {
      cur += c;
      if (c === '\\' && quote !== '`') cur += inner[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
      cur += c;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '') parts.push(cur);
  return parts.map((p) => {
    const m = MATCHER_RE.exec(p);
    if (!m) throw new PromQlError(`unexpected label matcher "${p}"`);
    const op = m[2] as MatchOp;
    const value = unquote(m[3] as string);
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        throw new PromQlError(`error parsing regexp: ${value}`);
      }
    }
    return { name: m[1] as string, op, value };
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** PromQL durations such as `30s`, `1m30s`, `500ms`. */
export function parseDuration(text: string): number {
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    matched += m[0].length;
  }
  if (matched !== text.length || matched === 0) throw new PromQlError(`not a valid duration string: "${text}"`);
  return total;
}

const SEL = '(?:\\{((?:[^{}"\'`]|"(?:[^"\\\\]|\\\\.)*"|\'(?:[^\'\\\\]|\\\\.)*\'|`[^`]*`)*)\\})?';
const CPU_BY_FIRST = new RegExp(`^100\\*\\(1-avg(?:by\\(instance\\))\\((?:i?rate)\\(node_cpu_seconds_total${SEL}\\[([0-9a-z]+)\\]\\)\\)\\)$`);
const CPU_BY_LAST = new RegExp(`^100\\*\\(1-avg\\((?:i?rate)\\(node_cpu_seconds_total${SEL}\\[([0-9a-z]+)\\]\\)\\)by\\(instance\\)\\)$`);
const MEMORY = new RegExp(`^100\\*\\(1-node_memory_MemAvailable_bytes${SEL}/node_memory_MemTotal_bytes${SEL}\\)$`);
const UP = new RegExp(`^up${SEL}$`);

function mergeMatchers(a: Matcher[], b: Matcher[]): Matcher[] {
  const seen = new Set(a.map((m) => `${m.name}${m.op}${m.value}`));
  return [...a, ...b.filter((m) => !seen.has(`${m.name}${m.op}${m.value}`))];
}

export function parseLabQuery(query: string): LabQuery {
  const q = squeeze(query);
  if (q === '') throw new PromQlError('no expression found in input');
  const cpu = CPU_BY_FIRST.exec(q) ?? CPU_BY_LAST.exec(q);
  if (cpu) {
    const matchers = parseMatchers(cpu[1] ?? '');
    const modes = matchers.filter((m) => m.name === 'mode');
    if (!(modes.length === 1 && modes[0]?.op === '=' && modes[0].value === 'idle')) {
      throw new PromQlError('the lab fallback only evaluates the CPU expression over mode="idle"');
    }
    return { kind: 'cpu', matchers: matchers.filter((m) => m.name !== 'mode'), windowSeconds: parseDuration(cpu[2] as string) };
  }
  const mem = MEMORY.exec(q);
  if (mem) return { kind: 'memory', matchers: mergeMatchers(parseMatchers(mem[1] ?? ''), parseMatchers(mem[2] ?? '')) };
  const up = UP.exec(q);
  if (up) return { kind: 'up', matchers: parseMatchers(up[1] ?? '') };
  throw new PromQlError(`the lab's Prometheus fallback does not evaluate this expression: ${query}`);
}

export function matches(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(v);
      case '!~':
        return !new RegExp(`^(?:${m.value})$`).test(v);
    }
  });
}
