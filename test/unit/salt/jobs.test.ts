// local_async + /jobs polling: returns filling in over polls, the deadline turning missing minions
// into no-answer, the per-poll callback (where activities heartbeat), cancellation through an
// AbortSignal, and the helpers that publish jobs (installPinned, reboot).
import { describe, expect, it } from 'vitest';
import { SaltExecutionError, SaltNoAnswerError, SaltProtocolError } from '../../../activities/salt/errors.js';
import type { JobProgress } from '../../../activities/salt/types.js';
import { failure, setup } from './support/harness.js';
import { jobBody, newJid, type Chunk, type ChunkReply } from './support/salt-api-server.js';

const ping = { return: true, retcode: 0, success: true };

describe('SaltClient.localAsync / job / waitForJob', () => {
  it('publishes a job and parses /jobs/<jid>', async () => {
    const jid = newJid();
    const { api, client } = await setup({
      onChunk: () => ({ return0: { jid, minions: ['web1', 'web2'] } }),
      onJob: (id) => ({ body: jobBody(id, 'test.ping', ['web1', 'web2'], { web1: ping }) }),
    });
    expect(await client.localAsync(['web1', 'web2'], 'test.ping')).toEqual({ jid, minions: ['web1', 'web2'] });
    expect(api.chunks()[0]).toEqual({ client: 'local_async', tgt: ['web1', 'web2'], tgt_type: 'list', fun: 'test.ping', full_return: true });
    const job = await client.job(jid);
    expect(job).toMatchObject({ jid, fun: 'test.ping', minions: ['web1', 'web2'], targetType: 'list' });
    expect(job.results).toEqual({ web1: { kind: 'ok', ret: true, retcode: 0 } });
  });

  it('reports a target that matched no accepted minion as jid null', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: {} }) });
    expect(await client.localAsync('ghost*', 'test.ping')).toEqual({ jid: null, minions: [] });
  });

  it('an unknown jid is a SaltProtocolError', async () => {
    const { client } = await setup();
    const error = await failure(client.job('20990101000000000000'));
    expect(error).toBeInstanceOf(SaltProtocolError);
    expect(error.message).toContain('unknown to the job cache');
  });

  it('polls until every expected minion returned, calling onPoll after each poll', async () => {
    const jid = newJid();
    const { api, client } = await setup({
      onJob: (id, poll) => {
        const returned: Record<string, { return: unknown; retcode: number; success: boolean }> = {};
        if (poll >= 2) returned.web1 = ping;
        if (poll >= 3) returned.web2 = { return: 'ERROR: boom', retcode: 1, success: false };
        return { body: jobBody(id, 'test.ping', ['web1', 'web2'], returned) };
      },
    });
    const progress: JobProgress[] = [];
    const outcome = await client.waitForJob(jid, {
      minions: ['web1', 'web2'],
      deadlineMs: 5_000,
      pollMs: 20,
      onPoll: (p) => {
        progress.push(p);
      },
    });
    expect(outcome.complete).toBe(true);
    expect(outcome.polls).toBe(3);
    expect(outcome.results.web1).toEqual({ kind: 'ok', ret: true, retcode: 0 });
    expect(outcome.results.web2).toMatchObject({ kind: 'error', retcode: 1, reason: 'failed' });
    expect(progress.map((p) => [p.poll, p.returned, p.pending])).toEqual([
      [1, [], ['web1', 'web2']],
      [2, ['web1'], ['web2']],
      [3, ['web1', 'web2'], []],
    ]);
    expect(api.count('/jobs')).toBe(3);
    expect(client.stats().jobPolls).toBe(3);
  });

  it('stops at the deadline and reports missing minions as no-answer', async () => {
    const jid = newJid();
    const { client } = await setup({ onJob: (id) => ({ body: jobBody(id, 'test.ping', ['web1', 'web2'], { web1: ping }) }) });
    let polls = 0;
    const started = Date.now();
    const outcome = await client.waitForJob(jid, { deadlineMs: 250, pollMs: 60, onPoll: () => void polls++ });
    const elapsed = Date.now() - started;
    expect(outcome.complete).toBe(false);
    expect(outcome.results).toEqual({ web1: { kind: 'ok', ret: true, retcode: 0 }, web2: { kind: 'no-answer' } });
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(1_500);
    expect(polls).toBe(outcome.polls);
    expect(polls).toBeGreaterThanOrEqual(3);
  });

  it('keeps polling through a salt-api 503 within the deadline', async () => {
    const jid = newJid();
    const { client } = await setup({
      onJob: (id, poll): ChunkReply | { body: unknown } =>
        poll === 1 ? { status: 503, html: '<p>Salt Master is not available.</p>' } : { body: jobBody(id, 'test.ping', ['web1'], { web1: ping }) },
    });
    const progress: JobProgress[] = [];
    const outcome = await client.waitForJob(jid, { minions: ['web1'], deadlineMs: 2_000, pollMs: 20, onPoll: (p) => void progress.push(p) });
    expect(outcome.complete).toBe(true);
    expect(progress[0]?.pollError).toBe('SaltHttpError');
  });

  it('an abort from onPoll stops polling at once with the signal reason', async () => {
    const jid = newJid();
    const { api, client } = await setup({ onJob: (id) => ({ body: jobBody(id, 'test.ping', ['web1'], {}) }) });
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const promise = client.waitForJob(jid, {
      deadlineMs: 10_000,
      pollMs: 20,
      signal: controller.signal,
      onPoll: (p) => {
        if (p.poll === 2) controller.abort(reason);
      },
    });
    await expect(promise).rejects.toBe(reason);
    expect(api.count('/jobs')).toBe(2);
  });

  it('an abort during the sleep between polls rejects promptly', async () => {
    const jid = newJid();
    const { api, client } = await setup({ onJob: (id) => ({ body: jobBody(id, 'test.ping', ['web1'], {}) }) });
    const controller = new AbortController();
    const started = Date.now();
    const promise = client.waitForJob(jid, { deadlineMs: 60_000, pollMs: 30_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled')), 80);
    await expect(promise).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(api.count('/jobs')).toBe(1);
  });

  it('an already aborted signal polls nothing', async () => {
    const { api, client } = await setup();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(client.waitForJob('1', { deadlineMs: 1_000, signal: controller.signal })).rejects.toThrow('gone');
    expect(api.count('/jobs')).toBe(0);
  });
});

