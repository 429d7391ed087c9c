import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createDependencyChecks } from '../../services/dependency-checks.js';

const Dependency = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  required: Type.Boolean({ description: 'a required dependency that is down makes the answer 503' }),
  latency_ms: Type.Integer(),
  target: Type.String(),
  error: Type.Optional(Type.String()),
});

const Detail = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  down: Type.Array(Type.String(), { description: 'names of the dependencies that are down' }),
  checked_at: Type.String({ format: 'date-time' }),
  dependencies: Type.Object({ postgres: Dependency, temporal: Dependency, uyuni: Dependency, prometheus: Dependency }),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ version: string }> = async (app, opts) => {
  const checks = createDependencyChecks({ config: app.config, db: app.db, temporal: app.temporal });
  app.addHook('onClose', async () => checks.close());
  const startedAt = Date.now();

  app.get(
    '/',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the API process answers (no dependency is contacted)',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptime_seconds: Type.Number() }) },
      },
    },
    async () => ({ status: 'ok' as const, version: opts.version, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) }),
  );

  app.get(
    '/detail',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'PostgreSQL, Temporal, UYUNI and Prometheus: status and latency each; 503 when a required one is down',
        security: [],
        response: { 200: Detail, 503: Detail },
      },
    },
    async (_request, reply) => {
      const result = await checks.checkAll();
      return reply.status(result.status === 'down' ? 503 : 200).send({ ...result, checked_at: new Date().toISOString() });
    },
  );
};
