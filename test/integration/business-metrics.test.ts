import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase } from '../support/context.js';
import { seedDeploymentRows, seedItem, seedTest, seedTestSystem } from '../support/dashboard-seed.js';

// The API's /metrics reads the business series from PostgreSQL at scrape time: rows written here, values
// written out below (not recomputed with the product's queries).

/** `name{labels} value` lines of the exposition, keyed by the line's series. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

describe('business metrics on the API /metrics', () => {
  let api: TestApi;
  let scrape: Map<string, number>;
  let promoting: number;

  beforeAll(async () => {
    const DB_NAME = await isolatedDatabase('bizmetrics');
    api = await startTestApi({ DB_NAME });
    const { db } = api;
    await seedItem(db, 'RHSA-M-0001', 'queued', 'rhel');
    const waitingLong = await seedItem(db, 'RHSA-M-0002', 'pending_approval', 'rhel');
    const waitingShort = await seedItem(db, 'USN-M-0003', 'pending_approval', 'ubuntu');
    await seedItem(db, 'RHSA-M-0004', 'halted', 'rhel');
    promoting = await seedItem(db, 'USN-M-0005', 'promoting', 'ubuntu');
    await db.updateTable('patch_test_queue').set({ status_changed_at: ago(5 * 3600) }).where('id', '=', waitingLong).execute();
    await db.updateTable('patch_test_queue').set({ status_changed_at: ago(3600) }).where('id', '=', waitingShort).execute();

    const t1 = await seedTest(db, waitingLong, { status: 'passed' });
    const t2 = await seedTest(db, waitingShort, { status: 'passed' });
    const t3 = await seedTest(db, promoting, { status: 'rolled_back' });
    await seedTest(db, promoting, { status: 'failed' });
    const phase = (test_id: number, phase: 'patch' | 'validate', status: 'passed' | 'failed', ms: number | null) =>
      db.insertInto('patch_test_phases').values({ test_id, phase, status, started_at: ago(900), completed_at: ms === null ? null : new Date(), duration_ms: ms, details: '{}' }).execute();
    await phase(t1, 'patch', 'passed', 3_000);
    await phase(t2, 'patch', 'passed', 12_000);
    await phase(t1, 'validate', 'passed', 45_000);
    await phase(t3, 'patch', 'failed', 400_000);
    await phase(t3, 'validate', 'passed', null); // still running: not in the histogram

    const rollback = (scope: 'test' | 'production', rollback_type: 'package' | 'snapshot', status: 'running' | 'succeeded' | 'failed', key: string) =>
      db.insertInto('patch_rollbacks').values({ queue_id: promoting, scope, system_id: 7, rollback_type, status, idempotency_key: key, started_at: new Date() }).execute();
    await rollback('test', 'package', 'succeeded', 'r1');
    await rollback('test', 'package', 'succeeded', 'r2');
    await rollback('production', 'snapshot', 'failed', 'r3');

    await seedTestSystem(db, 901, 'rhel-a', 'rhel', { quarantineReason: 'reboot hung' });
    await seedTestSystem(db, 902, 'rhel-b', 'rhel');
    await seedTestSystem(db, 903, 'ubuntu-a', 'ubuntu', { leasedBy: 'patch-test-1' });

    const run = (status: 'running' | 'succeeded' | 'failed', finished: Date | null, duration_ms: number | null, id: string) =>
      db.insertInto('sync_runs').values({ workflow_id: `sync-${id}`, run_id: id, trigger: 'schedule', status, started_at: ago(7200), finished_at: finished, duration_ms }).execute();
    await run('succeeded', ago(3 * 3600), 9_000, 'a');
    await run('succeeded', ago(600), 4_200, 'b');
    await run('failed', ago(60), 1_000, 'c');
    await run('running', null, null, 'd');

    await db
      .insertInto('deployments')
      .values({ queue_id: promoting, workflow_id: `deploy-${promoting}`, requested_by: 'otto', request_id: 'req-1', source: 'api', status: 'promoting', policy: JSON.stringify({ canarySize: 1, soakSeconds: 60, waveSize: 5, failureBudgetCount: 2, failureBudgetPercent: 10 }) })
      .execute();
    await seedDeploymentRows(db, promoting, [{ wave: 0, status: 'failed' }, ...Array.from({ length: 9 }, () => ({ wave: 1, status: 'applied' as const }))]);

    // deliveries of events to an email and a webhook endpoint (the outbox's per-endpoint rows)
    const endpoint = async (name: string, kind: 'email' | 'webhook') =>
      (await db.insertInto('notification_endpoints').values({ name, kind, url: kind === 'webhook' ? 'https://hooks.example.com/spm' : null, secret: kind === 'webhook' ? 'whsec_bWV0cmljcy10ZXN0LXNlY3JldA==' : null, recipients: kind === 'email' ? ['ops@example.com'] : [], created_by: 'metrics-test' }).returning('id').executeTakeFirstOrThrow()).id;
    const mail = await endpoint('metrics-mail', 'email');
    const hook = await endpoint('metrics-hook', 'webhook');
    const note = async (endpointId: number, status: 'pending' | 'delivered' | 'failed', key: string) => {
      const ev = await db.insertInto('orchestrator_notifications').values({ event_type: 'test.passed', subject: 's', payload: '{}', dedupe_key: key, event_id: `msg_${key}` }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('notification_deliveries').values({ notification_id: ev.id, endpoint_id: endpointId, status }).execute();
    };
    await note(mail, 'pending', 'n1');
    await note(mail, 'pending', 'n2');
    await note(hook, 'delivered', 'n3');
    await note(hook, 'failed', 'n4');

    const res = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    scrape = parse(res.body);
  });

  afterAll(async () => api?.close());

  it('queue items by status and OS; pending approvals and the oldest wait', () => {
    expect(scrape.get('spm_queue_items{status="queued",os="rhel"}')).toBe(1);
    expect(scrape.get('spm_queue_items{status="pending_approval",os="rhel"}')).toBe(1);
    expect(scrape.get('spm_queue_items{status="pending_approval",os="ubuntu"}')).toBe(1);
    expect(scrape.get('spm_queue_items{status="halted",os="rhel"}')).toBe(1);
    expect(scrape.get('spm_queue_items{status="promoting",os="ubuntu"}')).toBe(1);
    expect(scrape.get('spm_approvals_pending')).toBe(2);
    expect(scrape.get('spm_approval_oldest_wait_seconds')).toBeGreaterThanOrEqual(18_000);
    expect(scrape.get('spm_approval_oldest_wait_seconds')).toBeLessThan(18_100);
  });

  it('tests by outcome and the phase-duration histogram (completed phases only)', () => {
    expect(scrape.get('spm_tests{outcome="passed"}')).toBe(2);
    expect(scrape.get('spm_tests{outcome="rolled_back"}')).toBe(1);
    expect(scrape.get('spm_tests{outcome="failed"}')).toBe(1);
    const b = (phase: string, status: string, le: string) => scrape.get(`spm_test_phase_duration_seconds_bucket{phase="${phase}",status="${status}",le="${le}"}`);
    expect([b('patch', 'passed', '1'), b('patch', 'passed', '5'), b('patch', 'passed', '15'), b('patch', 'passed', '+Inf')]).toEqual([0, 1, 2, 2]);
    expect(scrape.get('spm_test_phase_duration_seconds_sum{phase="patch",status="passed"}')).toBe(15);
    expect(scrape.get('spm_test_phase_duration_seconds_count{phase="patch",status="passed"}')).toBe(2);
    expect([b('patch', 'failed', '300'), b('patch', 'failed', '600')]).toEqual([0, 1]);
    expect([b('validate', 'passed', '30'), b('validate', 'passed', '60')]).toEqual([0, 1]);
    expect(scrape.get('spm_test_phase_duration_seconds_count{phase="validate",status="passed"}')).toBe(1);
  });

  it('rollbacks by scope, type and verification; test systems by state', () => {
    expect(scrape.get('spm_rollbacks{scope="test",type="package",result="verified"}')).toBe(2);
    expect(scrape.get('spm_rollbacks{scope="production",type="snapshot",result="not_verified"}')).toBe(1);
    expect(scrape.get('spm_rollbacks_not_verified_last_24h{scope="production"}')).toBe(1);
    expect(scrape.get('spm_rollbacks_not_verified_last_24h{scope="test"}')).toBe(0);
    expect(scrape.get('spm_test_systems{os="rhel",state="quarantined"}')).toBe(1);
    expect(scrape.get('spm_test_systems{os="rhel",state="free"}')).toBe(1);
    expect(scrape.get('spm_test_systems{os="ubuntu",state="leased"}')).toBe(1);
    expect(scrape.get('spm_test_systems{os="ubuntu",state="quarantined"}')).toBe(0);
  });

  it('the last successful sync: when, how long ago, how long it took; runs by status', () => {
    const at = scrape.get('spm_sync_last_success_timestamp_seconds')!;
    expect(Math.abs(at - (Date.now() / 1000 - 600))).toBeLessThan(30);
    expect(scrape.get('spm_sync_last_success_age_seconds')).toBeGreaterThanOrEqual(600);
    expect(scrape.get('spm_sync_last_success_age_seconds')).toBeLessThan(630);
    expect(scrape.get('spm_sync_last_success_duration_seconds')).toBe(4.2);
    expect(scrape.get('spm_sync_runs{status="succeeded"}')).toBe(2);
    expect(scrape.get('spm_sync_runs{status="failed"}')).toBe(1);
    expect(scrape.get('spm_sync_runs{status="running"}')).toBe(1);
  });

  it('rollout systems by state and the failure budget used by a running rollout', () => {
    expect(scrape.get('spm_deployment_systems{state="applied"}')).toBe(9);
    expect(scrape.get('spm_deployment_systems{state="failed"}')).toBe(1);
    // 1 failed of 10: 1/2 of the count budget, 10 % of a 10 % budget → 1 (used up; one more halts)
    expect(scrape.get(`spm_deployment_budget_used_ratio{queue_id="${promoting}"}`)).toBe(1);
    expect(scrape.get(`spm_deployment_active_targets{queue_id="${promoting}"}`)).toBe(10);
  });

  it('notification deliveries by status and channel; the sources it read', () => {
    expect(scrape.get('spm_notifications{status="pending",channel="email"}')).toBe(2);
    expect(scrape.get('spm_notifications{status="delivered",channel="webhook"}')).toBe(1);
    expect(scrape.get('spm_notifications{status="failed",channel="webhook"}')).toBe(1);
    expect(scrape.get('spm_business_metrics_up{source="postgres"}')).toBe(1);
    expect(scrape.get('spm_business_metrics_up{source="temporal"}')).toBe(1);
    expect(scrape.get('spm_temporal_task_queue_backlog{type="workflow"}')).toBeGreaterThanOrEqual(0);
  });

  it('a scrape with PostgreSQL unreachable still answers, with spm_business_metrics_up 0 and no stale values', async () => {
    const broken = await startTestApi({ DB_PORT: '1' });
    try {
      const res = await broken.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const m = parse(res.body);
      expect(m.get('spm_business_metrics_up{source="postgres"}')).toBe(0);
      expect([...m.keys()].some((k) => k.startsWith('spm_queue_items'))).toBe(false);
      expect([...m.keys()].some((k) => k.startsWith('spm_api_process_cpu_user_seconds_total'))).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
