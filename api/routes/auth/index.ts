import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../../../config/api-tokens.js';
import { ALLOWED } from '../../plugins/auth.js';
import { errorResponses } from '../../schemas/common.js';
import { StringEnum } from '../../schemas/types.js';

const Capability = Type.Boolean();

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/me',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['auth'],
        summary: 'Who holds this token, its role and what it may do (the dashboard offers only the buttons the role may use)',
        response: {
          200: Type.Object({
            name: Type.String(),
            role: StringEnum(ROLES),
            may: Type.Object(
              {
                read: Capability,
                write: Type.Boolean({ description: 'queue, start tests, deploy, halt, roll back, release test systems' }),
                approve: Type.Boolean({ description: 'approve, reject, snooze' }),
                admin: Type.Boolean({ description: 'settings' }),
              },
            ),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const actor = request.actor!;
      const may = (need: keyof typeof ALLOWED) => ALLOWED[need].includes(actor.role);
      return { name: actor.name, role: actor.role, may: { read: may('read'), write: may('write'), approve: may('approve'), admin: may('admin') } };
    },
  );
};
