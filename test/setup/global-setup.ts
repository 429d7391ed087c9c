import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startPrometheus, type RunningPrometheus } from '../../lab/prometheus/index.js';
import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { WORKFLOWS_PATH } from '../../worker.js';
import { adminConfig, createDatabase, dropDatabasesLike } from '../support/postgres.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseName: string;
    /** A migrated database nobody connects to: files clone it for a database of their own. */
    templateDatabase: string;
    /** ONE real Prometheus (Debian package) for the run, scraping every lab's exporters through file_sd. */
    prometheusUrl: string;
    /** Where a lab writes its file_sd target list (`<labId>.json`). */
    prometheusTargetsDir: string;
    workflowBundlePath: string;
  }
}

// ONE Temporal dev server and ONE fresh, migrated database per run, shared by every test file.
// Nothing here is optional: if Temporal or PostgreSQL cannot be had, the run fails (never a silent skip).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let server: DevServer | undefined;
  let prometheus: RunningPrometheus | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'spm-test-'));
  const prefix = `spm_test_${Date.now()}_${process.pid}`;
  const databaseName = `${prefix}_shared`;
  const templateDatabase = `${prefix}_template`;
  const teardown = async () => {
    await prometheus?.stop();
    await server?.stop();
    if (!process.env.KEEP_TEST_DB) await dropDatabasesLike(`${prefix}_%`);
  };
  try {
    return await prepare();
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }

  async function prepare() {
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
  const prometheusTargetsDir = path.join(scratch, 'targets');
  mkdirSync(prometheusTargetsDir);
  prometheus = await startPrometheus({
    dataDir: path.join(scratch, 'prometheus'),
    targetsGlob: path.join(prometheusTargetsDir, '*.json'),
    scrapeIntervalSeconds: 1,
  });

  await createDatabase(templateDatabase);
  // Through the real `npm run migrate` entry (Kysely Migrator + FileMigrationProvider, run by tsx).
  const admin = adminConfig();
  execFileSync(process.execPath, ['--import', 'tsx', 'db/migrate.ts', 'latest'], {
    env: {
      ...process.env,
      DB_HOST: String(admin.host),
      DB_PORT: String(admin.port),
      DB_USER: String(admin.user),
      DB_PASSWORD: String(admin.password ?? ''),
      DB_NAME: templateDatabase,
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await createDatabase(databaseName, templateDatabase);

  // Bundling workflows costs seconds: do it once per run, not once per worker (sdk-typescript #728).
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, code);

  project.provide('temporalAddress', temporalAddress);
  project.provide('databaseName', databaseName);
  project.provide('templateDatabase', templateDatabase);
  project.provide('prometheusUrl', prometheus.url);
  project.provide('prometheusTargetsDir', prometheusTargetsDir);
  project.provide('workflowBundlePath', workflowBundlePath);
  process.stdout.write(
    `[setup] Temporal ${server ? `dev server started at ${temporalAddress}` : `at ${temporalAddress} (TEMPORAL_ADDRESS)`}; ` +
      `PostgreSQL database ${databaseName} migrated; Prometheus ${prometheus.url}; workflows bundled (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );

  return teardown;
  }
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
