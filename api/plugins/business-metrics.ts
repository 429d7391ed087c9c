import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge, type Registry } from 'prom-client';
import { PHASE_DURATION_BUCKETS, readBusinessMetrics, type BusinessReadings } from '../../db/queries/business-metrics.js';

// Business metrics on the API's /metrics, read from PostgreSQL (and Temporal's task-queue stats) when
// Prometheus scrapes: one round of parallel GROUP BY queries per scrape, shared by every series. A scrape
// whose queries fail still answers (the HTTP and process series), with spm_business_metrics_up 0.

const TEMPORAL_TIMEOUT_MS = 2_000;

interface Readings {
  db?: BusinessReadings;
  backlog?: { type: 'workflow' | 'activity'; count: number; ageSeconds: number }[];
  dbOk: boolean;
  temporalOk: boolean;
  seconds: number;
}

type Collected = { labels?: Record<string, string | number>; value: number }[];

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: (r: Readings) => Collected | undefined, load: () => Promise<Readings>) {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const values = read(await load());
      for (const v of values ?? []) {
        if (v.labels) this.set(v.labels, v.value);
        else this.set(v.value);
      }
    },
  });
}

/** A histogram whose buckets come from PostgreSQL (cumulative counts of every completed phase). */
class DbHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly load: () => Promise<Readings>,
  ) {}
  async get() {
    const r = await this.load();
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const row of r.db?.phases ?? []) {
      const labels = { phase: row.phase, status: row.status };
      PHASE_DURATION_BUCKETS.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: row.buckets[i]! }));
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: row.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: row.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels, value: row.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
  reset() {}
}

