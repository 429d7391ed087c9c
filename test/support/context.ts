import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { createDb, type Db } from '../../db/connection.js';
import { createDatabase } from './postgres.js';
import { sql } from 'kysely';

/** The configuration a test process uses: the run's database and Temporal server, plus overrides. */
export function testConfig(overrides: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({
    DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
    DB_PORT: process.env.DB_PORT ?? '5432',
    DB_USER: process.env.DB_USER ?? 'postgres',
    DB_NAME: inject('databaseName'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKER_METRICS_PORT: '0',
    WORKER_SHUTDOWN_GRACE_SECONDS: '2',
    UYUNI_PASSWORD: 'lab-admin-password',
    SALT_PASSWORD: 'lab-salt-secret',
    // no test reaches the public NVD/EPSS/KEV: enrichment runs only where a test points it at the lab's
    INTEL_AFTER_SYNC: 'false',
    ...overrides,
  });
}

export function testDb(config = testConfig()): Db {
  return createDb(config.db, 'spm-test');
}

export const testLogger = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');

export function workflowBundle(): { code: string } {
  return { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function nativeConnection(): Promise<NativeConnection> {
  return NativeConnection.connect({ address: inject('temporalAddress') });
}

/**
 * A migrated database of this test file's own (cloned from the run's template), for files whose rows
 * would disturb others (the errata cache, the queue). Dropped with the run.
 */
export async function isolatedDatabase(label: string): Promise<string> {
  const name = `${inject('templateDatabase').replace(/_template$/, '')}_${label}_${randomUUID().slice(0, 6)}`;
  await createDatabase(name, inject('templateDatabase'));
  // Workflow ids come from row ids (patch-test-<queueId>, deploy-<queueId>) and every file shares one Temporal
  // namespace: start each database's ids in a range of its own so files never reuse each other's workflow ids.
  const base = (1 + Math.floor(Math.random() * 20_000)) * 100_000;
  const db = testDb(testConfig({ DB_NAME: name }));
  try {
    await sql`select setval(c.oid::regclass, ${base}) from pg_class c where c.relkind = 'S'`.execute(db);
  } finally {
    await db.destroy();
  }
  return name;
}
