import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/connection.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

/** Shares the Kysely instance with every route and closes its pool when the server closes. */
export const database = fp(
  async (app: FastifyInstance, opts: { db: Db; owned: boolean }) => {
    app.decorate('db', opts.db);
    if (opts.owned) app.addHook('onClose', async () => opts.db.destroy());
  },
  { name: 'db' },
);
