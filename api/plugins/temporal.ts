import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TemporalHandle } from '../../client.js';

declare module 'fastify' {
  interface FastifyInstance {
    temporal: TemporalHandle;
  }
}

/** The Temporal client: the API reads PostgreSQL and talks to Temporal, never to UYUNI/Salt directly. */
export const temporal = fp(
  async (app: FastifyInstance, opts: { temporal: TemporalHandle; owned: boolean }) => {
    app.decorate('temporal', opts.temporal);
    if (opts.owned) app.addHook('onClose', async () => opts.temporal.connection.close());
  },
  { name: 'temporal' },
);
