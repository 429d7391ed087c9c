/**
 * A system's relevant errata: the generated set (a sorted Int32Array, 4 bytes per entry, so
 * 10,000 systems × 300 errata stay around 12 MB) minus the errata applied since.
 */
export class RelevantSet {
  private removed: Set<number> | undefined;

  constructor(private readonly base: Int32Array) {}

  get size(): number {
    return this.base.length - (this.removed?.size ?? 0);
  }

  inBase(erratumId: number): boolean {
    return binarySearch(this.base, erratumId) >= 0;
  }

  has(erratumId: number): boolean {
    return this.inBase(erratumId) && !(this.removed?.has(erratumId) ?? false);
  }

  /** Returns true when the erratum was relevant and is no longer. */
  remove(erratumId: number): boolean {
    if (!this.has(erratumId)) return false;
    (this.removed ??= new Set()).add(erratumId);
    return true;
  }

  /** Makes an erratum relevant again (after a downgrade); only errata of the generated set can come back. */
  restore(erratumId: number): boolean {
    if (!this.inBase(erratumId) || !this.removed?.has(erratumId)) return false;
    this.removed.delete(erratumId);
    return true;
  }

  /** Ascending erratum ids. */
  toArray(): number[] {
    const out: number[] = [];
    const removed = this.removed;
    for (const id of this.base) if (!removed?.has(id)) out.push(id);
    return out;
  }
}

export function binarySearch(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
