import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgetUsed } from '../../domain/budget-used.js';

// The dashboard and the alert rules speak of metrics the code really exports (a renamed series would leave a
// panel empty and an alert silent), and every business series the API exports is on the dashboard.

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

/** spm_* series the code registers: the business gauges, the phase histogram, the call metrics. */
function exportedSpmMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of ['api/plugins/business-metrics.ts', 'activities/shared/call-metrics.ts', 'api/plugins/metrics.ts']) {
    for (const m of read(file).matchAll(/(?:name: |g\(|DbHistogram\()'(spm_[a-z0-9_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

/** prom-client's default metrics under the worker's and the API's prefixes. */
const DEFAULT_METRIC = /^spm_(worker|api)_(process|nodejs)_[a-z_]+$/;

function spmNamesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\b(spm_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
}

const dashboard = JSON.parse(read('ops/grafana/spm-orchestrator.json')) as {
  uid: string;
  templating: { list: { name: string; type: string }[] };
  panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }[];
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');

describe('ops artifacts', () => {
  const exported = exportedSpmMetrics();

  it('the code exports the series the rules and dashboard name (and the list is not empty)', () => {
    expect(exported.size).toBeGreaterThan(20);
    expect(exported).toContain('spm_sync_last_success_timestamp_seconds');
    for (const [file, text] of [['ops/prometheus/alerts.yml', read('ops/prometheus/alerts.yml')], ['ops/grafana/spm-orchestrator.json', queries]] as const) {
      const unknown = [...spmNamesIn(text)].filter((n) => !exported.has(n) && !DEFAULT_METRIC.test(n));
      expect(unknown, file).toEqual([]);
    }
  });

  it('every business series is on the dashboard or watched by an alert', () => {
    const used = new Set([...spmNamesIn(queries), ...spmNamesIn(read('ops/prometheus/alerts.yml'))]);
    const missing = [...exported].filter((n) => !n.startsWith('spm_api_http') && !used.has(n) && n !== 'spm_business_metrics_scrape_seconds');
    expect(missing).toEqual([]);
    // and the Temporal SDK's own series
    for (const sdk of ['temporal_workflow_task_schedule_to_start_latency_bucket', 'temporal_activity_schedule_to_start_latency_bucket', 'temporal_worker_task_slots_available', 'temporal_sticky_cache_size']) {
      expect(queries).toContain(sdk);
    }
  });

  it('the dashboard is importable: a datasource variable, unique ids, panels that do not overlap', () => {
    expect(dashboard.uid).toBe('spm-orchestrator');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((q) => q.targets)) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets!) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect(cells.get(key), `${p.title} overlaps ${cells.get(key)}`).toBeUndefined();
          cells.set(key, p.title);
        }
    }
  });

  it('every alert named by the issue is there', () => {
    const alerts = [...read('ops/prometheus/alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts).toEqual(expect.arrayContaining(['SpmSyncStale', 'SpmApprovalWaitingTooLong', 'SpmTestSystemQuarantined', 'SpmRollbackNotVerified', 'SpmDeploymentHalted', 'SpmWorkerDown', 'SpmTaskQueueBacklog']));
  });

  it('the units stop later than the worker lets activities finish', () => {
    const worker = read('ops/systemd/spm-worker.service');
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(worker)?.[1]);
    const grace = Number(/^WORKER_SHUTDOWN_GRACE_SECONDS=(\d+)$/m.exec(read('.env.example'))?.[1]);
    expect(stop).toBeGreaterThan(grace + 10);
    for (const unit of readdirSync(path.join(ROOT, 'ops/systemd')).filter((f) => f.endsWith('.service'))) {
      const text = read(`ops/systemd/${unit}`);
      for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes', 'CapabilityBoundingSet=', 'EnvironmentFile=/etc/spm-orchestrator/spm.env', 'StandardOutput=journal']) {
        expect(text.split('\n'), `${unit}: ${line}`).toContain(line);
      }
      expect(text, unit).toMatch(/^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
      if (unit !== 'spm-migrate.service') expect(text, unit).toMatch(/^Restart=on-failure$/m);
      if (unit !== 'spm-migrate.service') expect(text, unit).toMatch(/^Requires=spm-migrate.service$/m);
    }
  });
});

describe('budgetUsed (spm_deployment_budget_used_ratio)', () => {
  it.each([
    [0, 10, 2, 10, 0],
    [1, 10, 2, 10, 1], // 10 % of a 10 % budget
    [1, 20, 2, 10, 0.5],
    [2, 100, 2, 10, 1],
    [3, 100, 2, 10, 1.5],
    [0, 0, 2, 10, 0],
    [0, 5, 0, 0, 0],
    [1, 5, 0, 0, Infinity],
    [1, 10, null, null, 0],
  ])('%i failed of %i with budget %s / %s %% → %s', (failed, targets, count, percent, expected) => {
    expect(budgetUsed(failed, targets, count, percent)).toBe(expected);
  });
});
