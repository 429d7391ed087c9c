import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiToken } from '../../config/api-tokens.js';
import { testTiming } from '../../temporal/tests.js';
import type { patchTest, uyuniSync } from '../../workflows/index.js';
import { testStatusQuery, workflowIds } from '../../workflows/messages.js';
import { bearer, startTestApi, TEST_TOKENS, type TestApi } from '../support/api.js';
import { launchChromium, watchProblems } from '../support/browser.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startFullLab, type FullLab } from '../support/lab.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

// The dashboard in Debian's Chromium (playwright-core) against the real API, worker, Temporal, PostgreSQL,
// Prometheus and the lab: sign-in per role, the overview's numbers, the inbox (keyboard included), the rollout
// page following a real rollout, halt and rollback, role limits the API enforces, axe-core on every page, and
// a screenshot of every page under test/output/dashboard/ for review.

const TIMING = {
  TEST_SETTLE_SECONDS: '1', TEST_METRICS_RANGE_SECONDS: '2', TEST_METRICS_WINDOW_SECONDS: '3', TEST_POLL_SECONDS: '0.3', TEST_LEASE_WAIT_SECONDS: '1',
};
const SHOTS = path.resolve('test/output/dashboard');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
type Role = ApiToken['role'];
const tokenOf = (role: Role) => TEST_TOKENS.find((t) => t.role === role)!;

