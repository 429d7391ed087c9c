import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../db/connection.js';
import { MIGRATION_FOLDER } from '../../db/migrator.js';
import { testConfig } from '../support/context.js';
import { adminConfig, createDatabase, dropDatabase } from '../support/postgres.js';

// Runs `npm run migrate`'s entry against a database of its own, so down/up cannot disturb other files.
const dbName = `spm_migrations_${Date.now()}_${process.pid}`;
const migrate = (command: string) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'db/migrate.ts', command], {
    env: { ...process.env, DB_NAME: dbName, DB_HOST: String(adminConfig().host), DB_PORT: String(adminConfig().port), DB_USER: String(adminConfig().user), DATABASE_URL: '', LOG_LEVEL: 'info' },
    encoding: 'utf8',
  });

const relations = async (db: Db) => {
  const { rows } = await sql<{ name: string; kind: string }>`
    select table_name as name, table_type as kind from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by 1`.execute(db);
  return rows;
};

describe('migrations (npm run migrate) on an empty database', () => {
  let db: Db;
  beforeAll(async () => {
    await createDatabase(dbName);
    db = createDb(testConfig({ DB_NAME: dbName }).db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(dbName);
  });

  it('creates the 10 tables, sync_runs and the 3 views; down then up works', async () => {
    expect(migrate('latest')).toMatch(/up 2026_11_27_0001_initial_schema/);
    const created = await relations(db);
    const tables = created.filter((r) => r.kind === 'BASE TABLE').map((r) => r.name);
    const views = created.filter((r) => r.kind === 'VIEW').map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining([
      'errata_cache', 'patch_risk_profile', 'patch_test_queue', 'patch_tests', 'patch_test_phases', 'patch_approvals',
      'patch_deployments', 'patch_rollbacks', 'orchestrator_notifications', 'orchestrator_config', 'sync_runs',
    ]));
    expect(views.sort()).toEqual(['v_daily_stats', 'v_pending_approvals', 'v_queue_details']);

    const latest = readdirSync(MIGRATION_FOLDER).sort().at(-1)!.replace(/\.ts$/, '');
    expect(migrate('down')).toContain(`down ${latest}`);
    expect(migrate('latest')).toContain(`up ${latest}`);
    expect(migrate('reset')).toMatch(/down 2026_11_27_0001_initial_schema/);
    expect(await relations(db)).toEqual([]);
    expect(migrate('latest')).toMatch(/up 2026_11_27_0001_initial_schema/);
    expect(await relations(db)).toEqual(created);
    expect(migrate('latest')).toMatch(/already up to date/);
  });

  it('seeds orchestrator_config with the default weights and thresholds', async () => {
    const rows = await db.selectFrom('orchestrator_config').select(['key', 'value']).execute();
    const config = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    expect(config).toMatchObject({
      'score.kernel_penalty': 30,
      'score.reboot_penalty': 15,
      'score.config_penalty': 10,
      'score.dependency_penalty': 3,
      'score.small_patch_bonus': 5,
      'test.cpu_delta_threshold': 20,
      'test.memory_delta_threshold': 15,
    });
  });

  it('rejects a queue status change the state machine does not allow, and allows the ones it does', async () => {
    await db.insertInto('errata_cache').values({ advisory_name: 'USN-1-1', advisory_type: 'Security Advisory', severity: 'Medium' }).execute();
    const { id } = await db.insertInto('patch_test_queue').values({ advisory_name: 'USN-1-1', target_os: 'ubuntu' }).returning('id').executeTakeFirstOrThrow();

    await expect(sql`update patch_test_queue set status = 'completed' where id = ${id}`.execute(db)).rejects.toThrow(
      /status transition queued -> completed is not allowed/,
    );
    const before = await db.selectFrom('patch_test_queue').select(['status', 'status_changed_at', 'updated_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(before.status).toBe('queued');

    await new Promise((r) => setTimeout(r, 20));
    for (const next of ['testing', 'passed', 'pending_approval', 'approved', 'promoting', 'prod_applied', 'completed'] as const) {
      await db.updateTable('patch_test_queue').set({ status: next }).where('id', '=', id).execute();
    }
    const after = await db.selectFrom('patch_test_queue').select(['status', 'status_changed_at', 'updated_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(after.status).toBe('completed');
    expect(after.status_changed_at.getTime()).toBeGreaterThan(before.status_changed_at.getTime());
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());

    await expect(db.insertInto('patch_test_queue').values({ advisory_name: 'USN-1-1', target_os: 'ubuntu', status: 'approved' }).execute()).rejects.toThrow(
      /must start as queued/,
    );
  });

  it('allows one active queue row per advisory and OS', async () => {
    await db.insertInto('patch_test_queue').values({ advisory_name: 'USN-1-1', target_os: 'ubuntu' }).execute();
    await expect(db.insertInto('patch_test_queue').values({ advisory_name: 'USN-1-1', target_os: 'ubuntu' }).execute()).rejects.toThrow(
      /patch_test_queue_active_uq/,
    );
  });

  it('v_daily_stats covers the last 30 days and v_pending_approvals reports hours_pending', async () => {
    const days = await db.selectFrom('v_daily_stats').selectAll().orderBy('day').execute();
    expect(days).toHaveLength(30);
    expect(days.at(-1)?.queued).toBeGreaterThanOrEqual(2);

    await db.insertInto('errata_cache').values({ advisory_name: 'RHSA-2026:0001', advisory_type: 'Security Advisory', severity: 'High' }).execute();
    const { id } = await db.insertInto('patch_test_queue').values({ advisory_name: 'RHSA-2026:0001', target_os: 'rhel' }).returning('id').executeTakeFirstOrThrow();
    for (const next of ['testing', 'passed', 'pending_approval'] as const) await db.updateTable('patch_test_queue').set({ status: next }).where('id', '=', id).execute();
    await sql`update patch_test_queue set status_changed_at = now() - interval '5 hours' where id = ${id}`.execute(db);
    const pending = await db.selectFrom('v_pending_approvals').selectAll().where('queue_id', '=', id).executeTakeFirstOrThrow();
    expect(pending.hours_pending).toBeCloseTo(5, 1);
  });
});