describe('SaltClient.installPinned', () => {
  const changes = { nginx: { old: '1.22.1-9', new: '1.22.1-9+deb12u1' }, 'libnginx-mod-http-geoip': { old: '', new: '1.22.1-9+deb12u1' } };

  function installApi(result: { return: unknown; retcode?: number; success?: boolean } | undefined, published: unknown = undefined) {
    const jid = newJid();
    return {
      jid,
      script: {
        onChunk: (chunk: Chunk): ChunkReply => ({ return0: published ?? { jid, minions: (chunk.tgt as string[]).slice() } }),
        onJob: (id: string, poll: number) => ({
          body: jobBody(id, 'pkg.install', ['web1'], poll >= 2 && result !== undefined ? { web1: result } : {}),
        }),
      },
    };
  }

  it('sends pkgs=[{name: version}] via local_async, waits, and returns the changes', async () => {
    const { script } = installApi({ return: changes, retcode: 0, success: true });
    const { api, client } = await setup(script);
    const polls: number[] = [];
    const result = await client.installPinned(
      'web1',
      { nginx: '1.22.1-9+deb12u1', 'libnginx-mod-http-geoip': '1.22.1-9+deb12u1' },
      { deadlineMs: 5_000, pollMs: 20, onPoll: (p) => void polls.push(p.poll) },
    );
    expect(result).toEqual(changes);
    expect(polls).toEqual([1, 2]);
    expect(api.chunks()[0]).toEqual({
      client: 'local_async',
      tgt: ['web1'],
      tgt_type: 'list',
      fun: 'pkg.install',
      kwarg: { pkgs: [{ nginx: '1.22.1-9+deb12u1' }, { 'libnginx-mod-http-geoip': '1.22.1-9+deb12u1' }] },
      full_return: true,
    });
  });

  it('returns {} when nothing changed', async () => {
    const { script } = installApi({ return: {}, retcode: 0, success: true });
    const { client } = await setup(script);
    expect(await client.installPinned('web1', { nginx: '1.22.1-9' }, { deadlineMs: 5_000, pollMs: 20 })).toEqual({});
  });

  it('a failed install is a SaltExecutionError', async () => {
    const { script } = installApi({
      return: "ERROR: Problem encountered installing package(s). Additional info follows:\n\nerrors:\n    - E: Version '9.9' for 'nginx' was not found",
      retcode: 1,
      success: false,
    });
    const { client } = await setup(script);
    const error = await failure(client.installPinned('web1', { nginx: '9.9' }, { deadlineMs: 5_000, pollMs: 20 }));
    expect(error).toBeInstanceOf(SaltExecutionError);
    expect(error).toMatchObject({ minion: 'web1', fun: 'pkg.install', retcode: 1, retryable: false });
  });

  it('a minion that never returns is SaltNoAnswerError with the jid', async () => {
    const { jid, script } = installApi(undefined);
    const { client } = await setup(script);
    const error = await failure(client.installPinned('web1', { nginx: '1.22.1-9' }, { deadlineMs: 150, pollMs: 40 }));
    expect(error).toMatchObject({ type: 'SaltNoAnswerError', retryable: true, minion: 'web1', jid });
  });

  it('a minion whose key is not accepted is SaltNoAnswerError before any polling', async () => {
    const { script } = installApi(undefined, {});
    const { api, client } = await setup(script);
    expect(await failure(client.installPinned('web1', { nginx: '1' }, { deadlineMs: 1_000 }))).toBeInstanceOf(SaltNoAnswerError);
    expect(api.count('/jobs')).toBe(0);
  });

  it('refuses empty pins', async () => {
    const { client } = await setup();
    await expect(client.installPinned('web1', {}, { deadlineMs: 1 })).rejects.toThrow(TypeError);
    await expect(client.installPinned('web1', { nginx: '' }, { deadlineMs: 1 })).rejects.toThrow(TypeError);
  });
});

describe('SaltClient.reboot', () => {
  it('publishes system.reboot with local_async and does not wait', async () => {
    const jid = newJid();
    const { api, client } = await setup({ onChunk: () => ({ return0: { jid, minions: ['web1'] } }) });
    expect(await client.reboot('web1', { atMinutes: 1 })).toEqual({ jid, minions: ['web1'] });
    expect(api.chunks()[0]).toMatchObject({ client: 'local_async', fun: 'system.reboot', kwarg: { at_time: 1 } });
    expect(api.count('/jobs')).toBe(0);
  });
});
