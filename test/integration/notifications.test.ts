import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Webhook } from 'standardwebhooks';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import { InvalidEventError, recordEvent, syncEnvEmailEndpoints, type EventInput } from '../../db/queries/notifications.js';
import { quarantine } from '../../db/queries/test-systems.js';
import { failSyncRun } from '../../db/queries/sync-runs.js';
import { envelopeSchema, EVENT_TYPES, type EventEnvelope, type EventType } from '../../domain/notification-events.js';
import { eventSubject } from '../../domain/notification-render.js';
import { startNotifyLab, type NotifyLab } from '../../lab/notify/server.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, testConfig, uniqueTaskQueue } from '../support/context.js';
import { startPythonVerifier, type PythonVerifier } from '../support/python-verifier.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';
import { WorkerProcess } from '../support/worker-process.js';

// Notifications end to end on the real parts: the outbox in PostgreSQL, the delivery workflows on a real
// worker and Temporal server, a real SMTP server (the lab's, npm smtp-server) and real HTTP receivers — the
// lab's and one in Python that verifies every signature with PyPI's standardwebhooks (an implementation
// independent of the npm one the orchestrator signs with).

const SECRET_A = `whsec_${Buffer.from('notification-test-secret-a-32byte').toString('base64')}`;
const SECRET_B = `whsec_${Buffer.from('notification-test-secret-b-32byte').toString('base64')}`;
const SCHEDULE = '200ms,300ms,500ms,1s,1s,2s,2s,2s,3s';
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v));

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Representative data of every event type (what the state changes write). */
const SAMPLES: { [T in EventType]: EventInput<T> } = {
  'sync.completed': { queue_id: null, advisory: null, os: null, sync_run_id: 7, trigger: 'schedule', groups: 2, systems: 12, errata: 634, inserted: 3, updated: 1, duration_seconds: 3.9 },
  'sync.failed': { queue_id: null, advisory: null, os: null, sync_run_id: 8, trigger: 'api', error: 'UYUNI answered HTTP 503 three times' },
  'test.passed': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', test_id: 41, workflow_id: 'patch-test-4', test_system: 'test-rhel-a', failure_phase: null, reason: null, cpu_delta: 1.5, memory_delta: -0.4 },
  'test.failed': { queue_id: null, advisory: 'USN-7001-1', os: 'ubuntu', test_id: 42, workflow_id: 'patch-test-5', test_system: 'test-ubuntu-a', failure_phase: 'patch', reason: 'the UYUNI action failed', cpu_delta: null, memory_delta: null },
  'test.rolled_back': { queue_id: null, advisory: 'USN-7002-1', os: 'ubuntu', test_id: 43, workflow_id: 'patch-test-6', test_system: 'test-ubuntu-b', failure_phase: 'services', reason: 'nginx stopped', cpu_delta: 0.2, memory_delta: 0.1 },
  'test.inconclusive': { queue_id: null, advisory: 'RHBA-2025:1111', os: 'rhel', test_id: 44, workflow_id: 'patch-test-7', test_system: 'test-rhel-b', failure_phase: 'snapshot', reason: 'the system did not come to rest', cpu_delta: null, memory_delta: null },
  'bundle.culprit_found': { queue_id: null, advisory: null, os: 'rhel', bundle_id: 3, culprit_advisory: 'RHSA-2025:2000', culprit_queue_id: null, members: ['RHSA-2025:2000', 'RHSA-2025:2001'], test_id: 45, reason: 'httpd stopped' },
  'approval.requested': {
    queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', test_id: 41, synopsis: 'Important: openssl security update', severity: 'High', cves: ['CVE-2025-41868'], success_score: 72,
    evidence: { test_id: 41, test_system: 'test-rhel-a', cpu_delta: 1.5, memory_delta: -0.4, services: { sshd: true, httpd: true }, reboot_duration_seconds: null, snapshot_type: 'package', completed_at: '2026-12-04T20:00:00.000Z' },
  },
  'approval.reminder': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', test_id: 41, reminder: 2, reason: 'a passed patch still waits for a decision' },
  'approval.decided': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', approval_id: 9, test_id: 41, decision: 'snooze', by: 'anna-approver', reason: 'after the freeze', until: '2026-12-10T08:00:00.000Z', source: 'dashboard' },
  'approval.expired': { queue_id: null, advisory: 'USN-7003-1', os: 'ubuntu', test_id: 46, reason: 'no decision before the approval expired' },
  'deployment.started': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', deployment_id: 2, workflow_id: 'deploy-4', requested_by: 'otto-operator', source: 'api', policy: { canarySize: 1, waveSize: 5 } },
  'deployment.wave_completed': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', workflow_id: 'deploy-4', targets: 10, applied: 1, failed: 0, wave: 0, wave_kind: 'canary', wave_applied: 1, wave_failed: 0 },
  'deployment.halted': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', workflow_id: 'deploy-4', targets: 10, applied: 4, failed: 3, cause: 'budget', by: null, reason: 'failure budget exceeded: 3 of 10', skipped: 3 },
  'deployment.verdict_paused': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', verdict_id: 7, wave: 0, group: 'prod-rhel9', verdict: 'marginal', score: 50, reminder: 1, reason: 'marginal: score 50 (pass ≥ 90, marginal ≥ 50)' },
  'deployment.completed': { queue_id: null, advisory: 'USN-7004-1', os: 'ubuntu', workflow_id: 'deploy-8', targets: 10, applied: 10, failed: 0, skipped: 0 },
  'deployment.rolled_back': { queue_id: null, advisory: 'RHSA-2025:0948', os: 'rhel', workflow_id: 'deploy-4', verified: true, rolled_back: 4, failed: 0, reason: null },
  'advisory.retracted': { queue_id: null, advisory: 'RHSA-2025:0950', os: null, reason: 'RHSA-2025:0950 was retracted by its vendor (UYUNI advisory_status "retracted")', found_by: 'sync', cancelled: [5, 6], halted: [4], refused: [] },
  'test_system.quarantined': { queue_id: null, advisory: null, os: 'rhel', system_id: 1000010001, name: 'test-rhel-a', reason: 'did not come back from a reboot within 60 s', test_id: 47 },
  'notification.test': { queue_id: null, advisory: null, os: null, endpoint_id: 1, requested_by: 'adam-admin', message: 'hello' },
};

