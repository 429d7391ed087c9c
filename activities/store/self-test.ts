import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Db } from '../../db/connection.js';

export function createSelfTestActivities({ db }: { db: Db }) {
  return {
    async recordSelfTest(): Promise<{ databaseTime: string; workerIdentity: string }> {
      const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
      const now = rows[0]?.now ?? new Date();
      return { databaseTime: now.toISOString(), workerIdentity: `${hostname()}/${process.pid}` };
    },
  };
}
