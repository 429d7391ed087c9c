import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

// Tests run against the real PostgreSQL (127.0.0.1:5432 here, DB_* to point elsewhere), each run in a
// database of its own so runs never see each other's rows.

export function adminConfig(): pg.PoolConfig {
  return {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? 5432),
    user: process.env.DB_USER ?? 'postgres',
    password: process.env.DB_PASSWORD ?? '',
    database: 'postgres',
  };
}

export async function createDatabase(name: string, template?: string): Promise<void> {
  const client = new pg.Client(adminConfig());
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${adminConfig().host}:${adminConfig().port}: ${String(err)}`);
  }
  try {
    await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client(adminConfig());
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function untypedDb(database: string): Kysely<unknown> {
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...adminConfig(), database, max: 2 }) }) });
}

export async function dropDatabasesLike(pattern: string): Promise<void> {
  const client = new pg.Client(adminConfig());
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [pattern]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
