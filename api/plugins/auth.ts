import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiToken, RoleName } from '../../config/api-tokens.js';
import type { AuthRequirement } from '../schemas/common.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The holder of the bearer token; recorded as the actor of decisions. */
    actor?: { name: string; role: RoleName };
  }
}

/** Which roles satisfy each requirement: viewer reads, operator writes, approver decides, admin does all. */
export const ALLOWED: Record<Exclude<AuthRequirement, 'public'>, readonly RoleName[]> = {
  read: ['viewer', 'operator', 'approver', 'admin'],
  write: ['operator', 'admin'],
  approve: ['approver', 'admin'],
  admin: ['admin'],
};

/** What a route needs: its `config.auth`, else admin under /api/v1 (a route that forgets to say) and public outside. */
export const requirementOf = (url: string | undefined, declared: AuthRequirement | undefined): AuthRequirement =>
  declared ?? (url?.startsWith('/api/v1') ? 'admin' : 'public');

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-token auth. Routes state what they need in `config.auth`; routes outside /api/v1 (docs, metrics)
 * and those marked public (health) are open. A route under /api/v1 that forgets to say is admin-only.
 */
export const auth = fp(
  async (app: FastifyInstance, opts: { tokens: readonly ApiToken[] }) => {
    // Compare fixed-length digests in constant time so response timing reveals nothing about a token.
    const known = opts.tokens.map((t) => ({ ...t, digest: digest(t.token) }));
    const lookup = (presented: string) => {
      const d = digest(presented);
      let match: (typeof known)[number] | undefined;
      for (const t of known) if (timingSafeEqual(t.digest, d)) match = t;
      return match;
    };

    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const requirement = requirementOf(request.routeOptions.url, request.routeOptions.config.auth);
      if (requirement === 'public' || !request.routeOptions.url) return;

      const header = request.headers.authorization;
      if (!header) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer')
          .send({ statusCode: 401, error: 'Unauthorized', message: 'missing Authorization: Bearer <token> header', requestId: request.id });
      }
      const [scheme, token] = header.split(' ', 2);
      const holder = scheme?.toLowerCase() === 'bearer' && token ? lookup(token.trim()) : undefined;
      if (!holder) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer error="invalid_token"')
          .send({ statusCode: 401, error: 'Unauthorized', message: 'invalid bearer token', requestId: request.id });
      }
      request.actor = { name: holder.name, role: holder.role };
      if (!ALLOWED[requirement].includes(holder.role)) {
        return reply.status(403).send({
          statusCode: 403,
          error: 'Forbidden',
          message: `role "${holder.role}" may not ${request.method} ${request.routeOptions.url}: it needs one of ${ALLOWED[requirement].join(', ')}`,
          requestId: request.id,
        });
      }
    });
  },
  { name: 'auth' },
);
