import pg from 'pg';
import type { Config } from '../config/config.js';
import { poolConfig } from './connection.js';

/**
 * Creates the configured database when it does not exist yet (a fresh machine), connecting to the
 * server's `postgres` database. Returns true when it created it.
 */
export async function ensureDatabase(db: Config['db']): Promise<boolean> {
  const target = poolConfig(db, 'spm-migrate');
  const name = db.connectionString ? new URL(db.connectionString).pathname.replace(/^\//, '') : db.database;
  const probe = new pg.Client(target);
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // 3D000 = invalid_catalog_name
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new pg.Client({ ...target, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } finally {
    await admin.end();
  }
}
