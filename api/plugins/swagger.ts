import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorResponse } from '../schemas/common.js';

interface OpenApiDoc {
  paths?: Record<string, Record<string, { requestBody?: { required?: boolean; content?: Record<string, { schema?: { required?: string[]; minProperties?: number } }> } }>>;
}

/**
 * @fastify/swagger marks every request body required; a body whose schema requires nothing may be left out
 * (api/plugins/validation.ts treats a missing body as {}), and the document says so.
 */
export function markOptionalBodies<T extends OpenApiDoc>(doc: T): T {
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(operations)) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (op.requestBody && schema && !schema.required?.length && !schema.minProperties) op.requestBody.required = false;
    }
  }
  return doc;
}

/** The route schemas are the OpenAPI document: served at /docs/json, browsable at /docs. */
export const openapi = fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    app.addSchema(ErrorResponse);
    await app.register(swagger, {
      transformObject: (documentObject) => markOptionalBodies(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as OpenApiDoc) as never,
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'SPM Orchestrator API',
          description: 'Security-patch orchestration for UYUNI-managed fleets: sync, queue, test, approve, deploy.',
          version: opts.version,
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
        tags: [
          { name: 'health', description: 'liveness and dependency checks (open)' },
          { name: 'auth', description: 'who holds the token and what its role may do' },
          { name: 'overview', description: 'the dashboard\'s morning summary' },
          { name: 'ops', description: 'metrics for Prometheus (open)' },
          { name: 'sync', description: 'the UYUNI errata sync: status, trigger' },
          { name: 'errata', description: 'the errata cache' },
          { name: 'queue', description: 'the patch test queue and Success Score' },
          { name: 'tests', description: 'the test engine: start, follow, roll back; test systems' },
          { name: 'approvals', description: 'decisions on patches that passed their test' },
          { name: 'deployments', description: 'production rollouts in waves, failure budget, rollback' },
          { name: 'config', description: 'runtime settings: score weights, thresholds, approval and wave policy' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  },
  { name: 'openapi' },
);
