/**
 * Runs `fn` over `items` with at most `size` calls in flight, in order of start. Deterministic (no timers),
 * so workflows use it to bound fan-out: enough chunks in flight to keep the UYUNI call limit busy, not so
 * many that every chunk's partial results sit in the worker's memory at once.
 */
export async function forEachInWindow<T>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, lane));
}
