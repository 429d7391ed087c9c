// Field input: salt-api's GET /jobs/<jid> (runner jobs.list_job) can carry info[0].Error "Cannot contact
// returner or no job with this jid" *beside* a filled Result — the job cache lost (or has not yet written) the
// job's load, but the minions' returns are there. The returns are the answer; the Error only says that the
// expected minion list is unknown.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SaltProtocolError } from '../../../activities/salt/errors.js';
import { failure, setup } from './support/harness.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/field/${name}`, import.meta.url), 'utf8'));
const MINION = 'test-rhel9-01.lab.example';
const CHANGES = { bash: { old: '5.1.8-6.el9', new: '5.1.8-9.el9_4' } };

describe('GET /jobs/<jid> with an Error beside the returns', () => {
  it('job() gives the returns and says the load is missing', async () => {
    const { client } = await setup({ onJob: () => ({ body: fixture('salt-jobs-error-beside-result.json') }) });
    const job = await client.job('20250701120000123456');
    expect(job.results).toEqual({ [MINION]: { kind: 'ok', ret: CHANGES, retcode: 0 } });
    expect(job.cacheError).toBe('Cannot contact returner or no job with this jid');
    expect(job.fun).toBeUndefined();
    expect(job.minions).toEqual([]);
  });

  it('installPinned returns the changes instead of failing the rollback', async () => {
    const { client } = await setup({
      onChunk: () => ({ return0: { jid: '20250701120000123456', minions: [MINION] } }),
      onJob: () => ({ body: fixture('salt-jobs-error-beside-result.json') }),
    });
    expect(await client.installPinned(MINION, { bash: '5.1.8-9.el9_4' }, { deadlineMs: 2_000, pollMs: 20 })).toEqual(CHANGES);
  });

  it('a failed return beside the Error is still that failure', async () => {
    const body = fixture('salt-jobs-error-beside-result.json') as { info: [{ Result: Record<string, unknown> }] };
    body.info[0].Result[MINION] = { return: 'ERROR: Error occurred installing package(s)', retcode: 1, success: false };
    const { client } = await setup({ onJob: () => ({ body }) });
    expect((await client.job('20250701120000123456')).results[MINION]).toMatchObject({ kind: 'error', reason: 'failed', retcode: 1 });
  });

  it('without a minion list the wait cannot call the job complete: it waits for the deadline and says incomplete', async () => {
    const { client } = await setup({ onJob: () => ({ body: fixture('salt-jobs-error-beside-result.json') }) });
    const started = Date.now();
    const outcome = await client.waitForJob('20250701120000123456', { deadlineMs: 200, pollMs: 40 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(outcome.complete).toBe(false);
    expect(outcome.results[MINION]).toMatchObject({ kind: 'ok' });
  });

  it('an Error with no returns at all is retryable: a poll goes on and picks the returns up when they come', async () => {
    const { client } = await setup({
      onJob: (_jid, poll) => ({ body: fixture(poll < 3 ? 'salt-jobs-error-no-result.json' : 'salt-jobs-error-beside-result.json') }),
    });
    const error = await failure(client.job('20250701120000123456'));
    expect(error).toBeInstanceOf(SaltProtocolError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('Cannot contact returner or no job with this jid');
    const outcome = await client.waitForJob('20250701120000123456', { minions: [MINION], deadlineMs: 2_000, pollMs: 20 });
    expect(outcome).toMatchObject({ complete: true, polls: 2 });
    expect(outcome.results[MINION]).toMatchObject({ kind: 'ok', ret: CHANGES });
  });

  it('an Error with no returns until the deadline ends the wait with that error, not with "no answer"', async () => {
    const { client } = await setup({ onJob: () => ({ body: fixture('salt-jobs-error-no-result.json') }) });
    const error = await failure(client.waitForJob('20250701120000123456', { minions: [MINION], deadlineMs: 150, pollMs: 30 }));
    expect(error).toBeInstanceOf(SaltProtocolError);
    expect(error.message).toContain('Cannot contact returner');
  });
});
