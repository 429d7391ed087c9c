import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import { getConfigValue, setConfigValue, settingFallback, settingsInUse } from '../../../db/queries/orchestrator-config.js';
import { TARGET_OSES } from '../../../domain/os.js';
import { checkSetting, describeSetting, isSettingKey, MAX_SERVICES, SERVICE_NAME, SETTINGS, settingInUse, type SettingKey, type SettingSpec } from '../../../domain/settings.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas/common.js';

const ConfigEntry = Type.Object({
  key: Type.String(),
  value: Type.Unknown({ description: 'the stored value' }),
  in_use: Type.Unknown({ description: 'the value the orchestrator uses now: the stored one, or its fallback when the stored one is out of range' }),
  source: Type.Union([Type.Literal('database'), Type.Literal('fallback')], { description: 'where in_use comes from' }),
  accepts: Type.String({ description: 'the type and range a new value must have' }),
  description: Type.Union([Type.String(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
  updated_at: Type.String({ format: 'date-time' }),
});

/** A setting's value as JSON Schema, from its spec: the document states each key's exact type and range. */
function valueSchema(spec: SettingSpec): TSchema {
  if (spec.kind === 'choice') return Type.Union(spec.values.map((v) => Type.Literal(v)));
  if (spec.kind === 'services') {
    const list = Type.Array(Type.String({ pattern: SERVICE_NAME.source, maxLength: 128 }), { maxItems: MAX_SERVICES });
    return Type.Object(Object.fromEntries(TARGET_OSES.map((os) => [os, Type.Optional(list)])), { additionalProperties: false });
  }
  const range = { minimum: spec.minimum, maximum: spec.maximum, description: `${spec.unit}` };
  return spec.integer ? Type.Integer(range) : Type.Number(range);
}

/**
 * Runtime settings kept in orchestrator_config (Success Score weights, thresholds, approval and wave policy).
 * One PUT route per key, so each key's type and range is in /docs/json and refused with a 400 naming it.
 */
export const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const view = (r: Awaited<ReturnType<typeof settingsInUse>>[number]) => ({
    key: r.key,
    value: r.value,
    in_use: r.in_use.value,
    source: r.in_use.source,
    accepts: isSettingKey(r.key) ? describeSetting(SETTINGS[r.key]) : 'unknown key',
    description: r.description,
    updated_by: r.updated_by,
    updated_at: r.updated_at.toISOString(),
  });

  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['config'],
        summary: 'All runtime settings: the stored value, the value in use (the stored one, or its fallback when out of range), and what each accepts',
        response: { 200: Type.Array(ConfigEntry) },
      },
    },
    async () => (await settingsInUse(app.db, app.config)).map(view),
  );

  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const spec: SettingSpec = SETTINGS[key];
    app.put(
      `/${key}`,
      {
        config: { auth: 'admin' },
        // The body schema documents the range; the handler answers a violation itself, naming the key.
        attachValidation: true,
        schema: {
          tags: ['config'],
          summary: `Set ${key} (admin): ${describeSetting(spec)}`,
          body: Type.Object({ value: valueSchema(spec) }, { additionalProperties: false }),
          response: { 200: ConfigEntry, ...errorResponses(404) },
        },
      },
      async (request) => {
        const body = request.body as { value?: unknown } | null;
        if (request.validationError) {
          const shapeOk = body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).every((k) => k === 'value') && 'value' in body;
          if (!shapeOk) throw request.validationError;
        }
        const check = checkSetting(key, body?.value);
        if (!check.ok) throw new ApiError(400, check.message, { field: 'value', key, accepts: describeSetting(spec) });
        if (!(await getConfigValue(app.db, key))) throw notFound(`setting "${key}" (no row in orchestrator_config)`);
        const row = await setConfigValue(app.db, key, check.value, request.actor?.name ?? 'unknown');
        if (!row) throw notFound(`setting "${key}"`);
        request.log.info({ key, by: request.actor?.name }, 'setting changed');
        return view({ ...row, in_use: settingInUse(key, row.value, settingFallback(key, app.config)) });
      },
    );
  }
};
