import type pg from 'pg';

// The dashboard bench's data: `rows` queue items spread over every state (as a busy year leaves them), `tests`
// tests with their phases, decisions, rollouts of 10 systems, reminders and 50 test systems. Set-based SQL, so
// 100,000 rows take seconds. The status guard is off during the load only (rows are written in their final
// state instead of walking the state machine); every other trigger (counts, severity rank) runs as usual.

export interface SeedSize {
  rows: number;
  tests: number;
}

export async function seedDashboard(client: pg.Client, size: SeedSize): Promise<void> {
  const q = (text: string, values: unknown[] = []) => client.query(text, values);
  await q(`INSERT INTO test_systems (system_id, name, os, group_name, minion_id, quarantined, quarantine_reason, quarantined_at)
           SELECT 1000000000 + i, 'bench-test-' || i, CASE WHEN i % 2 = 0 THEN 'ubuntu' ELSE 'rhel' END,
                  CASE WHEN i % 2 = 0 THEN 'test-ubuntu-2404' ELSE 'test-rhel9' END, 'bench-test-' || i,
                  i % 25 = 0, CASE WHEN i % 25 = 0 THEN 'did not come back from its reboot' END, CASE WHEN i % 25 = 0 THEN now() END
           FROM generate_series(1, 50) i`);
  await q(`INSERT INTO errata_cache (advisory_name, advisory_type, severity, synopsis, cves, target_os, test_system_ids, requires_reboot)
           SELECT 'BENCH-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN 'Bug Fix Advisory' ELSE 'Security Advisory' END,
                  (ARRAY['Critical','High','Medium','Low'])[1 + ((i::bigint * 7919) % 4)::int], 'bench synopsis ' || i,
                  ARRAY['CVE-2026-' || lpad(i::text, 5, '0')], ARRAY[CASE WHEN i % 2 = 0 THEN 'ubuntu' ELSE 'rhel' END],
                  ARRAY[1000000001 + i % 50], i % 7 = 0
           FROM generate_series(1, $1) i`, [size.rows]);
  await q('ALTER TABLE patch_test_queue DISABLE TRIGGER patch_test_queue_status_guard');
  // status by i % 1000: queued 50 %, cancelled 5 %, failed 5 %, rolled_back 8 %, rejected 3 %, expired 1 %,
  // completed 20 %, prod_rolled_back 1 %, pending_approval 2 %, snoozed 0.5 %, approved 0.5 %, promoting 0.3 %,
  // halted 0.2 %, prod_applied 0.5 %, testing 0.5 %, passed 2.5 %
  await q(`INSERT INTO patch_test_queue (advisory_name, target_os, status, success_score, priority_override, queued_by, created_at, status_changed_at)
           SELECT 'BENCH-' || lpad(i::text, 6, '0'), CASE WHEN i % 2 = 0 THEN 'ubuntu' ELSE 'rhel' END,
                  CASE WHEN m < 500 THEN 'queued' WHEN m < 550 THEN 'cancelled' WHEN m < 600 THEN 'failed' WHEN m < 680 THEN 'rolled_back'
                       WHEN m < 710 THEN 'rejected' WHEN m < 720 THEN 'expired' WHEN m < 920 THEN 'completed' WHEN m < 930 THEN 'prod_rolled_back'
                       WHEN m < 950 THEN 'pending_approval' WHEN m < 955 THEN 'snoozed' WHEN m < 960 THEN 'approved' WHEN m < 963 THEN 'promoting'
                       WHEN m < 965 THEN 'halted' WHEN m < 970 THEN 'prod_applied' WHEN m < 975 THEN 'testing' ELSE 'passed' END,
                  ((i::bigint * 104729) % 101)::int, CASE WHEN i % 1000 = 0 THEN 1 + i % 10 END, 'bench',
                  now() - ((i % 30) || ' days')::interval, now() - ((i % 720) || ' minutes')::interval
           FROM (SELECT i, (i * 7) % 1000 AS m FROM generate_series(1, $1) i) s`, [size.rows]);
  await q('ALTER TABLE patch_test_queue ENABLE TRIGGER patch_test_queue_status_guard');
  // tests: on items past queued, newest items first, up to `tests`
  await q(`INSERT INTO patch_tests (queue_id, workflow_id, run_id, test_system_id, test_system_name, status, started_at, completed_at,
                                    metrics_before, metrics_after, cpu_delta, memory_delta, requires_reboot, rollback_type, rollback_verified, failure_phase, failure_reason)
           SELECT q.id, 'patch-test-' || q.id, 'bench-run-' || q.id, 1000000001 + q.id % 50, 'bench-test-' || (1 + q.id % 50),
                  t.status, now() - ((q.id % 30) || ' days')::interval - interval '20 minutes',
                  CASE WHEN t.status = 'running' THEN NULL ELSE now() - ((q.id % 30) || ' days')::interval END,
                  '{"cpuPercent": 12.5, "memoryPercent": 40.1, "samples": 11}'::jsonb, CASE WHEN t.status = 'running' THEN NULL ELSE '{"cpuPercent": 14.0, "memoryPercent": 41.0, "samples": 11}'::jsonb END,
                  CASE WHEN t.status = 'running' THEN NULL ELSE 1.5 END, CASE WHEN t.status = 'running' THEN NULL ELSE 0.9 END, q.id % 7 = 0,
                  CASE WHEN t.status IN ('rolled_back') THEN 'package' END, CASE WHEN t.status IN ('rolled_back') THEN true END,
                  CASE WHEN t.status IN ('failed', 'rolled_back') THEN 'validate' END, CASE WHEN t.status IN ('failed', 'rolled_back') THEN 'memory rose 19.4 pp' END
           FROM patch_test_queue q
           CROSS JOIN LATERAL (SELECT CASE q.status WHEN 'testing' THEN 'running' WHEN 'failed' THEN 'failed' WHEN 'rolled_back' THEN 'rolled_back' ELSE 'passed' END AS status) t
           WHERE q.status NOT IN ('queued', 'cancelled')
           ORDER BY q.id DESC LIMIT $1`, [size.tests]);
  await q(`INSERT INTO patch_test_phases (test_id, phase, status, started_at, completed_at, duration_ms, details)
           SELECT t.id, p.phase, CASE WHEN t.status = 'running' AND p.n = 5 THEN 'running' WHEN p.phase = 'reboot' AND NOT t.requires_reboot THEN 'skipped' ELSE 'passed' END,
                  t.started_at + (p.n || ' minutes')::interval, CASE WHEN t.status = 'running' AND p.n = 5 THEN NULL ELSE t.started_at + (p.n || ' minutes')::interval + interval '30 seconds' END,
                  30000, CASE WHEN p.phase = 'validate' THEN '{"before": {"cpuPercent": 12.5, "memoryPercent": 40.1}, "after": {"cpuPercent": 14, "memoryPercent": 41}, "thresholds": {"cpu": 20, "memory": 15}, "cpuDelta": 1.5, "memoryDelta": 0.9}'::jsonb ELSE '{}'::jsonb END
           FROM patch_tests t
           CROSS JOIN (VALUES ('lease', 1), ('snapshot', 2), ('patch', 3), ('reboot', 4), ('validate', 5), ('services', 6)) p(phase, n)`);
  await q(`INSERT INTO patch_approvals (queue_id, test_id, workflow_id, decision, decided_by, reason, source, request_id, decided_at, snooze_until)
           SELECT q.id, t.id, 'patch-test-' || q.id,
                  CASE WHEN q.status = 'rejected' THEN 'reject' WHEN q.status = 'snoozed' THEN 'snooze' WHEN q.status = 'expired' THEN 'expire' ELSE 'approve' END,
                  (ARRAY['alice', 'bob', 'carol'])[1 + q.id % 3], 'bench decision', (ARRAY['api', 'cli', 'dashboard'])[1 + q.id % 3], 'bench-' || q.id,
                  t.completed_at + interval '1 hour', CASE WHEN q.status = 'snoozed' THEN now() + interval '1 day' END
           FROM patch_test_queue q JOIN patch_tests t ON t.queue_id = q.id
           WHERE q.status IN ('rejected', 'snoozed', 'expired', 'approved', 'promoting', 'halted', 'prod_applied', 'completed', 'prod_rolled_back')`);
  await q(`INSERT INTO patch_deployments (queue_id, workflow_id, system_id, system_name, group_name, wave, status, started_at, completed_at, patched)
           SELECT q.id, 'deploy-' || q.id, 2000000000 + s, 'bench-prod-' || s, 'prod', CASE WHEN s = 0 THEN 0 ELSE 1 + (s - 1) / 3 END,
                  CASE WHEN q.status = 'promoting' AND s > 4 THEN 'pending' WHEN q.status = 'halted' AND s > 4 THEN 'skipped' WHEN s = 3 AND q.id % 4 = 0 THEN 'failed' ELSE 'applied' END,
                  now() - interval '1 hour', CASE WHEN (q.status = 'promoting' OR q.status = 'halted') AND s > 4 THEN NULL ELSE now() - interval '50 minutes' END, true
           FROM patch_test_queue q CROSS JOIN generate_series(0, 9) s
           WHERE q.status IN ('promoting', 'halted', 'prod_applied', 'completed', 'prod_rolled_back')
             AND q.id IN (SELECT queue_id FROM patch_tests)`);
  await q(`INSERT INTO orchestrator_notifications (event_type, subject, queue_id, dedupe_key, event_id)
           SELECT 'approval.reminder', 'reminder', q.id, 'bench-reminder-' || q.id, 'msg_bench_reminder_' || q.id
           FROM patch_test_queue q WHERE q.status = 'pending_approval'`);
  await q(`INSERT INTO sync_runs (workflow_id, run_id, trigger, status, started_at, finished_at, duration_ms, groups_count, systems_count, errata_count)
           VALUES ('bench-sync', 'bench-sync-run', 'schedule', 'succeeded', now() - interval '10 minutes', now() - interval '9 minutes', 61000, 2, 50, $1)`, [size.rows]);
  await q('ANALYZE');
}
