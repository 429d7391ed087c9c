/**
 * Seeded randomness for the lab. mulberry32 is tiny, fast and good enough for picking
 * names and versions; what matters is that the same seed yields the same fleet byte for byte.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  weighted<T>(items: readonly T[], weight: (item: T) => number): T;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream per purpose so adding draws in one area doesn't reshuffle another. */
export function createRng(seed: number, stream = ''): Rng {
  const next = mulberry32(hash32(`${seed}:${stream}`));
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted: (items, weight) => {
      let total = 0;
      for (const item of items) total += weight(item);
      let roll = next() * total;
      for (const item of items) {
        roll -= weight(item);
        if (roll < 0) return item;
      }
      const last = items[items.length - 1];
      if (last === undefined) throw new Error('weighted pick from an empty list');
      return last;
    },
  };
  return rng;
}

/** FNV-1a, used to derive seeds and stable pseudo-random attributes (checksums, machine ids). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Deterministic lowercase hex string of the given length derived from a text. */
export function stableHex(text: string, length: number): string {
  let out = '';
  let state = hash32(text);
  while (out.length < length) {
    state = hash32(`${state}:${text}`);
    out += state.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

/**
 * k distinct values from `pool`, skipping `exclude`, by a partial Fisher-Yates over a scratch copy.
 * The scratch buffer is reused across calls to keep generation of large fleets allocation-light.
 */
export function sampleDistinct(
  rng: Rng,
  pool: Int32Array,
  k: number,
  exclude: ReadonlySet<number>,
  scratch: Int32Array,
): number[] {
  const n = pool.length;
  scratch.set(pool);
  const out: number[] = [];
  let i = 0;
  while (out.length < k && i < n) {
    const j = i + Math.floor(rng.next() * (n - i));
    const picked = scratch[j] as number;
    scratch[j] = scratch[i] as number;
    scratch[i] = picked;
    i++;
    if (exclude.has(picked)) continue;
    out.push(picked);
  }
  return out;
}