export const businessMetrics = fp(
  async (app: FastifyInstance) => {
    const registry = app.metrics;
    let pending: Promise<Readings> | undefined;
    let takenAt = 0;
    // Every series of one scrape shares one reading; a second scrape within a second reuses it.
    const load = (): Promise<Readings> => {
      if (pending && Date.now() - takenAt < 1_000) return pending;
      takenAt = Date.now();
      pending = readAll();
      return pending;
    };
    const readAll = async (): Promise<Readings> => {
      const started = performance.now();
      const [db, backlog] = await Promise.allSettled([readBusinessMetrics(app.db), readBacklog()]);
      if (db.status === 'rejected') app.log.warn({ err: db.reason }, 'business metrics: PostgreSQL query failed');
      return {
        ...(db.status === 'fulfilled' ? { db: db.value } : {}),
        ...(backlog.status === 'fulfilled' ? { backlog: backlog.value } : {}),
        dbOk: db.status === 'fulfilled',
        temporalOk: backlog.status === 'fulfilled',
        seconds: (performance.now() - started) / 1000,
      };
    };
    const readBacklog = async () => {
      const { config } = app;
      const service = app.temporal.connection.workflowService;
      return Promise.all(
        (['workflow', 'activity'] as const).map(async (type) => {
          const res = await app.temporal.connection.withDeadline(Date.now() + TEMPORAL_TIMEOUT_MS, () =>
            service.describeTaskQueue({
              namespace: config.temporal.namespace,
              taskQueue: { name: config.temporal.taskQueue, kind: 1 },
              taskQueueType: type === 'workflow' ? 1 : 2,
              reportStats: true,
            }),
          );
          const stats = res.stats;
          const age = stats?.approximateBacklogAge;
          return {
            type,
            count: Number(stats?.approximateBacklogCount ?? 0),
            ageSeconds: age ? Number(age.seconds ?? 0) + (age.nanos ?? 0) / 1e9 : 0,
          };
        }),
      );
    };
    const g = (name: string, help: string, labelNames: string[], read: (r: Readings) => Collected | undefined) => gauge(registry, name, help, labelNames, read, load);

    g('spm_business_metrics_up', 'Whether the last scrape could read each source (postgres, temporal)', ['source'], (r) => [
      { labels: { source: 'postgres' }, value: r.dbOk ? 1 : 0 },
      { labels: { source: 'temporal' }, value: r.temporalOk ? 1 : 0 },
    ]);
    g('spm_business_metrics_scrape_seconds', 'Time the business metrics took to read', [], (r) => [{ value: r.seconds }]);
    g('spm_queue_items', 'Queue items by status and target OS', ['status', 'os'], (r) => r.db?.queue.map((q) => ({ labels: { status: q.status, os: q.os }, value: q.n })));
    g('spm_approvals_pending', 'Passed patches waiting for a decision', [], (r) => r.db && [{ value: r.db.approvals.pending }]);
    g('spm_approval_oldest_wait_seconds', 'How long the oldest pending approval has waited (0 when none waits)', [], (r) => r.db && [{ value: r.db.approvals.oldestWaitSeconds ?? 0 }]);
    g('spm_tests', 'Patch tests by outcome (running, passed, failed, rolled_back, inconclusive, cancelled)', ['outcome'], (r) => r.db?.tests.map((t) => ({ labels: { outcome: t.status }, value: t.n })));
    registry.registerMetric(new DbHistogram('spm_test_phase_duration_seconds', 'Duration of completed test phases by phase and result', load) as never);
    g('spm_rollbacks', 'Rollbacks by scope (test, production), type (package, snapshot) and verification result (verified, not_verified, running)', ['scope', 'type', 'result'], (r) =>
      r.db?.rollbacks.map((x) => ({ labels: { scope: x.scope, type: x.type, result: x.result }, value: x.n })),
    );
    g('spm_rollbacks_not_verified_last_24h', 'Rollbacks that ended not verified (something differs from the restore point) in the last 24 hours, by scope', ['scope'], (r) =>
      r.db?.rollbacksNotVerified24h.map((x) => ({ labels: { scope: x.scope }, value: x.n })),
    );
    g('spm_test_systems', 'Test systems by OS and state (free, leased, quarantined)', ['os', 'state'], (r) => r.db?.testSystems.map((x) => ({ labels: { os: x.os, state: x.state }, value: x.n })));
    g('spm_sync_last_success_timestamp_seconds', 'When the last successful UYUNI sync finished (unix seconds; absent before the first)', [], (r) =>
      r.db?.sync.lastSuccessAt ? [{ value: r.db.sync.lastSuccessAt.getTime() / 1000 }] : undefined,
    );
    g('spm_sync_last_success_age_seconds', 'Seconds since the last successful UYUNI sync finished (absent before the first)', [], (r) =>
      r.db?.sync.lastSuccessAt ? [{ value: (Date.now() - r.db.sync.lastSuccessAt.getTime()) / 1000 }] : undefined,
    );
    g('spm_sync_last_success_duration_seconds', 'Duration of the last successful UYUNI sync', [], (r) =>
      r.db?.sync.lastSuccessDurationSeconds == null ? undefined : [{ value: r.db.sync.lastSuccessDurationSeconds }],
    );
    g('spm_sync_runs', 'UYUNI sync runs by status (running, succeeded, failed)', ['status'], (r) => r.db?.sync.runs.map((x) => ({ labels: { status: x.status }, value: x.n })));
    g('spm_deployment_systems', 'Production rollout rows (one per system and rollout) by state', ['state'], (r) => r.db?.deploymentSystems.map((x) => ({ labels: { state: x.status }, value: x.n })));
    g('spm_deployment_budget_used_ratio', 'Running rollouts: failed systems against the failure budget (1 = used up, above 1 = exceeded: halts)', ['queue_id'], (r) =>
      r.db?.activeRollouts.map((x) => ({ labels: { queue_id: x.queueId }, value: x.budgetUsedRatio })),
    );
    g('spm_deployment_active_targets', 'Running rollouts: production systems targeted', ['queue_id'], (r) => r.db?.activeRollouts.map((x) => ({ labels: { queue_id: x.queueId }, value: x.targets })));
    g('spm_notifications', 'Notification deliveries by status (pending, sent, failed) and channel', ['status', 'channel'], (r) =>
      r.db?.notifications.map((x) => ({ labels: { status: x.status, channel: x.channel }, value: x.n })),
    );
    g('spm_temporal_task_queue_backlog', "Tasks waiting on the orchestrator's task queue (Temporal's approximate backlog), by task type", ['type'], (r) =>
      r.backlog?.map((b) => ({ labels: { type: b.type }, value: b.count })),
    );
    g('spm_temporal_task_queue_backlog_age_seconds', 'Age of the oldest task waiting on the task queue, by task type', ['type'], (r) =>
      r.backlog?.map((b) => ({ labels: { type: b.type }, value: b.ageSeconds })),
    );
  },
  { name: 'business-metrics', dependencies: ['metrics', 'db', 'temporal'] },
);
