import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Erratum } from '../../lab/fleet/index.js';
import { TEST_TOKENS } from '../support/api.js';
import { launchChromium, watchProblems } from '../support/browser.js';
import { errataForAll, expectOneApplyPerRun, nodesOf, queueInOrder, setConfig, startBundle } from '../support/bundles.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

// Issue 11, the hard cases of a bisection, on the real lab: two culprits in one bundle, errata that fail only
// together (the lab's interaction fault), and a failure that does not reproduce (the lab's flaky fault).
describe('bisection: the hard cases', { timeout: 600_000 }, () => {
  let t: TestEngine;
  const used: number[] = [];
  let base = 1;
  let interaction: { rootTestId: number; names: string[] } | undefined;
  const both = (e: Erratum) => t.lab.fleet.systemsOf('ubuntu', 'test').every((s) => t.lab.fleet.findErrata({ os: 'ubuntu', relevantTo: s.id }).some((x) => x.id === e.id));
  const clean = (n: number, avoid: Erratum[] = []) => {
    const picked = errataForAll(t, 'ubuntu', n + avoid.length + 4, { personality: 'none', kernel: false, rebootSuggested: false }, used).filter((e) => !avoid.some((a) => a.source === e.source));
    return picked.slice(0, n);
  };
  const run = async (errata: Erratum[]) => {
    used.push(...errata.map((e) => e.id));
    const ids = await queueInOrder(t, errata, base);
    base += 100;
    const started = await startBundle(t);
    expect(started.members).toEqual(ids);
    const r = await started.result;
    await expectOneApplyPerRun(t, 'ubuntu', started.bundleId, errata, ids);
    return { ids, verdicts: r.verdicts!, nodes: await nodesOf(t, started.bundleId), bundleId: started.bundleId };
  };
  const kinds = (v: Record<number, { verdict: string }>, ids: number[]) => ids.map((id) => v[id]?.verdict);

  beforeAll(async () => {
    t = await startTestEngine('bisect', { fleet: { testSystemsPerOs: 2 } });
    await setConfig(t, 'test.settle_seconds', 5);
    await setConfig(t, 'bundle.max_size', 8);
    await setConfig(t, 'bundle.alone_below_score', 0);
    await setConfig(t, 'bundle.failure_prior_percent', 0.5);
    // each case its own bundle of 8: the size from the scores alone, not from the failures of the case before
    await setConfig(t, 'bundle.recent_runs', 0);
  }, 240_000);
  afterAll(async () => t?.close());

  it('two faulty errata in one bundle (a CPU spike, a package that fails to apply) are both found; the others pass', async () => {
    const bad = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: 'test' }).filter(both).slice(0, 1)
      .concat(t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'fail_apply', relevantTo: 'test' }).filter(both).slice(0, 1));
    expect(bad).toHaveLength(2);
    const ok = clean(6, bad);
    const errata = [ok[0]!, bad[0]!, ok[1]!, ok[2]!, ok[3]!, ok[4]!, bad[1]!, ok[5]!];
    const { ids, verdicts } = await run(errata);
    expect(kinds(verdicts, ids), JSON.stringify(verdicts)).toEqual(['passed', 'rolled_back', 'passed', 'passed', 'passed', 'passed', 'rolled_back', 'passed']);
  });

  it('with work queued for the OS the halves run one after the other: a passing part is never run again, what was set aside rides in the next bundle', async () => {
    const bad = t.lab.fleet.findErrata({ os: 'ubuntu', personality: 'cpu_spike', relevantTo: 'test', exclude: used }).filter(both).slice(0, 1);
    expect(bad).toHaveLength(1);
    const ok = clean(8, bad);
    const errata = [ok[0]!, bad[0]!, ...ok.slice(1, 7)];
    used.push(...errata.map((e) => e.id), ok[7]!.id);
    const ids = await queueInOrder(t, errata, base);
    // a ninth erratum waits behind them (bundle.max_size 8): no test system is spare, so no two runs at once
    const [waiting] = await queueInOrder(t, [ok[7]!], base + 50);
    base += 100;
    const started = await startBundle(t);
    expect(started.members).toEqual(ids);
    const result = await started.result;
    const verdicts = result.verdicts!;
    await expectOneApplyPerRun(t, 'ubuntu', started.bundleId, errata, ids);
    const nodes = await nodesOf(t, started.bundleId);
    // the bundle; its first half fails; that half's first half fails; the first erratum alone passes, so the
    // second is the culprit by inference, proven by a run of it alone. What was set aside (the second half of
    // the bundle) is neither passed nor blamed: with work queued for the OS it goes back to the queue, no rest run
    const setAside = ids.slice(2);
    expect(kinds(verdicts, ids), JSON.stringify(verdicts)).toEqual(['passed', 'rolled_back', ...setAside.map(() => undefined)]);
    expect(Object.keys(result.untested ?? {}).map(Number).sort((a, b) => a - b)).toEqual([...setAside].sort((a, b) => a - b));
    expect(nodes.map((n) => [n.kind, n.member_ids.length])).toEqual([['bundle', 8], ['half', 4], ['half', 2], ['half', 1], ['half', 1]]);
    expect(nodes.find((n) => n.id === verdicts[ids[1]!]?.provenBy)?.member_ids).toEqual([ids[1]]);
    const rows = await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status', 'status_reason']).where('id', 'in', setAside).orderBy('id').execute();
    for (const r of rows) expect(r).toMatchObject({ status: 'queued', status_reason: expect.stringMatching(new RegExp(`set aside untested by bundle #${started.bundleId}'s bisection .*neither passed nor blamed`)) });
    expect(await t.tw.db.selectFrom('patch_test_queue').select('status').where('id', '=', waiting!).executeTakeFirstOrThrow()).toEqual({ status: 'queued' });
    // the next bundle takes them, in work order, with the erratum that waited: all pass in its one run
    const next = await startBundle(t);
    expect(next.members).toEqual([...setAside, waiting]);
    const after = (await next.result).verdicts!;
    expect(kinds(after, next.members)).toEqual(next.members.map(() => 'passed'));
    expect((await nodesOf(t, next.bundleId)).map((n) => n.kind)).toEqual(['bundle']);
  });

  it('an interaction pair is reported together, neither passes, nobody else is blamed', async () => {
    const errata = clean(8);
    const [a, b] = [errata[2]!, errata[5]!];
    t.lab.fleet.addErratumFault({ kind: 'interaction', errataIds: [a.id, b.id] });
    try {
      const { ids, verdicts, nodes } = await run(errata);
      interaction = { rootTestId: nodes[0]!.test_id!, names: [a.advisoryName, b.advisoryName] };
      expect(kinds(verdicts, ids), JSON.stringify(verdicts)).toEqual(['passed', 'passed', 'interaction', 'passed', 'passed', 'interaction', 'passed', 'passed']);
      expect(verdicts[ids[2]!]?.reason).toContain(`fails together with ${b.advisoryName}`);
      expect(verdicts[ids[5]!]?.partners).toEqual([ids[2]]);
      // proven by a run of exactly the pair; both halves passed and the whole was retested once
      expect(nodes.find((n) => n.id === verdicts[ids[2]!]?.provenBy)?.member_ids.sort()).toEqual([ids[2], ids[5]].sort());
      expect(nodes.filter((n) => n.kind === 'retest')).toHaveLength(1);
      const rows = await t.tw.db.selectFrom('patch_test_queue').select(['id', 'status', 'status_reason']).where('id', 'in', [ids[2]!, ids[5]!]).execute();
      for (const r of rows) expect(r).toMatchObject({ status: 'rolled_back', status_reason: expect.stringMatching(/fails together with/) });
      // neither counts as its own failure in the Success Score's history
      const own = await t.tw.db.selectFrom('patch_tests').select('id').where('bundle_id', 'in', nodes.map((n) => n.id)).where('failure_cause', '=', 'patch').execute();
      expect(own).toEqual([]);
    } finally {
      t.lab.fleet.clearErratumFaults();
    }
  });

  it('a flaky failure is inconclusive for the run, retested, and never blamed', async () => {
    const errata = clean(8);
    t.lab.fleet.addErratumFault({ kind: 'flaky', erratumId: errata[4]!.id, every: 100 });
    try {
      const { ids, verdicts, nodes } = await run(errata);
      expect(kinds(verdicts, ids), JSON.stringify(verdicts)).toEqual(ids.map(() => 'passed'));
      expect(nodes.map((n) => n.kind)).toEqual(['bundle', 'half', 'half', 'retest']);
      expect(nodes[0]!.status).toBe('failed');
      expect(verdicts[ids[4]!]?.reason).toMatch(/did not reproduce/);
      const rows = await t.tw.db.selectFrom('patch_tests').select(['failure_cause']).where('bundle_id', 'in', nodes.map((n) => n.id)).where('status', '<>', 'passed').execute();
      expect(rows.map((r) => r.failure_cause)).toEqual(['bundle']);
    } finally {
      t.lab.fleet.clearErratumFaults();
    }
  });

  it('the dashboard shows the bundle on its run\'s Test page: members with their own verdicts, and the tree of runs', async () => {
    expect(interaction, 'the interaction case ran').toBeDefined();
    await t.api.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(t.api.app.server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      const problems = await watchProblems(page);
      await page.goto(`${baseUrl}/ui/`);
      await page.getByLabel('API token').fill(TEST_TOKENS.find((x) => x.role === 'viewer')!.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('who').waitFor();
      await page.goto(`${baseUrl}/ui/#/tests/${interaction!.rootTestId}`);
      const section = page.locator('section[aria-labelledby=bundle-title]');
      await section.locator('table tbody tr').first().waitFor();
      expect(await section.locator('table tbody tr').count()).toBe(8);
      for (const name of interaction!.names) {
        const row = section.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: name }) });
        expect(await row.textContent()).toMatch(/interaction.*fails together with/s);
      }
      // the tree: the bundle, its halves, the retest and the probes, nested under the runs that started them
      expect(await section.locator('ul.run-tree li').count()).toBeGreaterThanOrEqual(5);
      expect(await section.locator('ul.run-tree ul.run-tree').count()).toBeGreaterThanOrEqual(2);
      expect(problems.filter((p) => !p.includes('Failed to load resource'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