describe('operator dashboard in Chromium', () => {
  let lab: FullLab;
  let tw: TestWorker;
  let api: TestApi;
  let browser: Browser;
  let base: string;
  const problems: string[] = [];
  const items: Record<'approve' | 'reject' | 'snooze' | 'forced' | 'halt', { queueId: number; handle: WorkflowHandle<typeof patchTest>; advisory: string }> = {} as never;

  const setConfig = (key: string, value: number) => api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
  const queueStatus = async (id: number) => (await tw.db.selectFrom('patch_test_queue').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
  const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 90_000) => {
    const end = Date.now() + ms;
    while (!(await ok().catch(() => false))) {
      if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  /** A patch whose test passed and now waits for a decision (a real patchTest on the lab's test system). */
  const passedTest = async (os: 'rhel' | 'ubuntu', index: number) => {
    const e = lab.fleet.findErrata({ os, personality: 'none', relevantTo: 'test', rebootSuggested: false, kernel: false }, 20)[index]!;
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/queue', headers: bearer('operator'), payload: { advisories: [e.advisoryName] } });
    expect(res.statusCode, res.body).toBe(201);
    const queueId: number = res.json().items[0].id;
    const handle = await tw.client.workflow.start<typeof patchTest>('patchTest', {
      taskQueue: tw.taskQueue, workflowId: workflowIds.patchTest(queueId),
      args: [{ queueId, requestedBy: 'e2e', timing: testTiming(tw.config), approval: { reminderSeconds: 3600, expirySeconds: 86400 } }],
    });
    for (let i = 0; i < 900; i++) {
      const v = await handle.query(testStatusQuery);
      if (v.status === 'pending_approval') return { queueId, handle, advisory: e.advisoryName };
      if (['failed', 'rolled_back'].includes(v.status)) throw new Error(`the test of ${e.advisoryName} did not pass: ${JSON.stringify(v.failure)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the test of ${e.advisoryName} did not finish`);
  };

  const signIn = async (role: Role): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const seen = await watchProblems(page);
    page.on('close', () => problems.push(...seen.filter((p) => !p.includes('Failed to load resource'))));
    await page.goto(`${base}/ui/`);
    await page.getByLabel('API token').fill(tokenOf(role).token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').waitFor();
    return page;
  };
  const open = async (page: Page, hash: string) => {
    await page.goto(`${base}/ui/#/${hash}`);
    await page.locator('main h1').first().waitFor();
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const axe = async (page: Page, where: string) => {
    if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE);
    const violations = (await page.evaluate(
      `axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
    )) as { id: string; impact: string; help: string; nodes: string[] }[];
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), where).toEqual([]);
  };
  const inboxItem = (page: Page, queueId: number) => page.locator(`[data-testid=inbox] [data-queue-id="${queueId}"]`);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    lab = await startFullLab({ prodSystemsPerOs: 4, prodOverlap: 1 });
    const DB_NAME = await isolatedDatabase('dashboard_e2e');
    tw = await startTestWorker(testConfig({ DB_NAME, ...lab.env, ...TIMING }), 'e2e');
    api = await startTestApi({ DB_NAME, ...lab.env, ...TIMING, TEMPORAL_TASK_QUEUE: tw.taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    await tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', { taskQueue: tw.taskQueue, workflowId: `e2e-sync-${tw.taskQueue}`, args: [{ trigger: 'manual' }] });
    for (const [k, v] of [['deploy.soak_minutes', 0.2], ['deploy.wave_size', 2], ['deploy.canary_size', 1], ['deploy.failure_budget_count', 1], ['deploy.failure_budget_percent', 50]] as const) {
      expect((await setConfig(k, v)).statusCode, k).toBe(200);
    }
    browser = await launchChromium();
    await new Promise((r) => setTimeout(r, 6_000)); // Prometheus scrapes the new exporters a few times
    // one test system per OS: the rhel and ubuntu tests run side by side
    const [approve, reject, forced] = await Promise.all([passedTest('rhel', 0), passedTest('ubuntu', 0), passedTest('rhel', 1)]).then(async (first) => first);
    const [snooze, halt] = await Promise.all([passedTest('ubuntu', 1), passedTest('rhel', 2)]);
    Object.assign(items, { approve, reject, forced, snooze, halt });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await tw?.close();
    await lab?.close();
  });

  it('signs in as each role: who and which role; only the buttons the role may use; the token stays out of URLs', async () => {
    for (const role of ['viewer', 'operator', 'approver', 'admin'] as const) {
      const page = await signIn(role);
      expect(await page.getByTestId('who').textContent()).toBe(tokenOf(role).name);
      expect(await page.getByTestId('role').textContent()).toBe(role);
      expect(page.url()).not.toContain(tokenOf(role).token);
      expect(await page.evaluate('sessionStorage.getItem("spm.token")')).toBe(tokenOf(role).token);
      await open(page, 'approvals');
      await inboxItem(page, items.approve.queueId).waitFor();
      const approveButtons = await page.getByRole('button', { name: /^Approve/ }).count();
      if (role === 'approver' || role === 'admin') expect(approveButtons, role).toBe(5);
      else expect(approveButtons, role).toBe(0);
      await open(page, 'queue');
      await page.getByTestId('queue-table').waitFor();
      expect(await page.getByText('Add advisories from the errata cache').count(), role).toBe(role === 'operator' || role === 'admin' ? 1 : 0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor();
      expect(await page.evaluate('sessionStorage.getItem("spm.token")')).toBeNull();
      await page.close();
    }
    const page = await signIn('viewer');
    await page.evaluate('sessionStorage.setItem("spm.token", "not-a-valid-token-at-all")');
    await page.reload();
    await page.getByLabel('API token').waitFor();
    await page.close();
  });

  it('the overview shows the lab’s numbers', async () => {
    const page = await signIn('viewer');
    await page.getByTestId('overview-sync').waitFor();
    const sync = await tw.db.selectFrom('sync_runs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    const testSystems = lab.fleet.systemsOf('rhel', 'test').length + lab.fleet.systemsOf('ubuntu', 'test').length;
    expect(sync.systems_count).toBe(testSystems);
    const text = async (id: string) => (await page.getByTestId(id).textContent())?.replace(/,/g, '');
    expect(await text('sync-systems')).toBe(String(testSystems));
    expect(await text('sync-errata')).toBe(String(sync.errata_count));
    expect(await text('systems-total')).toBe(String(testSystems));
    expect(await text('pending-count')).toBe('5');
    const queued = await tw.db.selectFrom('patch_test_queue').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '!=', 'cancelled').executeTakeFirstOrThrow();
    expect(await text('queue-total')).toBe(String(queued.n));
    await axe(page, 'overview');
    await shot(page, 'overview');
    await page.close();
  });

  it('approve from the inbox with the keyboard; the deployment page follows the rollout to its end', async () => {
    const page = await signIn('approver');
    await open(page, 'approvals');
    const card = inboxItem(page, items.approve.queueId);
    await card.waitFor();
    await axe(page, 'inbox');
    await shot(page, 'approvals-inbox');
    // Tab from the top of the page to this item's Approve button, as a keyboard user would
    const target = card.getByRole('button', { name: /^Approve/ });
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await target.evaluate((el) => el === el.ownerDocument.activeElement);
    }
    expect(reached, 'the Approve button is reachable with Tab').toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.evaluate((d) => d.contains(d.ownerDocument.activeElement)), 'focus moves into the dialog').toBe(true);
    await axe(page, 'approve dialog');
    await shot(page, 'approvals-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await target.evaluate((el) => el === el.ownerDocument.activeElement), 'Esc returns focus to the button').toBe(true);
    await page.keyboard.press('Enter');
    await dialog.getByLabel(/Reason/).fill('clean test, exploited CVE');
    await dialog.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
    await card.waitFor({ state: 'detached' });
    const rows = await tw.db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', items.approve.queueId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ decision: 'approve', decided_by: 'anna-approver', source: 'dashboard', reason: 'clean test, exploited CVE' });
    expect(await queueStatus(items.approve.queueId)).toBe('approved');
    await page.getByRole('tab', { name: 'Decision history' }).click();
    await page.getByTestId('history-table').getByText('clean test, exploited CVE').waitFor();
    expect(await page.getByTestId('history-table').locator('tbody tr').first().textContent()).toContain('dashboard');
    await page.close();

    // an operator starts the rollout from the Deployments page and watches it
    const op = await signIn('operator');
    await open(op, 'deployments');
    await op.getByRole('button', { name: new RegExp(`Start rollout of ${items.approve.advisory}`) }).click();
    await op.waitForURL(new RegExp(`#/deployments/${items.approve.queueId}$`));
    const waves = op.getByTestId('waves');
    const states = new Set<string>();
    await waitFor('the rollout page shows it completed', async () => {
      const summary = await op.locator('.summary .badge').first().textContent();
      states.add(summary ?? '');
      return summary === 'completed';
    }, 120_000);
    expect(states.has('promoting'), `the page followed the rollout (saw ${[...states].join(', ')})`).toBe(true);
    const prod = lab.fleet.systemsOf('rhel', 'prod').length;
    expect(await waves.locator('li.step').allTextContents()).toEqual([
      expect.stringMatching(/^Canary.*done.*1 system · 1 applied/),
      expect.stringMatching(/^Soak.*done.*ended/),
      ...Array.from({ length: Math.ceil((prod - 1) / 2) }, (_, i) => expect.stringMatching(new RegExp(`^Wave ${i + 1}.*done`))),
    ]);
    const systemStates = await op.getByTestId('deployment-systems').locator('tbody tr td:nth-child(4)').allTextContents();
    expect(systemStates).toEqual(Array(prod).fill('applied'));
    expect(await op.getByTestId('budget').textContent()).toMatch(/0 failed of 4 systems · allowed: at most 1 systems and 50 %/);
    await axe(op, 'deployment');
    await shot(op, 'deployment-completed');
    await op.close();
  });

  it('reject and snooze from the inbox, with a reason and a date picker', async () => {
    const page = await signIn('approver');
    await open(page, 'approvals');
    await inboxItem(page, items.reject.queueId).getByRole('button', { name: /^Reject/ }).click();
    await page.getByRole('dialog').getByLabel(/Reason/).fill('breaks our nginx config');
    await page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('status').filter({ hasText: 'rejected' }).waitFor();
    expect((await items.reject.handle.result()).status).toBe('rejected');
    expect(await tw.db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', items.reject.queueId).executeTakeFirstOrThrow()).toMatchObject({
      decision: 'reject', decided_by: 'anna-approver', source: 'dashboard', reason: 'breaks our nginx config',
    });

    await inboxItem(page, items.snooze.queueId).getByRole('button', { name: /^Snooze/ }).click();
    const until = new Date(Date.now() + 3 * 3600_000);
    until.setSeconds(0, 0);
    const local = await page.evaluate(`(() => { const d = new Date(${until.getTime()}); const p = (n) => String(n).padStart(2, '0'); return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()); })()`);
    await page.getByRole('dialog').getByLabel('Snooze until (your local time)').fill(String(local));
    await page.getByRole('dialog').getByLabel(/Reason/).fill('after the change freeze');
    await page.getByRole('dialog').getByRole('button', { name: 'Snooze' }).click();
    await page.getByRole('status').filter({ hasText: 'snoozed' }).waitFor();
    const row = await tw.db.selectFrom('patch_approvals').selectAll().where('queue_id', '=', items.snooze.queueId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ decision: 'snooze', source: 'dashboard', reason: 'after the change freeze' });
    expect(row.snooze_until?.getTime()).toBe(until.getTime());
    expect(await queueStatus(items.snooze.queueId)).toBe('snoozed');
    await inboxItem(page, items.snooze.queueId).getByText(/snoozed until/).waitFor();
    await page.close();
  });

  it('an operator’s token cannot approve: no button, and the API refuses the request the button would send', async () => {
    const page = await signIn('operator');
    await open(page, 'approvals');
    await inboxItem(page, items.forced.queueId).waitFor();
    expect(await inboxItem(page, items.forced.queueId).getByRole('button').count()).toBe(0);
    const answer = (await page.evaluate(`fetch('/api/v1/approvals/${items.forced.queueId}/approve', {
      method: 'POST', headers: { authorization: 'Bearer ' + sessionStorage.getItem('spm.token'), 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'forced', source: 'dashboard' }) }).then(async (r) => ({ status: r.status, body: await r.json() }))`)) as { status: number; body: { message: string } };
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(/role "operator" may not POST/);
    expect(await tw.db.selectFrom('patch_approvals').select('id').where('queue_id', '=', items.forced.queueId).execute()).toEqual([]);
    expect(await queueStatus(items.forced.queueId)).toBe('pending_approval');
    await page.close();
  });

  it('halt a rollout during its soak, then roll production back; each with a confirmation and a reason', async () => {
    expect((await setConfig('deploy.soak_minutes', 10)).statusCode).toBe(200);
    const page = await signIn('admin');
    await open(page, 'approvals');
    await inboxItem(page, items.halt.queueId).getByRole('button', { name: /^Approve/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
    await open(page, 'deployments');
    await page.getByRole('button', { name: new RegExp(`Start rollout of ${items.halt.advisory}`) }).click();
    await page.waitForURL(new RegExp(`#/deployments/${items.halt.queueId}$`));
    await page.getByTestId('waves').getByText(/^ends /).waitFor({ timeout: 60_000 });
    await shot(page, 'deployment-soaking');
    await page.getByRole('button', { name: 'Halt rollout' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Halt' }).click();
    expect(await dialog.isVisible(), 'a halt needs a reason').toBe(true);
    await dialog.getByLabel(/Reason/).fill('CPU alarms on the canary');
    await dialog.getByRole('button', { name: 'Halt' }).click();
    await waitFor('halted', async () => (await page.locator('.summary .badge').first().textContent()) === 'halted');
    expect(await tw.db.selectFrom('deployment_halts').selectAll().where('queue_id', '=', items.halt.queueId).execute()).toEqual([
      expect.objectContaining({ requested_by: 'adam-admin', source: 'dashboard', reason: 'CPU alarms on the canary' }),
    ]);
    await page.getByText(/Halt asked by adam-admin \(dashboard\)/).waitFor();
    const states = await page.getByTestId('waves').locator('li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states[0]).toBe('done');
    expect(states.length).toBeGreaterThan(2);
    expect(states.slice(1).every((s) => s === 'skipped'), `soak and later waves skipped: ${states.join(', ')}`).toBe(true);
    await page.getByTestId('waves').getByText(/^halted during the soak/).waitFor();

    await page.getByRole('button', { name: 'Roll back production' }).click();
    await dialog.getByLabel(/Reason/).fill('undo the canary');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await waitFor('rolled back', async () => (await queueStatus(items.halt.queueId)) === 'prod_rolled_back');
    await waitFor('the per-system result', async () => (await page.getByTestId('deployment-systems').locator('tbody tr').first().textContent())?.includes('succeeded') ?? false, 15_000);
    await page.getByText(/Rollback of 1 patched system asked by adam-admin/).waitFor();
    await axe(page, 'deployment rolled back');
    await shot(page, 'deployment-rolled-back');
    await page.close();
  });

  it('a viewer sees no action button on any page', async () => {
    const page = await signIn('viewer');
    const testId = (await tw.db.selectFrom('patch_tests').select('id').where('queue_id', '=', items.approve.queueId).executeTakeFirstOrThrow()).id;
    for (const hash of ['overview', 'approvals', 'queue', 'tests', `tests/${testId}`, 'deployments', `deployments/${items.approve.queueId}`, `deployments/${items.halt.queueId}`, 'errata', 'test-systems']) {
      await open(page, hash);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      const actions = page.getByRole('button', { name: /^(Approve|Reject|Snooze|Halt|Roll back|Start rollout|Start test|Release|Queue|Save|Cancel item)/ });
      expect(await actions.count(), hash).toBe(0);
    }
    await page.close();
  });

  it('polls one request per view every few seconds, and not at all while the tab is hidden', async () => {
    const page = await signIn('viewer');
    await open(page, 'overview');
    await page.getByTestId('overview-sync').waitFor();
    const calls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/')) calls.push(new URL(r.url()).pathname);
    });
    await page.waitForTimeout(11_000);
    expect(calls.length, calls.join(' ')).toBeGreaterThanOrEqual(2);
    expect(calls.length, calls.join(' ')).toBeLessThanOrEqual(3);
    expect(new Set(calls)).toEqual(new Set(['/api/v1/overview']));
    calls.length = 0;
    await page.evaluate(`Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await page.waitForTimeout(11_000);
    expect(calls, 'no request while hidden').toEqual([]);
    await page.evaluate(`Object.defineProperty(document, 'hidden', { value: false, configurable: true });
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await page.waitForTimeout(1_000);
    expect(calls, 'polling resumes at once when visible').toEqual(['/api/v1/overview']);
    await page.close();
  });

  it('axe-core finds no serious or critical violation on any page; a screenshot of each', async () => {
    const page = await signIn('admin');
    const testId = (await tw.db.selectFrom('patch_tests').select('id').where('queue_id', '=', items.halt.queueId).executeTakeFirstOrThrow()).id;
    const pages: [string, string, (() => Promise<void>)?][] = [
      ['overview', 'overview'],
      ['approvals', 'approvals'],
      ['approvals', 'approvals-history', async () => {
        await page.getByRole('tab', { name: 'Decision history' }).press('Enter');
        await page.getByTestId('history-table').waitFor();
      }],
      ['queue', 'queue', async () => {
        await page.getByRole('button', { name: /^Details/ }).first().click();
        await page.getByText(/^Success Score/).first().waitFor();
        await page.getByText('Add advisories from the errata cache').click();
      }],
      ['tests', 'tests'],
      [`tests/${testId}`, 'test'],
      ['deployments', 'deployments'],
      [`deployments/${items.approve.queueId}`, 'deployment'],
      ['errata', 'errata', async () => {
        await page.getByRole('button', { name: /^Details/ }).first().click();
        await page.getByText('Affected test systems', { exact: false }).waitFor();
      }],
      ['test-systems', 'test-systems'],
    ];
    for (const [hash, name, then] of pages) {
      await open(page, hash);
      await page.waitForLoadState('networkidle');
      await then?.();
      await page.waitForTimeout(300);
      await axe(page, name);
      await shot(page, name);
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    await axe(page, 'sign-in');
    await shot(page, 'sign-in');
    await page.close();
    expect(problems, 'no page error, console error or CSP violation on any page').toEqual([]);
  });
});
