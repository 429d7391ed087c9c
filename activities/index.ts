import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connection.js';
import { createQueueActivities } from './queue/queue-activities.js';
import { createSelfTestActivities } from './store/self-test.js';
import { createSyncActivities } from './sync/sync-activities.js';
import { UyuniClient } from './uyuni/client.js';
import type { LimitFunction } from 'p-limit';

export interface ActivityDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  /** One client per worker process: one UYUNI session shared by every activity (logout on close). */
  uyuni: UyuniClient;
  uyuniLimit: LimitFunction;
}

export function createActivityDeps(base: { config: Readonly<Config>; db: Db; log: Logger }): ActivityDeps {
  const { config } = base;
  const uyuni = new UyuniClient({
    url: config.uyuni.url,
    user: config.uyuni.user,
    password: config.uyuni.password,
    timeoutMs: config.uyuni.timeoutMs,
    verifyTls: config.uyuni.verifyTls,
    ...(config.uyuni.caFile ? { caFile: config.uyuni.caFile } : {}),
    timeZone: config.uyuni.timeZone,
    maxConnections: config.uyuni.syncWorkers,
    logger: base.log.child({ component: 'uyuni' }),
  });
  return { ...base, uyuni, uyuniLimit: pLimit(config.uyuni.syncWorkers) };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  await deps.uyuni.close();
}

/** Binds every activity to its clients (the samples' dependency-injection pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSelfTestActivities(deps),
    ...createSyncActivities(deps),
    ...createQueueActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
