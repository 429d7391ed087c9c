import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connection.js';
import { NodeMetrics } from './prometheus/metrics.js';
import { PrometheusClient } from './prometheus/client.js';
import { createApprovalActivities } from './approval/approval-activities.js';
import { createBatchDeployActivities } from './deploy/batch-activities.js';
import { createBatchRollbackActivities } from './deploy/batch-rollback.js';
import { createDeployActivities } from './deploy/deploy-activities.js';
import { createWindowHookActivities } from './deploy/window-hook.js';
import { createIntelActivities } from './intel/intel-activities.js';
import { createMaintenanceActivities } from './maintenance/maintenance-activities.js';
import { closeNotifyClients, createNotifyActivities, createNotifyClients, type NotifyClients } from './notify/index.js';
import { createQueueActivities } from './queue/queue-activities.js';
import { SaltClient } from './salt/client.js';
import { createDispatchActivities } from './patch-test/dispatch.js';
import { createTestActivities } from './patch-test/index.js';
import { createSelfTestActivities } from './store/self-test.js';
import { createSyncActivities } from './sync/sync-activities.js';
import { createVerdictDecisionActivities } from './verdict/decision.js';
import { createVerdictActivities } from './verdict/judge-wave.js';
import { UyuniClient } from './uyuni/client.js';
import type { LimitFunction } from 'p-limit';
import type { CallObserver } from './shared/call-observer.js';

export interface ActivityDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  /** One client per worker process: one UYUNI session shared by every activity (logout on close). */
  uyuni: UyuniClient;
  uyuniLimit: LimitFunction;
  salt: SaltClient;
  metrics: NodeMetrics;
  /** The worker's own Temporal client (leases check their holders; the dispatcher starts tests). */
  temporal: Client;
  /** Notification delivery: the pooled SMTP transport and the webhook HTTP agent. */
  notify: NotifyClients;
}

export function createActivityDeps(base: { config: Readonly<Config>; db: Db; log: Logger; temporal: Client; observer?: CallObserver }): ActivityDeps {
  const { config, observer, ...rest } = base;
  const observing = observer ? { observer } : {};
  const uyuni = new UyuniClient({
    url: config.uyuni.url,
    user: config.uyuni.user,
    password: config.uyuni.password,
    timeoutMs: config.uyuni.timeoutMs,
    verifyTls: config.uyuni.verifyTls,
    ...(config.uyuni.caFile ? { caFile: config.uyuni.caFile } : {}),
    timeZone: config.uyuni.timeZone,
    maxConnections: config.uyuni.syncWorkers,
    allowModules: config.uyuni.allowModules,
    logger: base.log.child({ component: 'uyuni' }),
    ...observing,
  });
  const salt = new SaltClient({
    url: config.salt.url,
    user: config.salt.user,
    password: config.salt.password,
    eauth: config.salt.eauth,
    verifyTls: config.salt.verifyTls,
    timeoutMs: config.salt.timeoutMs,
    logger: base.log.child({ component: 'salt' }),
    ...observing,
  });
  const metrics = new NodeMetrics(new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs, ...observing }));
  return { ...rest, config, uyuni, uyuniLimit: pLimit(config.uyuni.syncWorkers), salt, metrics, notify: createNotifyClients(config) };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  await Promise.allSettled([deps.uyuni.close(), deps.salt.close(), closeNotifyClients(deps.notify)]);
}

/** Binds every activity to its clients (the samples' dependency-injection pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSelfTestActivities(deps),
    ...createSyncActivities(deps),
    ...createQueueActivities(deps),
    ...createTestActivities(deps),
    ...createDispatchActivities(deps),
    ...createApprovalActivities(deps),
    ...createDeployActivities(deps),
    ...createBatchDeployActivities(deps),
    ...createBatchRollbackActivities(deps),
    ...createWindowHookActivities(deps),
    ...createIntelActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createNotifyActivities(deps),
    ...createVerdictActivities(deps),
    ...createVerdictDecisionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
