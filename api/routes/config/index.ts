import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getConfigValue, listConfig, setConfigValue } from '../../../db/queries/orchestrator-config.js';
import { badRequest, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas/common.js';

const ConfigEntry = Type.Object({
  key: Type.String(),
  value: Type.Unknown(),
  description: Type.Union([Type.String(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
  updated_at: Type.String({ format: 'date-time' }),
});

const jsonKind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Runtime settings kept in orchestrator_config (Success Score weights, thresholds, approval and wave policy). */
export const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['config'],
        summary: 'All runtime settings with their descriptions',
        response: { 200: Type.Array(ConfigEntry), ...errorResponses(401, 403) },
      },
    },
    async () => (await listConfig(app.db)).map((r) => ({ ...r, updated_at: r.updated_at.toISOString() })),
  );

  app.put(
    '/:key',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['config'],
        summary: 'Change one setting (admin); the value keeps the type it has',
        params: Type.Object({ key: Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$' }) }),
        body: Type.Object({ value: Type.Unknown() }, { additionalProperties: false }),
        response: { 200: ConfigEntry, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { key } = request.params;
      const current = await getConfigValue(app.db, key);
      if (!current) throw notFound(`setting "${key}"`);
      const { value } = request.body;
      if (value === undefined) throw badRequest('value', 'is required');
      if (jsonKind(value) !== jsonKind(current.value)) {
        throw badRequest('value', `must be of type ${jsonKind(current.value)} like the current value, not ${jsonKind(value)}`);
      }
      if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) {
        throw badRequest('value', 'must be a finite number >= 0');
      }
      const row = await setConfigValue(app.db, key, value, request.actor?.name ?? 'unknown');
      if (!row) throw notFound(`setting "${key}"`);
      request.log.info({ key, by: request.actor?.name }, 'setting changed');
      return { ...row, updated_at: row.updated_at.toISOString() };
    },
  );
};
