/**
 * Lowstate chunks per netapi client (reference/salt-api.md §1.4): `local` waits for the minions
 * that answer and reports the others as `false`; `local_async` returns the jid at once; `runner`
 * serves the jobs.* runners the async flow needs.
 */
import { SaltHttpError } from './html-errors.js';
import type { JobRunner } from './job-runner.js';
import { jobReturns, jidToTime, listJob, type JobRecord } from './jobs.js';

export const SALT_CLIENTS = ['local', 'local_async', 'local_batch', 'local_subset', 'runner', 'runner_async', 'ssh', 'wheel', 'wheel_async'] as const;
const ENABLED = new Set(['local', 'local_async', 'runner']);

type Chunk = Record<string, unknown>;

function publishFromChunk(runner: JobRunner, chunk: Chunk, user: string): JobRecord {
  if (typeof chunk.fun !== 'string' || chunk.fun === '') throw new SaltHttpError(400, "Missing 'fun' in lowstate");
  if (chunk.tgt === undefined) throw new SaltHttpError(400, "Missing 'tgt' in lowstate");
  const tgtType = typeof chunk.tgt_type === 'string' ? chunk.tgt_type : typeof chunk.expr_form === 'string' ? chunk.expr_form : 'glob';
  return runner.publish({ tgt: chunk.tgt, tgtType, fun: chunk.fun, arg: chunk.arg, kwarg: chunk.kwarg, user });
}

async function local(runner: JobRunner, chunk: Chunk, user: string): Promise<Record<string, unknown>> {
  const job = publishFromChunk(runner, chunk, user);
  await job.settled;
  const full = chunk.full_return === true || chunk.full_return === 'true' || chunk.full_return === 'True';
  const out: Record<string, unknown> = {};
  for (const mid of job.minions) {
    const r = job.returns.get(mid);
    // No answer looks exactly like a function that returned False; full_return tells them apart.
    if (!r) out[mid] = false;
    else out[mid] = full ? { ret: r.ret, retcode: r.retcode, jid: job.jid, out: 'nested' } : r.ret;
  }
  return out;
}

function localAsync(runner: JobRunner, chunk: Chunk, user: string): Record<string, unknown> {
  const job = publishFromChunk(runner, chunk, user);
  // LocalClient.run_job: "No minions matched the target. No command was sent, no jid was assigned."
  if (job.minions.length === 0) return {};
  return { jid: job.jid, minions: [...job.minions] };
}

function runnerKwargs(chunk: Chunk): Record<string, unknown> {
  const kw = chunk.kwarg && typeof chunk.kwarg === 'object' ? (chunk.kwarg as Record<string, unknown>) : {};
  return { ...kw, ...chunk };
}

function runnerCall(runner: JobRunner, chunk: Chunk): unknown {
  const kw = runnerKwargs(chunk);
  const jid = kw.jid === undefined ? undefined : String(kw.jid);
  switch (chunk.fun) {
    case 'jobs.lookup_jid': {
      const job = jid ? runner.jobs.get(jid) : undefined;
      return job ? jobReturns(job) : {};
    }
    case 'jobs.list_job': {
      const id = jid ?? '';
      return listJob(runner.jobs.get(id), id, runner.jobFaults.take(id));
    }
    case 'jobs.active': {
      const out: Record<string, unknown> = {};
      for (const job of runner.jobs.all()) {
        if (job.running.size === 0) continue;
        out[job.jid] = {
          Function: job.fun,
          Arguments: job.arguments,
          Target: job.tgt,
          'Target-type': job.tgtType,
          User: job.user,
          StartTime: jidToTime(job.jid),
          Running: [...job.running].map((mid) => ({ [mid]: 0 })),
          Returned: [...job.returns.keys()],
        };
      }
      return out;
    }
    case 'jobs.list_jobs': {
      const out: Record<string, unknown> = {};
      for (const job of runner.jobs.all()) {
        out[job.jid] = { Function: job.fun, Arguments: job.arguments, Target: job.tgt, 'Target-type': job.tgtType, User: job.user, StartTime: jidToTime(job.jid) };
      }
      return out;
    }
    default:
      return `'${String(chunk.fun)}' is not available.`;
  }
}

export async function runLowstateChunk(runner: JobRunner, chunk: unknown, user: string): Promise<unknown> {
  if (!chunk || typeof chunk !== 'object' || Array.isArray(chunk)) throw new SaltHttpError(400, 'Lowstate chunks must be objects');
  const c = chunk as Chunk;
  const client = c.client;
  if (typeof client !== 'string' || client === '') throw new SaltHttpError(400, 'No client specified');
  if (!(SALT_CLIENTS as readonly string[]).includes(client)) throw new SaltHttpError(400, `Invalid client: '${client}'`);
  if (!ENABLED.has(client)) {
    throw new SaltHttpError(400, `Client disabled: '${client}'. Add to 'netapi_enable_clients' master config option to enable.`);
  }
  if (client === 'local') return local(runner, c, user);
  if (client === 'local_async') return localAsync(runner, c, user);
  return runnerCall(runner, c);
}
