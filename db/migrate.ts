import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createDb, describeDb } from './connection.js';
import { ensureDatabase } from './ensure-database.js';
import { migrateDown, migrateToLatest, migrateToNone } from './migrator.js';

// npm run migrate [-- latest|down|reset]
async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel, 'migrate');
  const command = process.argv[2] ?? 'latest';
  if (command === 'latest' && (await ensureDatabase(config.db))) {
    log.info({ database: describeDb(config.db) }, 'created the database');
  }
  const db = createDb(config.db, 'spm-migrate');
  try {
    const steps =
      command === 'latest'
        ? await migrateToLatest(db)
        : command === 'down'
          ? await migrateDown(db)
          : command === 'reset'
            ? await migrateToNone(db)
            : null;
    if (steps === null) throw new Error(`unknown command "${command}" (use latest, down or reset)`);
    log.info({ database: describeDb(config.db), steps }, steps.length ? 'migrations applied' : 'schema already up to date');
  } finally {
    await db.destroy();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
