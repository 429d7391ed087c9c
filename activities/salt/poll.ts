// Waiting for a local_async job: poll /jobs/<jid> until every awaited minion has returned or the
// deadline passes (a minion that is down never answers, so there must be a deadline). The sleep
// between polls is cancellable so a cancelled activity stops at once instead of polling on.
import { isSaltError } from './errors.js';
import type { SaltLogger } from './logger.js';
import type { JobOutcome, MinionResults, SaltJob, WaitForJobOptions } from './types.js';

export const DEFAULT_POLL_MS = 2_000;

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function pollJob(
  jid: string,
  options: WaitForJobOptions,
  fetchJob: (jid: string, signal: AbortSignal | undefined) => Promise<SaltJob>,
  logger: SaltLogger,
): Promise<JobOutcome> {
  const { signal, onPoll } = options;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  if (!(options.deadlineMs >= 0)) throw new TypeError('deadlineMs must be >= 0');
  if (!(pollMs > 0)) throw new TypeError('pollMs must be > 0');
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  let polls = 0;
  let job: SaltJob | undefined;
  for (;;) {
    signal?.throwIfAborted();
    polls++;
    let pollError: unknown;
    try {
      job = await fetchJob(jid, signal);
    } catch (error) {
      // A salt-api blip (503, reset) mid-wait must not throw away a long pkg.install: keep polling
      // until the deadline. Anything not retryable (auth, unknown jid) ends the wait now.
      if (signal?.aborted || !isSaltError(error) || !error.retryable) throw error;
      pollError = error;
      logger.warn({ jid, poll: polls, errorType: error.type }, 'salt job poll failed; polling on');
    }
    // Without the caller's list the job's own `Minions` say who must answer; a job cache that lost the job's
    // load does not know, so such a job is never complete before the deadline.
    const expected = options.minions ?? (job?.cacheError === undefined ? (job?.minions ?? []) : undefined);
    const returned = (expected ?? Object.keys(job?.results ?? {})).filter((m) => job?.results[m] !== undefined);
    const pending = (expected ?? []).filter((m) => job?.results[m] === undefined);
    if (onPoll !== undefined) {
      await onPoll({
        jid,
        poll: polls,
        returned,
        pending,
        elapsedMs: Date.now() - started,
        ...(isSaltError(pollError) ? { pollError: pollError.type } : {}),
      });
    }
    const complete = pollError === undefined && expected !== undefined && pending.length === 0;
    const remaining = deadline - Date.now();
    if (complete || remaining <= 0) {
      // The last poll failed and there is no time left to try again: say why, not "no answer".
      if (pollError !== undefined) throw pollError;
      const results: MinionResults = { ...job?.results };
      for (const minion of pending) results[minion] = { kind: 'no-answer' };
      return { jid, complete, results, polls };
    }
    await abortableSleep(Math.min(pollMs, remaining), signal);
  }
}
