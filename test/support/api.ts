import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { connectTemporal, type TemporalHandle } from '../../client.js';
import type { ApiToken } from '../../config/api-tokens.js';
import type { Config } from '../../config/config.js';
import { createDb, type Db } from '../../db/connection.js';
import { testConfig, testLogger } from './context.js';

export const TEST_TOKENS: ApiToken[] = [
  { name: 'vera-viewer', role: 'viewer', token: 'test-viewer-token-000001' },
  { name: 'otto-operator', role: 'operator', token: 'test-operator-token-00001' },
  { name: 'anna-approver', role: 'approver', token: 'test-approver-token-00001' },
  { name: 'adam-admin', role: 'admin', token: 'test-admin-token-0000001' },
];

export const bearer = (role: ApiToken['role']) => ({
  authorization: `Bearer ${TEST_TOKENS.find((t) => t.role === role)?.token}`,
});

export interface TestApi {
  app: FastifyInstance;
  config: Readonly<Config>;
  db: Db;
  temporal: TemporalHandle;
  close(): Promise<void>;
}

/** The real app on the run's PostgreSQL database and Temporal server, driven with app.inject. */
export async function startTestApi(overrides: Record<string, string> = {}): Promise<TestApi> {
  const config = testConfig(overrides);
  const db = createDb(config.db, 'spm-test-api');
  const temporal = await connectTemporal(config.temporal);
  const app = await buildApp({ config, db, temporal, tokens: TEST_TOKENS, logger: testLogger() });
  return {
    app,
    config,
    db,
    temporal,
    async close() {
      await app.close();
      await db.destroy();
      await temporal.connection.close();
    },
  };
}
