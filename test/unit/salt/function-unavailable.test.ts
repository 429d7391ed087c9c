// Field input: a minion that cannot load a module answers the call with a string, not an HTTP error, in one of
// several forms (salt/loader/lazy.py, salt/minion.py). Salt 3007 without python3-dbus answers snapper.* with
// `'snapper' __virtual__ returned False: The snapper module cannot be loaded: missing python dbus module`,
// retcode 1. Every form is "this function is unavailable here" — for snapper that means "use the package
// restore point" — never a crash of the snapshot phase.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSaltFunctionUnavailable, SaltExecutionError, SaltFunctionUnavailableError } from '../../../activities/salt/errors.js';
import { failure, setup } from './support/harness.js';
import { full, jobBody } from './support/salt-api-server.js';

const read = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/field/${name}`, import.meta.url), 'utf8'));
interface Form {
  name: string;
  ret: unknown;
  expect?: { module: string; function?: string; form: string; detail?: string };
}
const catalogue = read('salt-function-unavailable-forms.json') as { called: string; forms: Form[]; notUnavailable: Form[] };
const FUN = catalogue.called;

describe('the Salt 3007 answer of a minion without python3-dbus', () => {
  it('means "snapper unavailable": snapperAvailable is false', async () => {
    const body = read('salt-snapper-virtual-false-no-dbus.json') as { return: [Record<string, unknown>] };
    const minion = Object.keys(body.return[0])[0] as string;
    const { client } = await setup({ onChunk: () => ({ return0: body.return[0] }) });
    expect(await client.snapperAvailable(minion)).toBe(false);
    const error = await failure(client.snapperCreate(minion, 'before RHSA-2025:1'));
    expect(error).toBeInstanceOf(SaltFunctionUnavailableError);
    expect(error).toMatchObject({
      type: 'SaltFunctionUnavailableError',
      retryable: false,
      reason: 'unavailable',
      unavailable: { module: 'snapper', form: 'virtual', detail: 'The snapper module cannot be loaded: missing python dbus module' },
    });
  });
});

describe.each(catalogue.forms)('unavailable: $name', (form) => {
  it('is a typed "function unavailable" result in a full_return reply', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: { web1: full(form.ret, 1) } }) });
    const result = (await client.local(['web1'], FUN)).web1;
    expect(result).toMatchObject({ kind: 'error', reason: 'unavailable', retcode: 1, unavailable: form.expect });
    expect(await client.snapperAvailable('web1')).toBe(false);
    const error = await failure(client.snapperList('web1'));
    expect(isSaltFunctionUnavailable(error)).toBe(true);
    expect((error as SaltFunctionUnavailableError).unavailable).toEqual(form.expect);
  });

  it('and in a job cache entry (retcode 1, success false)', async () => {
    const { client } = await setup({ onJob: (jid) => ({ body: jobBody(jid, FUN, ['web1'], { web1: { return: form.ret, retcode: 1, success: false } }) }) });
    const outcome = await client.waitForJob('20250701120000123456', { deadlineMs: 1_000, pollMs: 20 });
    expect(outcome.results.web1).toMatchObject({ kind: 'error', reason: 'unavailable', unavailable: form.expect });
  });
});

describe.each(catalogue.notUnavailable)('not unavailable: $name', (form) => {
  it('stays a plain failure of the call', async () => {
    const { client } = await setup({ onChunk: () => ({ return0: { web1: full(form.ret, 1) } }) });
    const result = (await client.local(['web1'], FUN)).web1;
    expect(result).toMatchObject({ kind: 'error', reason: 'failed' });
    const error = await failure(client.snapperAvailable('web1'));
    expect(error).toBeInstanceOf(SaltExecutionError);
    expect(isSaltFunctionUnavailable(error)).toBe(false);
  });
});

it('a module that answers is available', async () => {
  const { client } = await setup({ onChunk: () => ({ return0: { web1: full([{ id: 0, type: 'single', timestamp: 1, user: 'root', description: 'current', cleanup: '', userdata: {} }]) } }) });
  expect(await client.snapperAvailable('web1')).toBe(true);
});
