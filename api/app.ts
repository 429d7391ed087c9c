import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TemporalHandle } from '../client.js';
import type { ApiToken } from '../config/api-tokens.js';
import type { Config } from '../config/config.js';
import { PROJECT_ROOT } from '../config/paths.js';
import type { Db } from '../db/connection.js';
import { SERVER_TIMEOUTS } from './limits.js';
import { auth } from './plugins/auth.js';
import { businessMetrics } from './plugins/business-metrics.js';
import { dashboard } from './plugins/dashboard.js';
import { database } from './plugins/db.js';
import { errorHandler, frameworkError } from './plugins/error-handler.js';
import { metrics } from './plugins/metrics.js';
import { ROUTER_MAX_PARAM_LENGTH, routeContract } from './plugins/route-contract.js';
import { openapi } from './plugins/swagger.js';
import { temporal } from './plugins/temporal.js';
import { validation } from './plugins/validation.js';
import { approvalRoutes } from './routes/approvals/index.js';
import { bundleRoutes } from './routes/bundles/index.js';
import { authRoutes } from './routes/auth/index.js';
import { configRoutes } from './routes/config/index.js';
import { deploymentRoutes } from './routes/deployments/index.js';
import { notificationRoutes } from './routes/notifications/index.js';
import { errataRoutes } from './routes/errata/index.js';
import { healthRoutes } from './routes/health/index.js';
import { overviewRoutes } from './routes/overview/index.js';
import { queueRoutes } from './routes/queue/index.js';
import { syncRoutes } from './routes/sync/index.js';
import { testSystemRoutes } from './routes/test-systems/index.js';
import { testRoutes } from './routes/tests/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Readonly<Config>;
    /** Every route as registered (method, url): what /docs/json must list. */
    routeTable: { method: string; url: string }[];
  }
}

export interface AppDeps {
  config: Readonly<Config>;
  db: Db;
  temporal: TemporalHandle;
  tokens: readonly ApiToken[];
  logger: Logger;
  /** Close the db pool and Temporal connection with the app (the API process owns them; tests may not). */
  ownsResources?: boolean;
}

export const API_VERSION: string = (
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    requestIdHeader: 'x-request-id',
    // Waiting endpoints answer within WAIT_BOUND_SECONDS (202 and where to poll after that): well inside these.
    ...SERVER_TIMEOUTS,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: ROUTER_MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', deps.config);
  app.decorate('routeTable', [] as { method: string; url: string }[]);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) app.routeTable.push({ method, url: route.url });
  });
  await app.register(validation);
  await app.register(errorHandler);
  await app.register(routeContract);
  await app.register(openapi, { version: API_VERSION });
  await app.register(metrics);
  await app.register(database, { db: deps.db, owned: deps.ownsResources ?? false });
  await app.register(temporal, { temporal: deps.temporal, owned: deps.ownsResources ?? false });
  await app.register(auth, { tokens: deps.tokens });
  await app.register(businessMetrics);

  await app.register(healthRoutes, { prefix: '/api/v1/health', version: API_VERSION });
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(overviewRoutes, { prefix: '/api/v1/overview' });
  await app.register(configRoutes, { prefix: '/api/v1/config' });
  await app.register(syncRoutes, { prefix: '/api/v1/sync' });
  await app.register(errataRoutes, { prefix: '/api/v1/errata' });
  await app.register(queueRoutes, { prefix: '/api/v1/queue' });
  await app.register(testRoutes, { prefix: '/api/v1/tests' });
  await app.register(testSystemRoutes, { prefix: '/api/v1/test-systems' });
  await app.register(bundleRoutes, { prefix: '/api/v1/bundles' });
  await app.register(approvalRoutes, { prefix: '/api/v1/approvals' });
  await app.register(deploymentRoutes, { prefix: '/api/v1/deployments' });
  await app.register(notificationRoutes, { prefix: '/api/v1/notifications' });
  await app.register(dashboard, { temporalUiUrl: deps.config.temporal.uiUrl, temporalNamespace: deps.config.temporal.namespace });

  return app;
}