describe('notifications: outbox, email and signed webhooks', () => {
  let lab: NotifyLab;
  let py: PythonVerifier;
  let tw: TestWorker;
  let api: TestApi;
  let db: Db;
  let overrides: Record<string, string>;

  const createEndpoint = async (body: Record<string, unknown>) => {
    const r = await api.app.inject({ method: 'POST', url: '/api/v1/notifications/endpoints', headers: bearer('admin'), payload: body });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { endpoint: { id: number }; secret: string | null };
  };
  const deliveriesOf = (endpointId: number) =>
    db.selectFrom('notification_deliveries as d').innerJoin('orchestrator_notifications as n', 'n.id', 'd.notification_id')
      .select(['d.id', 'd.status', 'd.attempts', 'n.event_id', 'n.event_type']).where('d.endpoint_id', '=', endpointId).orderBy('d.id').execute();
  const attemptsOf = (deliveryId: number) => db.selectFrom('notification_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt').execute();
  const record = <T extends EventType>(type: T, data: EventInput<T>, opts: Parameters<typeof recordEvent>[3] = {}) =>
    db.transaction().execute((trx) => recordEvent(trx, type, data, opts));

  beforeAll(async () => {
    lab = await startNotifyLab({ defaultSecrets: [SECRET_A] });
    py = await startPythonVerifier([SECRET_A]);
    const DB_NAME = await isolatedDatabase('notify');
    overrides = {
      DB_NAME, SMTP_URL: lab.smtpUrl, SMTP_REQUIRE_TLS: 'false', SMTP_FROM: 'SPM <spm@test.local>', NOTIFY_RETRY_SCHEDULE: SCHEDULE,
      NOTIFY_SWEEP_SECONDS: '2', NOTIFY_DASHBOARD_URL: 'https://spm.example.org', TEMPORAL_UI_URL: 'https://temporal.example.org',
    };
    const config = testConfig(overrides);
    tw = await startTestWorker(config, 'notify');
    api = await startTestApi(overrides);
    db = tw.db;
  });

  afterAll(async () => {
    await api?.close();
    await tw?.close();
    await py?.close();
    await lab?.close();
  });

  it('delivers every event type once, by email and by a webhook whose signature Python verifies, with its fixed schema', async () => {
    const hook = await createEndpoint({ name: 'python', kind: 'webhook', url: py.url, secret: SECRET_A, event_types: ['*'] });
    expect(hook.secret).toBeNull(); // given, not generated: nothing to show
    const mail = await createEndpoint({ name: 'approvers', kind: 'email', recipients: ['approvers@test.local', 'sre@test.local'], event_types: ['*'] });
    const ids = new Map<string, EventType>();
    await db.transaction().execute(async (trx) => {
      for (const type of EVENT_TYPES) ids.set((await recordEvent(trx, type, SAMPLES[type] as never, { workflowId: `wf-${type}` }))!, type);
    });
    expect(ids.size).toBe(EVENT_TYPES.length);

    await until('every delivery delivered', async () => {
      const rows = [...(await deliveriesOf(hook.endpoint.id)), ...(await deliveriesOf(mail.endpoint.id))];
      return rows.length === 2 * EVENT_TYPES.length && rows.every((r) => r.status === 'delivered');
    });
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive

    const received = await py.received();
    expect(received).toHaveLength(EVENT_TYPES.length);
    expect(new Set(received.map((r) => r.webhook_id))).toEqual(new Set(ids.keys()));
    for (const r of received) {
      expect(r.verified, r.error ?? '').toBe(true);
      expect(r.webhook_signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      const type = ids.get(r.webhook_id)!;
      const body = JSON.parse(r.body) as EventEnvelope;
      expect(body.type).toBe(type);
      expect(Value.Check(envelopeSchema(type), body), `${type}: ${JSON.stringify([...Value.Errors(envelopeSchema(type), body)][0])}`).toBe(true);
      const { links, ...data } = body.data;
      expect(data).toEqual(SAMPLES[type]);
      expect(links.temporal).toBe(`https://temporal.example.org/namespaces/default/workflows/wf-${type}`);
      expect(links.dashboard.startsWith('https://spm.example.org/ui/')).toBe(true);
      expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(120_000);
    }

    const mails = lab.mails.filter((m) => m.to.includes('approvers@test.local'));
    expect(mails).toHaveLength(EVENT_TYPES.length);
    expect(new Set(mails.map((m) => m.eventId))).toEqual(new Set(ids.keys()));
    for (const m of mails) {
      const type = ids.get(m.eventId!)!;
      expect(m.eventType).toBe(type);
      expect(m.from).toBe('spm@test.local');
      expect(m.to.sort()).toEqual(['approvers@test.local', 'sre@test.local']);
      expect(m.subject).toBe(eventSubject(type, SAMPLES[type] as never));
      expect(m.messageId).toBe(`<${m.eventId}@spm-orchestrator>`);
      expect(m.text).toContain('https://spm.example.org/ui/');
      expect(m.html).toContain('<table');
    }
    const approval = mails.find((m) => m.eventType === 'approval.requested')!;
    expect(approval.subject).toBe('Approval needed: RHSA-2025:0948 (rhel)');
    for (const line of ['CVE-2025-41868', 'CPU change', '+1.5 points', 'Memory change', '-0.4 points', 'sshd: running', 'test-rhel-a', 'Approval inbox', 'https://spm.example.org/ui/#/approvals']) {
      expect(approval.text).toContain(line);
    }
    expect(approval.html).toContain('href="https://spm.example.org/ui/#/approvals"');

    // The Python verifier refuses what was not signed with the secret as sent: a tampered body, another secret.
    const sample = received[0]!;
    const headers = { 'webhook-id': sample.webhook_id, 'webhook-timestamp': sample.webhook_timestamp, 'webhook-signature': sample.webhook_signature, 'content-type': 'application/json' };
    const tampered = await fetch(py.url, { method: 'POST', headers, body: sample.body.replace('"data":{', '"data":{"injected":1,') });
    expect(tampered.status).toBe(401);
    const forged = new Webhook(SECRET_B).sign(sample.webhook_id, new Date(), sample.body);
    expect((await fetch(py.url, { method: 'POST', headers: { ...headers, 'webhook-signature': forged }, body: sample.body })).status).toBe(401);
    expect((await fetch(py.url, { method: 'POST', headers, body: sample.body })).status).toBe(200); // the original still verifies
    const verdicts = (await py.received()).slice(-3).map((r) => r.verified);
    expect(verdicts).toEqual([false, false, true]);

    // Rotation: the new secret signs beside the old one; a receiver knowing only the old still accepts.
    const rotated = await api.app.inject({ method: 'POST', url: `/api/v1/notifications/endpoints/${hook.endpoint.id}/rotate-secret`, headers: bearer('admin'), payload: { overlap_hours: 1 } });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const newSecret = rotated.json().secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(rotated.json().endpoint.active_secrets).toBe(2);
    const test = await api.app.inject({ method: 'POST', url: `/api/v1/notifications/endpoints/${hook.endpoint.id}/test`, headers: bearer('admin'), payload: { message: 'rotation' } });
    expect(test.statusCode, test.body).toBe(202);
    const during = await until('the test event at the Python receiver', async () => (await py.received()).find((r) => r.webhook_id === test.json().event_id));
    expect(during.verified).toBe(true);
    expect(during.webhook_signature.split(' ')).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(during.body, { 'webhook-id': during.webhook_id, 'webhook-timestamp': during.webhook_timestamp, 'webhook-signature': during.webhook_signature })).not.toThrow();
    // only the test endpoint got the test event
    expect((await deliveriesOf(mail.endpoint.id)).some((d) => d.event_id === test.json().event_id)).toBe(false);
    // the secrets never leave through the API
    const listed = await api.app.inject({ method: 'GET', url: '/api/v1/notifications/endpoints', headers: bearer('admin') });
    expect(listed.body).not.toContain('whsec_');
    await api.app.inject({ method: 'PATCH', url: `/api/v1/notifications/endpoints/${hook.endpoint.id}`, headers: bearer('admin'), payload: { enabled: false } });
    await api.app.inject({ method: 'PATCH', url: `/api/v1/notifications/endpoints/${mail.endpoint.id}`, headers: bearer('admin'), payload: { enabled: false } });
  });

  it('a receiver that fails 3 times then succeeds gets the same webhook-id 4 times; the delivery ends delivered with 4 attempts recorded', async () => {
    lab.setHook('flaky', { failTimes: 3, failStatus: 503 });
    const ep = await createEndpoint({ name: 'flaky', kind: 'webhook', url: lab.hookUrl('flaky'), secret: SECRET_A, event_types: ['deployment.*'] });
    await record('deployment.completed', SAMPLES['deployment.completed']);
    await record('approval.reminder', SAMPLES['approval.reminder']); // not in its filter
    const [d] = await until('delivered', async () => {
      const rows = await deliveriesOf(ep.endpoint.id);
      return rows.length === 1 && rows[0]!.status === 'delivered' && rows;
    });
    const got = lab.webhooks.filter((w) => w.hook === 'flaky');
    expect(got).toHaveLength(4);
    expect(new Set(got.map((w) => w.headers['webhook-id']))).toEqual(new Set([d!.event_id]));
    expect(got.every((w) => w.verified)).toBe(true);
    expect(got.map((w) => w.answered)).toEqual([503, 503, 503, 200]);
    const attempts = await attemptsOf(d!.id);
    expect(attempts.map((a) => [a.attempt, a.status, a.status_code])).toEqual([[1, 'failed', 503], [2, 'failed', 503], [3, 'failed', 503], [4, 'succeeded', 200]]);
    for (const a of attempts.slice(0, 3)) {
      expect(a.error).toBe('HTTP 503');
      expect(a.next_attempt_at).not.toBeNull();
    }
    // the schedule was followed: each retry no sooner than its delay (less the 10 % jitter)
    for (const [i, delayMs] of [200, 300, 500].entries()) {
      expect(attempts[i + 1]!.started_at.getTime() - attempts[i]!.finished_at!.getTime()).toBeGreaterThanOrEqual(delayMs * 0.9 - 5);
    }

    // The API: the log filtered, one delivery with its attempts.
    const list = await api.app.inject({ method: 'GET', url: `/api/v1/notifications/deliveries?endpoint_id=${ep.endpoint.id}&status=delivered&event_type=deployment.completed`, headers: bearer('viewer') });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().total).toBe(1);
    expect(list.json().items[0]).toMatchObject({ id: d!.id, status: 'delivered', attempts: 4, last_status_code: 200, event_id: d!.event_id, endpoint_name: 'flaky' });
    const one = await api.app.inject({ method: 'GET', url: `/api/v1/notifications/deliveries/${d!.id}`, headers: bearer('viewer') });
    expect(one.json().attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'failed', 'failed', 'succeeded']);
    const again = await api.app.inject({ method: 'POST', url: `/api/v1/notifications/deliveries/${d!.id}/redeliver`, headers: bearer('operator') });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/only a failed delivery/);
  });

  it('honours Retry-After on 429, never follows a redirect, and gives up after the schedule', async () => {
    lab.setHook('slow-down', { failTimes: 1, failStatus: 429, retryAfter: '2' });
    const ep = await createEndpoint({ name: 'slow-down', kind: 'webhook', url: lab.hookUrl('slow-down'), secret: SECRET_A, event_types: ['sync.failed'] });
    lab.setHook('moved', { status: 302 });
    const moved = await createEndpoint({ name: 'moved', kind: 'webhook', url: lab.hookUrl('moved'), secret: SECRET_A, event_types: ['sync.failed'] });
    await record('sync.failed', SAMPLES['sync.failed']);
    const [d] = await until('delivered after the Retry-After', async () => {
      const rows = await deliveriesOf(ep.endpoint.id);
      return rows[0]?.status === 'delivered' && rows;
    });
    const [a1, a2] = await attemptsOf(d!.id);
    expect(a1!.status_code).toBe(429);
    expect(a1!.error).toBe('HTTP 429 (Retry-After 2 s)');
    expect(a2!.started_at.getTime() - a1!.finished_at!.getTime()).toBeGreaterThanOrEqual(1_950);

    const [m] = await until('the redirected delivery failed for good', async () => {
      const rows = await deliveriesOf(moved.endpoint.id);
      return rows[0]?.status === 'failed' && rows;
    }, 90_000);
    const attempts = await attemptsOf(m!.id);
    expect(attempts).toHaveLength(SCHEDULE.split(',').length + 1);
    expect(attempts.every((a) => a.status === 'failed' && a.status_code === 302 && a.error === 'HTTP 302: redirects are not followed')).toBe(true);
    expect(attempts.at(-1)!.next_attempt_at).toBeNull();
    expect(lab.webhooks.filter((w) => w.hook === 'moved')).toHaveLength(attempts.length);
  });

  it('410 Gone disables the endpoint; re-enabled, a redelivery goes through with the same webhook-id', async () => {
    lab.setHook('gone', { status: 410 });
    const ep = await createEndpoint({ name: 'gone', kind: 'webhook', url: lab.hookUrl('gone'), event_types: ['test.*'] });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/); // generated, shown once
    lab.setHook('gone', { status: 410, secrets: [ep.secret!] });
    await record('test.failed', SAMPLES['test.failed']);
    const row = await until('the endpoint disabled', async () => db.selectFrom('notification_endpoints').selectAll().where('id', '=', ep.endpoint.id).where('enabled', '=', false).executeTakeFirst());
    expect(row.disabled_reason).toMatch(/^HTTP 410 Gone/);
    const [d] = await deliveriesOf(ep.endpoint.id);
    expect(d!.status).toBe('failed');
    expect((await attemptsOf(d!.id)).map((a) => a.status_code)).toEqual([410]);
    // nothing more is sent to it
    await record('test.passed', SAMPLES['test.passed']);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await deliveriesOf(ep.endpoint.id)).toHaveLength(1);
    expect(lab.webhooks.filter((w) => w.hook === 'gone')).toHaveLength(1);
    const refused = await api.app.inject({ method: 'POST', url: `/api/v1/notifications/deliveries/${d!.id}/redeliver`, headers: bearer('operator') });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/disabled/);

    lab.setHook('gone', { status: 200, secrets: [ep.secret!] });
    const enabled = await api.app.inject({ method: 'PATCH', url: `/api/v1/notifications/endpoints/${ep.endpoint.id}`, headers: bearer('admin'), payload: { enabled: true } });
    expect(enabled.json()).toMatchObject({ enabled: true, disabled_reason: null });
    const again = await api.app.inject({ method: 'POST', url: `/api/v1/notifications/deliveries/${d!.id}/redeliver`, headers: bearer('operator') });
    expect(again.statusCode, again.body).toBe(202);
    await until('redelivered', async () => (await deliveriesOf(ep.endpoint.id))[0]?.status === 'delivered');
    const got = lab.webhooks.filter((w) => w.hook === 'gone');
    expect(got.map((w) => w.answered)).toEqual([410, 200]);
    expect(got[1]!.headers['webhook-id']).toBe(d!.event_id);
    expect(got[1]!.verified).toBe(true);
  });

  it('SMTP down for a while: the attempts fail with the reason, and the mail arrives once it is back', async () => {
    const ep = await createEndpoint({ name: 'oncall', kind: 'email', recipients: ['oncall@test.local'], event_types: ['deployment.halted'] });
    await lab.stopSmtp();
    await record('deployment.halted', SAMPLES['deployment.halted']);
    const [d] = await until('two failed attempts', async () => {
      const rows = await deliveriesOf(ep.endpoint.id);
      return rows[0] && rows[0].attempts >= 2 && rows;
    });
    const failed = await attemptsOf(d!.id);
    expect(failed[0]!.status).toBe('failed');
    expect(failed[0]!.error).toMatch(/ECONNREFUSED|connect/i);
    await lab.startSmtp();
    await until('delivered', async () => (await deliveriesOf(ep.endpoint.id))[0]?.status === 'delivered', 60_000);
    const mails = lab.mails.filter((m) => m.to.includes('oncall@test.local'));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Rollout HALTED: RHSA-2025:0948 (rhel) (failure budget exceeded)');
    const attempts = await attemptsOf(d!.id);
    expect(attempts.at(-1)!.status).toBe('succeeded');
    expect(attempts.at(-1)!.response).toMatch(/^250/);
  });

  it('outbox: an event exists exactly when its state change committed, once per change', async () => {
    const sys = 1_000_555_001;
    await db.insertInto('test_systems').values({ system_id: sys, name: 'test-rhel-outbox', os: 'rhel', group_name: 'test-rhel9' }).execute();
    // In id order: another case's quarantine (a hung reboot's) can land meanwhile, and "the last" must mean the newest.
    const events = () => db.selectFrom('orchestrator_notifications').select(['event_type', 'payload']).where('event_type', '=', 'test_system.quarantined').orderBy('id').execute();
    const before = (await events()).length;
    // rolled back with the change: no event
    await expect(db.transaction().execute(async (trx) => {
      await quarantine(trx, sys, 'hung reboot');
      throw new Error('the caller fails after the quarantine');
    })).rejects.toThrow('the caller fails');
    expect((await events()).length).toBe(before);
    expect((await db.selectFrom('test_systems').select('quarantined').where('system_id', '=', sys).executeTakeFirstOrThrow()).quarantined).toBe(false);
    // committed: one event; quarantined again: no second one
    await quarantine(db, sys, 'hung reboot');
    await quarantine(db, sys, 'still hung');
    const after = await events();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)!.payload).toMatchObject({ system_id: sys, name: 'test-rhel-outbox', os: 'rhel', reason: 'hung reboot' });

    // a retried write of the same change (same dedupe key) records nothing more
    const run = await db.insertInto('sync_runs').values({ workflow_id: 'wf-sync', run_id: `run-${Date.now()}`, trigger: 'manual' }).returning('id').executeTakeFirstOrThrow();
    await failSyncRun(db, run.id, 'UYUNI down', []);
    await failSyncRun(db, run.id, 'UYUNI down', []);
    const syncEvents = await db.selectFrom('orchestrator_notifications').select(['payload', 'workflow_id']).where('event_type', '=', 'sync.failed').where('dedupe_key', '=', `sync-failed-${run.id}`).execute();
    expect(syncEvents).toHaveLength(1);
    expect(syncEvents[0]).toMatchObject({ workflow_id: 'wf-sync', payload: { sync_run_id: run.id, error: 'UYUNI down', trigger: 'manual' } });

    // data that does not match its type's schema is refused, and the change goes with it
    await expect(record('sync.failed', { ...SAMPLES['sync.failed'], error: 42 } as never)).rejects.toBeInstanceOf(InvalidEventError);
    await expect(record('sync.failed', { ...SAMPLES['sync.failed'], surprise: true } as never)).rejects.toThrow(/does not match its schema/);
  });

  it('the endpoint API refuses bad input naming the field, and only admins manage endpoints', async () => {
    const post = (payload: unknown, role: 'admin' | 'operator' = 'admin') => api.app.inject({ method: 'POST', url: '/api/v1/notifications/endpoints', headers: bearer(role), payload: payload as object });
    expect((await post({ name: 'x', kind: 'webhook', url: 'http://127.0.0.1:1/x' }, 'operator')).statusCode).toBe(403);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', kind: 'webhook' }, 'url'],
      [{ name: 'x', kind: 'webhook', url: 'ftp://host/x' }, 'url'],
      [{ name: 'x', kind: 'webhook', url: 'https://user:pw@host/x' }, 'url'],
      [{ name: 'x', kind: 'webhook', url: 'https://host/x', secret: 'not-a-secret' }, 'secret'],
      [{ name: 'x', kind: 'webhook', url: 'https://host/x', secret: `whsec_${Buffer.from('short').toString('base64')}` }, 'secret'],
      [{ name: 'x', kind: 'webhook', url: 'https://host/x', event_types: ['deployment.exploded'] }, 'event_types'],
      [{ name: 'x', kind: 'webhook', url: 'https://host/x', event_types: ['nothing.*'] }, 'event_types'],
      [{ name: 'x', kind: 'email' }, 'recipients'],
      [{ name: 'x', kind: 'email', recipients: ['not an address'] }, 'recipients'],
    ];
    for (const [payload, field] of cases) {
      const r = await post(payload);
      expect(r.statusCode, `${JSON.stringify(payload)}: ${r.body}`).toBe(400);
      expect(r.json().field ?? r.json().message, JSON.stringify(payload)).toContain(field);
    }
    expect(await db.selectFrom('notification_endpoints').select('id').where('name', '=', 'x').execute()).toHaveLength(0);
    const types = await api.app.inject({ method: 'GET', url: '/api/v1/notifications/event-types', headers: bearer('viewer') });
    expect(types.json().map((t: { type: string }) => t.type).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('NOTIFY_EMAIL_RECIPIENTS: recipients per event type from the environment, kept as env: endpoints', async () => {
    const entries = testConfig({ ...overrides, NOTIFY_EMAIL_RECIPIENTS: 'deployment.completed|sync.*=ops@test.local, lead@test.local' }).notify.emailRecipients;
    expect(entries).toEqual([{ filter: ['deployment.completed', 'sync.*'], recipients: ['ops@test.local', 'lead@test.local'] }]);
    const [id] = await syncEnvEmailEndpoints(db, entries);
    expect(await syncEnvEmailEndpoints(db, entries)).toEqual([id]); // idempotent
    await record('deployment.completed', SAMPLES['deployment.completed']);
    await until('mailed', async () => lab.mails.find((m) => m.to.includes('ops@test.local')));
    expect(lab.mails.filter((m) => m.to.includes('ops@test.local')).map((m) => m.eventType)).toEqual(['deployment.completed']);
    await syncEnvEmailEndpoints(db, []);
    expect(await db.selectFrom('notification_endpoints').select(['enabled', 'disabled_reason']).where('id', '=', id!).executeTakeFirstOrThrow())
      .toEqual({ enabled: false, disabled_reason: 'no longer in NOTIFY_EMAIL_RECIPIENTS' });
  });

  it('a burst to one endpoint: never more than its max_concurrency in flight, one attempt row each, a few notifyDeliver runs in its history instead of an activity per attempt', async () => {
    lab.setHook('burst', { delayMs: 150 });
    const ep = await createEndpoint({ name: 'burst', kind: 'webhook', url: lab.hookUrl('burst'), secret: SECRET_A, event_types: ['deployment.wave_completed'], max_concurrency: 3 });
    const EVENTS = 24;
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < EVENTS; i++) await recordEvent(trx, 'deployment.wave_completed', { ...SAMPLES['deployment.wave_completed'], wave: i });
    });
    const rows = await until('the burst delivered', async () => {
      const r = await deliveriesOf(ep.endpoint.id);
      return r.length === EVENTS && r.every((d) => d.status === 'delivered') && r;
    }, 60_000);
    const load = lab.load().burst!;
    expect(load.received).toBe(EVENTS);
    expect(load.maxInFlight).toBe(3); // the bound, and used: all were due at once, each answer takes 150 ms
    const attempts = await db.selectFrom('notification_attempts').select(['delivery_id', 'attempt', 'status', 'status_code', 'finished_at', 'duration_ms'])
      .where('delivery_id', 'in', rows.map((r) => r.id)).execute();
    expect(attempts).toHaveLength(EVENTS);
    expect(attempts.every((a) => a.attempt === 1 && a.status === 'succeeded' && a.status_code === 200 && a.finished_at !== null && a.duration_ms! >= 150)).toBe(true);
    expect(new Set(lab.webhooks.filter((w) => w.hook === 'burst').map((w) => w.headers['webhook-id']))).toEqual(new Set(rows.map((r) => r.event_id)));
    const history = await tw.client.workflow.getHandle(`notify-endpoint-${ep.endpoint.id}`).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(new Set(scheduled)).toEqual(new Set(['notifyDeliver']));
    expect(scheduled.length).toBeLessThanOrEqual(6); // one run per wake (creation, the commit, the fan-out), never one per attempt
    // and the history replays against the bundle (the batch loop is deterministic; the old per-attempt loop's
    // local activities were not)
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, `notify-endpoint-${ep.endpoint.id}`);
  });

  it('a worker SIGKILLed between the send and its record: the event is delivered (maybe twice), with one id, never lost', async () => {
    await tw.close(); // from here the worker is a process of its own, killed and started again
    tw = undefined as never;
    const taskQueue = uniqueTaskQueue('notify-kill');
    const c = testConfig(overrides);
    const worker = new WorkerProcess({
      ...overrides, DB_HOST: c.db.host, DB_PORT: String(c.db.port), DB_USER: c.db.user, TEMPORAL_ADDRESS: c.temporal.address, TEMPORAL_TASK_QUEUE: taskQueue,
      UYUNI_PASSWORD: 'lab-admin-password', SALT_PASSWORD: 'lab-salt-secret', UYUNI_SYNC_ON_START: 'false', WORKER_MANAGE_SCHEDULES: 'false',
      WORKER_METRICS_PORT: '0', WORKER_SHUTDOWN_GRACE_SECONDS: '0', WORKER_WORKFLOW_BUNDLE: inject('workflowBundlePath'), LOG_LEVEL: 'warn', DOTENV_PATH: '/nonexistent',
    });
    db = (await import('../../db/connection.js')).createDb(c.db, 'spm-test-kill');
    try {
      let killing = false;
      let killed = false;
      lab.setHook('killer', {
        onReceive: async () => {
          if (killing) return;
          killing = true;
          await worker.kill(); // the receiver has the request; the worker never learns the answer
          killed = true;
        },
      });
      worker.start();
      const ep = await createEndpoint({ name: 'killer', kind: 'webhook', url: lab.hookUrl('killer'), secret: SECRET_A, event_types: ['approval.requested'] });
      await record('approval.requested', SAMPLES['approval.requested']);
      await until('the worker killed mid-delivery', async () => killed, 60_000);
      const [pending] = await deliveriesOf(ep.endpoint.id);
      expect(pending!.status).toBe('pending'); // sent, not recorded
      expect((await attemptsOf(pending!.id)).map((a) => a.status)).toEqual(['sending']);
      worker.start();
      await until('delivered after the restart', async () => (await deliveriesOf(ep.endpoint.id))[0]?.status === 'delivered', 90_000);
      const got = lab.webhooks.filter((w) => w.hook === 'killer');
      expect(got.length).toBe(2);
      expect(new Set(got.map((w) => w.headers['webhook-id']))).toEqual(new Set([pending!.event_id]));
      expect(got.every((w) => w.verified)).toBe(true);
      expect((await attemptsOf(pending!.id)).map((a) => a.status)).toEqual(['lost', 'succeeded']);
      expect(await db.selectFrom('notification_deliveries').select('id').where('endpoint_id', '=', ep.endpoint.id).execute()).toHaveLength(1);
    } finally {
      await worker.kill();
      await db.destroy();
    }
  });
});
