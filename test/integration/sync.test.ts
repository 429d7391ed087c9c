import { WorkflowFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startUyuniLab, type UyuniLab } from '../../lab/uyuni/server.js';
import type { uyuniSync } from '../../workflows/index.js';
import { syncProgressQuery, type SyncSummary } from '../../workflows/messages.js';
import { isolatedDatabase, testConfig } from '../support/context.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

// The queue's scale from UYUNI's (Red Hat's) labels, written out rather than read from domain/severity.ts,
// so a wrong mapping there fails here. No severity: Security Advisory → Medium, anything else → Low.
const EXPECTED_SEVERITY: Record<string, string> = { Critical: 'Critical', Important: 'High', Moderate: 'Medium', Low: 'Low' };

// The sync end to end: real Temporal, real PostgreSQL, the lab's UYUNI over HTTP, the real client.
describe('uyuniSync against the lab', () => {
  let lab: UyuniLab;
  let tw: TestWorker;
  let n = 0;

  const runSync = (trigger: 'manual' | 'api' = 'manual') =>
    tw.client.workflow.execute<typeof uyuniSync>('uyuniSync', {
      taskQueue: tw.taskQueue,
      workflowId: `sync-test-${tw.taskQueue}-${++n}`,
      args: [{ trigger, uyuniRetry: { maximumAttempts: 3, initialIntervalMs: 100 } }],
      workflowExecutionTimeout: '2 minutes',
    });
  const cacheSnapshot = () =>
    tw.db.selectFrom('errata_cache').selectAll().orderBy('advisory_name').execute();

  beforeAll(async () => {
    lab = await startUyuniLab({ actionPickupMs: 50, actionCompleteMs: 100 });
    const DB_NAME = await isolatedDatabase('sync');
    tw = await startTestWorker(testConfig({ DB_NAME, UYUNI_URL: lab.url, UYUNI_SYNC_WORKERS: '8' }), 'sync');
  });
  afterAll(async () => {
    await tw?.close();
    await lab?.close();
  });
  beforeEach(() => {
    lab.faults.clear();
    lab.stats.reset();
  });

  it('fills the cache with exactly the lab ground truth: advisories, CVEs, severity, OS', async () => {
    const truth = lab.fleet.truth();
    const summary: SyncSummary = await runSync();
    expect(summary.errata).toBe(634);
    expect(summary.inserted).toBe(634);
    expect(summary.groups).toBe(2);
    expect(summary.systems).toBe(2);

    const rows = await cacheSnapshot();
    expect(rows.map((r) => r.advisory_name)).toEqual(Object.keys(truth.advisories).sort());
    for (const row of rows) {
      const t = truth.advisories[row.advisory_name]!;
      expect(row.advisory_type, row.advisory_name).toBe(t.type);
      expect(row.cves, row.advisory_name).toEqual([...t.cves].sort());
      expect(row.severity, row.advisory_name).toBe(t.severity ? EXPECTED_SEVERITY[t.severity] : t.type === 'Security Advisory' ? 'Medium' : 'Low');
      expect(row.target_os, row.advisory_name).toEqual([t.os]);
      expect(row.requires_reboot, row.advisory_name).toBe(t.rebootSuggested);
      expect(row.description, row.advisory_name).toBeTruthy();
      expect(row.uyuni_errata_id).toBe(t.id);
      expect(row.test_system_ids).toHaveLength(1);
    }
    // Ubuntu USNs carry no severity: Medium by type. RHSA carry their own.
    expect(rows.some((r) => r.advisory_name.startsWith('USN-') && r.severity === 'Medium')).toBe(true);
    expect(rows.some((r) => r.advisory_name.startsWith('RHSA-') && r.severity === 'Critical')).toBe(true);

    // CVEs were fetched for the Security Advisories only, details for each advisory once, one login.
    const security = Object.entries(truth.advisories).filter(([, a]) => a.type === 'Security Advisory').map(([name]) => name);
    const cveCalls = lab.stats.detail('errata.listCves').byArgument;
    expect(Object.keys(cveCalls).sort()).toEqual(security.sort());
    expect(Object.values(cveCalls).every((c) => c === 1)).toBe(true);
    expect(lab.stats.count('errata.getDetails')).toBe(634);
    expect(lab.stats.count('system.getRelevantErrata')).toBe(2);
    expect(lab.stats.count('auth.login')).toBeLessThanOrEqual(1);

    const run = await tw.db.selectFrom('sync_runs').selectAll().where('id', '=', summary.syncRunId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'succeeded', errata_count: 634, errata_inserted: 634, groups_count: 2, systems_count: 2, trigger: 'manual' });
    expect(run.duration_ms).toBeGreaterThan(0);
    expect(Object.keys(run.phase_durations).sort()).toEqual(['details', 'errata', 'groups']);
    const staged = await sql<{ n: number }>`select (select count(*) from sync_staging_errata) + (select count(*) from sync_staging_details) as n`.execute(tw.db);
    expect(Number(staged.rows[0]?.n)).toBe(0);
  });

  it('a second run changes nothing, fetches no details again and keeps descriptions', async () => {
    const before = await cacheSnapshot();
    const summary = await runSync();
    expect(summary).toMatchObject({ errata: 634, inserted: 0, updated: 0 });
    expect(lab.stats.count('errata.getDetails')).toBe(0);
    expect(lab.stats.count('errata.listCves')).toBe(0);
    expect(await cacheSnapshot()).toEqual(before);
  });

  it('follows UYUNI: an applied erratum leaves the relevant set; description and packages are never overwritten by NULL', async () => {
    const [ubuntu] = lab.fleet.systemsOf('ubuntu', 'test');
    const erratum = lab.fleet.relevantErrata(ubuntu!.id)[0]!;
    await tw.db.updateTable('errata_cache').set({ packages: JSON.stringify([{ id: 1, name: 'x', epoch: '', version: '1', release: '1', arch: 'amd64-deb', size: 1 }]) }).where('advisory_name', '=', erratum.advisoryName).execute();
    lab.fleet.scheduleApplyErrata([ubuntu!.id], [erratum.id]);
    await waitFor(() => (lab.fleet.tick(), !lab.fleet.isRelevant(ubuntu!.id, erratum.id)));

    const summary = await runSync();
    expect(summary.errata).toBe(633);
    expect(summary.updated).toBe(1);
    const row = await tw.db.selectFrom('errata_cache').selectAll().where('advisory_name', '=', erratum.advisoryName).executeTakeFirstOrThrow();
    expect(row.test_system_ids).toEqual([]);
    expect(row.description).toBeTruthy();
    expect(row.packages).toHaveLength(1);
  });

  it('an advisory updated without a details fetch keeps its description (the merge never writes NULL over it)', async () => {
    // A changed system list (here: the cache's row emptied by hand) makes the merge update the row, while
    // the unchanged update_date and present description plan no details fetch: the merge sees a NULL description.
    const [rhel] = lab.fleet.systemsOf('rhel', 'test');
    const erratum = lab.fleet.relevantErrata(rhel!.id)[0]!;
    const before = await tw.db.selectFrom('errata_cache').selectAll().where('advisory_name', '=', erratum.advisoryName).executeTakeFirstOrThrow();
    expect(before.description).toBeTruthy();
    await tw.db.updateTable('errata_cache').set({ test_system_ids: [] }).where('advisory_name', '=', erratum.advisoryName).execute();

    const summary = await runSync();
    expect(summary.updated).toBe(1);
    expect(lab.stats.count('errata.getDetails')).toBe(0);
    const after = await tw.db.selectFrom('errata_cache').selectAll().where('advisory_name', '=', erratum.advisoryName).executeTakeFirstOrThrow();
    expect(after.test_system_ids).toEqual([rhel!.id]);
    expect(after.description).toBe(before.description);
    expect(after.severity).toBe(before.severity);
    expect(after.cves).toEqual(before.cves);
  });

  it('a run that fails midway leaves the previous cache intact and records the failure', async () => {
    const before = await cacheSnapshot();
    // A different fleet state the failing run would have written, had it committed.
    const [rhel] = lab.fleet.systemsOf('rhel', 'test');
    const erratum = lab.fleet.relevantErrata(rhel!.id)[0]!;
    lab.fleet.scheduleApplyErrata([rhel!.id], [erratum.id]);
    await waitFor(() => (lab.fleet.tick(), !lab.fleet.isRelevant(rhel!.id, erratum.id)));
    // A complete but invalid body is not retryable: the run fails at once, in the details phase.
    lab.faults.inject({ method: 'errata.getDetails', kind: 'malformed', times: 'always' });
    const stillRelevant = lab.fleet.relevantErrata(rhel!.id)[0]!;
    await tw.db.updateTable('errata_cache').set({ description: null }).where('advisory_name', '=', stillRelevant.advisoryName).execute();
    const beforeWithNull = await cacheSnapshot();

    const err = await runSync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/sync run \d+ failed: .*errata.getDetails/);
    expect(await cacheSnapshot()).toEqual(beforeWithNull);
    expect(before.length).toBe(beforeWithNull.length);

    const failed = await tw.db.selectFrom('sync_runs').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/errata.getDetails/);
    const staged = await sql<{ n: number }>`select count(*)::int as n from sync_staging_errata`.execute(tw.db);
    expect(staged.rows[0]?.n).toBe(0);
  });

  it('recovers from session expiry and transient HTTP 500s, and reports progress while it runs', async () => {
    // The login count below must not depend on a session left by earlier tests: run once so the worker holds
    // one, then count from zero.
    await runSync();
    lab.stats.reset();
    lab.faults.inject({ method: 'system.getRelevantErrata', kind: 'sessionExpiry', times: 1 });
    lab.faults.inject({ method: 'systemgroup.listSystems', kind: 'http500', times: 1 });
    lab.faults.setLatency({ perMethod: { 'errata.getDetails': 20 } });
    await tw.db.updateTable('errata_cache').set({ description: null }).execute(); // forces the details phase
    const handle = await tw.client.workflow.start<typeof uyuniSync>('uyuniSync', {
      taskQueue: tw.taskQueue,
      workflowId: `sync-test-${tw.taskQueue}-${++n}`,
      args: [{ trigger: 'manual', uyuniRetry: { maximumAttempts: 3, initialIntervalMs: 100 } }],
    });
    let sawDetails = false;
    for (let i = 0; i < 200 && !sawDetails; i++) {
      const p = await handle.query(syncProgressQuery);
      if (p.phase === 'details' && p.systems.done === 2) {
        sawDetails = true;
        expect(p.groups).toEqual({ done: 2, total: 2 });
        expect(p.errata.seen).toBeGreaterThan(600);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sawDetails).toBe(true);
    const summary = await handle.result();
    expect(summary.errata).toBeGreaterThan(600);
    const final = await handle.query(syncProgressQuery);
    expect(final.phase).toBe('done');
    expect(lab.stats.count('auth.login')).toBe(1); // the transparent re-login after the expired session
    expect(lab.faults.list().every((r) => r.remaining === 0)).toBe(true);
  });

  it('bad credentials fail fast, without retries', async () => {
    const bad = await startTestWorker({ ...tw.config, uyuni: { ...tw.config.uyuni, password: 'wrong-password' } }, 'sync-bad');
    try {
      const started = Date.now();
      const err = await bad.client.workflow
        .execute<typeof uyuniSync>('uyuniSync', { taskQueue: bad.taskQueue, workflowId: `sync-bad-${bad.taskQueue}`, args: [{ trigger: 'manual' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toMatch(/password or username is incorrect/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(lab.stats.count('auth.login')).toBe(1);
      expect(String((err as WorkflowFailedError).cause?.message)).not.toMatch(/wrong-password/);
    } finally {
      await bad.close();
    }
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
