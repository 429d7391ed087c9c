import { Type, type Static } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String({ description: 'what went wrong, naming the field or resource' }),
    field: Type.Optional(Type.String({ description: 'the offending input field, for 400' })),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse', additionalProperties: true },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)]));

/** Route-level auth requirement (see plugins/auth.ts). */
export type AuthRequirement = 'public' | 'read' | 'write' | 'approve' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
}
