import type { Client } from '@temporalio/client';

export type Bounded<T> = { done: true; value: T } | { done: false };

/**
 * Waits for a Temporal result at most `ms`: `{ done: true, value }` when it came in time (a rejection is
 * rethrown), `{ done: false }` when not — then the long poll behind it is cancelled, so a request that gave
 * up leaves nothing waiting on the server. Callers answer 202 with the run's id and where to poll.
 */
export async function withinBound<T>(client: Client, ms: number, wait: () => Promise<T>): Promise<Bounded<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const work = client.withAbortSignal(controller.signal, wait);
  const late = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
    controller.abort();
    work.catch(() => undefined); // settled after we stopped listening: cancelled on purpose
  }
}
