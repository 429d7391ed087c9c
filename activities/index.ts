import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connection.js';
import { createSelfTestActivities } from './store/self-test.js';

export interface ActivityDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
}

/** Binds every activity to its clients (the samples' dependency-injection pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSelfTestActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
