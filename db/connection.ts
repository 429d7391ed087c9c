import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import type { Database } from './database.js';

// pg returns int8 and numeric as strings and `date` as a local-midnight Date. Our bigints are byte sizes
// (far below 2^53), numerics are scores, and a calendar day is best kept as its 'YYYY-MM-DD' text.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Db = Kysely<Database>;

export function poolConfig(db: Config['db'], applicationName: string): pg.PoolConfig {
  const base: pg.PoolConfig = db.connectionString
    ? { connectionString: db.connectionString }
    : { host: db.host, port: db.port, database: db.database, user: db.user, password: db.password };
  return {
    ...base,
    max: db.poolMax,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  };
}

const pools = new WeakMap<Db, pg.Pool>();

export function createDb(db: Config['db'], applicationName = 'spm-orchestrator'): Db {
  const pool = new pg.Pool(poolConfig(db, applicationName));
  // An idle client that loses its server (restart, failover) must not crash the process.
  pool.on('error', () => undefined);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(kysely, pool);
  return kysely;
}

/**
 * The pg pool under a Kysely instance, for the few hot reads that run as named (server-side prepared)
 * statements: PostgreSQL then plans them once per connection instead of on every request.
 */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this Kysely instance was not made by createDb');
  return pool;
}

/** A description of where we connect, without the password. */
export function describeDb(db: Config['db']): string {
  if (db.connectionString) {
    const url = new URL(db.connectionString);
    return `${url.hostname}:${url.port || 5432}${url.pathname}`;
  }
  return `${db.host}:${db.port}/${db.database}`;
}
