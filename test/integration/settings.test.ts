import { defaultPayloadConverter } from '@temporalio/common';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScoreWeights } from '../../activities/queue/score-weights.js';
import { loadTestSettings } from '../../activities/patch-test/settings.js';
import { approvalPolicy, deploymentPolicy, verdictPolicy } from '../../db/queries/orchestrator-config.js';
import { SETTINGS } from '../../domain/settings.js';
import type { PatchTestInput } from '../../workflows/messages.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase, uniqueTaskQueue } from '../support/context.js';

// orchestrator_config on real PostgreSQL: each key's type and range enforced on write, the value the API
// shows is the value the readers use, and test.settle_seconds reaches the test engine.

describe('runtime settings: typed, ranged, shown as used', () => {
  let api: TestApi;
  const put = (key: string, value: unknown) =>
    api.app.inject({ method: 'PUT', url: `/api/v1/config/${key}`, headers: bearer('admin'), payload: { value } });
  const shown = async () =>
    Object.fromEntries(
      ((await api.app.inject({ method: 'GET', url: '/api/v1/config', headers: bearer('viewer') })).json() as { key: string; in_use: unknown; source: string; value: unknown; accepts: string }[]).map(
        (r) => [r.key, r],
      ),
    );

  beforeAll(async () => {
    api = await startTestApi({ DB_NAME: await isolatedDatabase('settings'), TEMPORAL_TASK_QUEUE: uniqueTaskQueue('settings-no-worker') });
  });
  afterAll(async () => api?.close());

  it('every key of orchestrator_config has a type and range, and every typed key a row', async () => {
    const rows = await api.db.selectFrom('orchestrator_config').select('key').orderBy('key').execute();
    expect(rows.map((r) => r.key)).toEqual(Object.keys(SETTINGS).sort());
  });

  it.each([
    ['deploy.wave_size', 0, 'deploy.wave_size must be an integer from 1 to 10000 (systems); got 0'],
    ['deploy.wave_size', 1.5, 'deploy.wave_size must be an integer from 1 to 10000 (systems); got 1.5'],
    ['deploy.wave_size', 1e308, 'deploy.wave_size must be an integer from 1 to 10000 (systems); got 1e+308'],
    ['deploy.wave_size', '10', 'deploy.wave_size must be an integer from 1 to 10000 (systems); got "10"'],
    ['deploy.failure_budget_percent', 1000, 'deploy.failure_budget_percent must be a number from 0 to 100 (percent); got 1000'],
    ['deploy.failure_budget_percent', -0.5, 'deploy.failure_budget_percent must be a number from 0 to 100 (percent); got -0.5'],
    ['deploy.canary_size', 10_001, 'deploy.canary_size must be an integer from 0 to 10000 (systems); got 10001'],
    ['verdict.nodata_policy', 'pass', 'verdict.nodata_policy must be one of marginal, fail; got "pass"'],
    ['verdict.confidence', 1, 'verdict.confidence must be a number from 0.5 to 0.9999 (confidence level); got 1'],
    ['verdict.min_samples', 1, 'verdict.min_samples must be an integer from 2 to 100000 (samples per side); got 1'],
    ['approval.expiry_days', 0, 'approval.expiry_days must be a number from 0.00001 to 3650 (days); got 0'],
    ['test.settle_seconds', 3601, 'test.settle_seconds must be an integer from 0 to 3600 (seconds); got 3601'],
    ['score.history_min_tests', 0, 'score.history_min_tests must be an integer from 1 to 1000 (tests); got 0'],
    ['score.kernel_penalty', 101, 'score.kernel_penalty must be a number from 0 to 100 (points); got 101'],
    ['test.critical_services', ['sshd'], 'test.critical_services must be an object mapping an OS (ubuntu, rhel, debian) to at most 50 service names (letters, digits, @ . _ : -); got ["sshd"]'],
    ['test.critical_services', { windows: ['w32time'] }, 'test.critical_services: "windows" is not an OS (ubuntu, rhel, debian)'],
    ['test.critical_services', { rhel: ['sshd', 'rm -rf /'] }, 'test.critical_services.rhel must be a list of at most 50 service names (letters, digits, @ . _ : -); got ["sshd","rm -rf /"]'],
  ])('PUT %s %j → 400 naming the key and the range', async (key, value, message) => {
    const before = (await shown())[key];
    const res = await put(key, value);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'value', key, message });
    expect((await shown())[key]?.value).toEqual(before?.value);
  });

  it('an unknown key is 404; a body with anything but value is 400 naming the field', async () => {
    expect((await put('deploy.nope', 1)).statusCode).toBe(404);
    const extra = await api.app.inject({ method: 'PUT', url: '/api/v1/config/deploy.wave_size', headers: bearer('admin'), payload: { value: 5, also: 1 } });
    expect(extra.json()).toMatchObject({ statusCode: 400, field: 'also' });
    const none = await api.app.inject({ method: 'PUT', url: '/api/v1/config/deploy.wave_size', headers: bearer('admin') });
    expect(none.json()).toMatchObject({ statusCode: 400, field: 'value', message: 'body field "value" is required' });
  });

  it('what the API shows in use is what every reader uses: after valid writes, and for a stored value out of range', async () => {
    for (const [key, value] of [['deploy.wave_size', 3], ['deploy.failure_budget_percent', 12.5], ['deploy.soak_minutes', 0.5], ['approval.reminder_hours', 2], ['score.kernel_penalty', 25], ['test.cpu_delta_threshold', 7.5], ['test.settle_seconds', 9]] as const) {
      const res = await put(key, value);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ key, value, in_use: value, source: 'database', updated_by: 'adam-admin' });
    }
    // A row written before the ranges existed (or by hand): not used, and the API says so.
    await sql`update orchestrator_config set value = '1.5'::jsonb where key = 'deploy.canary_size'`.execute(api.db);
    await sql`update orchestrator_config set value = '-4'::jsonb where key = 'test.memory_delta_threshold'`.execute(api.db);
    await sql`update orchestrator_config set value = '"lots"'::jsonb where key = 'score.reboot_penalty'`.execute(api.db);

    const s = await shown();
    expect(s['deploy.canary_size']).toMatchObject({ value: 1.5, in_use: 1, source: 'fallback', accepts: 'an integer from 0 to 10000 (systems)' });
    expect(s['test.memory_delta_threshold']).toMatchObject({ value: -4, in_use: api.config.testThresholds.memoryDelta, source: 'fallback' });
    expect(s['score.reboot_penalty']).toMatchObject({ value: 'lots', in_use: api.config.score.rebootPenalty, source: 'fallback' });

    const deploy = await deploymentPolicy(api.db);
    expect(deploy).toEqual({
      canarySize: s['deploy.canary_size']?.in_use,
      soakSeconds: (s['deploy.soak_minutes']?.in_use as number) * 60,
      waveSize: s['deploy.wave_size']?.in_use,
      failureBudgetCount: s['deploy.failure_budget_count']?.in_use,
      failureBudgetPercent: s['deploy.failure_budget_percent']?.in_use,
      batchSize: s['deploy.batch_size']?.in_use,
      canaryFraction: s['deploy.canary_fraction']?.in_use,
      verdict: s['deploy.verdict']?.in_use === 1,
      verdictReminderSeconds: Math.round((s['verdict.marginal_reminder_hours']?.in_use as number) * 3600),
    });
    expect(deploy).toEqual({ canarySize: 1, soakSeconds: 30, waveSize: 3, failureBudgetCount: 2, failureBudgetPercent: 12.5, batchSize: 100, canaryFraction: 0, verdict: false, verdictReminderSeconds: 4 * 3600 });
    // the judge's policy: what the test system's validation and every wave verdict use
    const verdict = await verdictPolicy(api.db);
    expect(verdict).toEqual({
      judge: { confidence: 0.98, tolerance: 0.25, minSamples: 5, passScore: 90, marginalScore: 75, nodataPolicy: 'marginal' },
      cpuAllowedIncrease: 5, memoryAllowedIncrease: 5, marginalReminderSeconds: 4 * 3600,
    });
    const approval = await approvalPolicy(api.db, api.config.approval);
    expect(approval).toEqual({ reminderSeconds: 2 * 3600, expirySeconds: Math.round((s['approval.expiry_days']?.in_use as number) * 86400) });
    const weights = await loadScoreWeights(api.db, api.config.score);
    expect(weights.kernelPenalty).toBe(25);
    expect(weights.kernelPenalty).toBe(s['score.kernel_penalty']?.in_use);
    expect(weights.rebootPenalty).toBe(s['score.reboot_penalty']?.in_use);
    const test = await loadTestSettings(api.db, api.config);
    expect({ cpu: test.cpuDelta, memory: test.memoryDelta, settle: test.settleSeconds, services: test.criticalServices }).toEqual({
      cpu: 7.5,
      memory: s['test.memory_delta_threshold']?.in_use,
      settle: 9,
      services: s['test.critical_services']?.in_use,
    });
  });

  it('test.settle_seconds reaches the test engine: a test started after a change settles that long', async () => {
    const now = new Date();
    await api.db.insertInto('test_systems').values({ system_id: 1000010001, name: 'test-rhel-1', os: 'rhel', group_name: 'test-rhel9', minion_id: 'test-rhel-1', last_seen_at: now, leased_by: null, leased_at: null, quarantined: false, quarantine_reason: null, quarantined_at: null, created_at: now, updated_at: now }).execute();
    await api.db.insertInto('errata_cache').values({ advisory_name: 'RHSA-2026:7001', advisory_type: 'Security Advisory', severity: 'High', target_os: ['rhel'], test_system_ids: [1000010001], uyuni_errata_id: 7001 }).execute();
    const item = await api.db.insertInto('patch_test_queue').values({ advisory_name: 'RHSA-2026:7001', target_os: 'rhel', queued_by: 'test' }).returning('id').executeTakeFirstOrThrow();

    expect((await put('test.settle_seconds', 42)).statusCode).toBe(200);
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/tests/start', headers: bearer('operator'), payload: { queue_id: item.id } });
    expect(res.statusCode, res.body).toBe(202);
    const handle = api.temporal.client.workflow.getHandle(res.json().workflow_id);
    try {
      const history = await handle.fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const input = defaultPayloadConverter.fromPayload<PatchTestInput>(payload!);
      expect(input.timing.settleSeconds).toBe(42);
      expect(api.config.test.settleSeconds).not.toBe(42);
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });
});
