import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config/config.js';
import { SEARCH_ATTRIBUTES, workflowIds } from './workflows/messages.js';
import type { selfTest } from './workflows/index.js';
import { temporalConnectionOptions } from './temporal/connection.js';
import { describeSyncSchedule, findRunningSyncs, progressOf, syncNow } from './temporal/sync-schedule.js';
import { SYNC_SCHEDULE_ID } from './workflows/messages.js';

// The Temporal client factory used by the API and the ops CLI (`npm run ops -- <command>`).

export interface TemporalHandle {
  connection: Connection;
  client: Client;
}

/** Connects eagerly: fails fast when the server is unreachable (CLI, tests). */
export async function connectTemporal(temporal: Config['temporal']): Promise<TemporalHandle> {
  const connection = await Connection.connect(temporalConnectionOptions(temporal));
  return { connection, client: new Client({ connection, namespace: temporal.namespace }) };
}

/** Connects on first use: the API must start (and report Temporal as down) while the server is away. */
export function lazyTemporal(temporal: Config['temporal']): TemporalHandle {
  const connection = Connection.lazy(temporalConnectionOptions(temporal));
  return { connection, client: new Client({ connection, namespace: temporal.namespace }) };
}

const SA_TYPE_ENUM: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };

/**
 * Registers the project's custom search attributes when missing (idempotent). The dev server
 * can also take them as --search-attribute flags; a real cluster needs this or `temporal operator`.
 */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, SA_TYPE_ENUM[k.type] ?? 2])),
  });
  return missing.map((k) => k.name);
}

// ---------------------------------------------------------------------------------------------
// ops CLI

type Command = (ctx: { client: Client; config: Readonly<Config>; args: string[] }) => Promise<unknown>;
type OfflineCommand = (ctx: { config: Readonly<Config>; args: string[] }) => Promise<unknown>;

/** Commands that work without Temporal (PostgreSQL only): the offline intel import. */
export const offlineCommands: Record<string, { help: string; run: OfflineCommand }> = {
  'import-intel': {
    help: 'import NVD 2.0 JSON, the CISA KEV JSON and/or the EPSS CSV(.gz) files <file>... (offline sites), then re-rank',
    run: async ({ config, args }) => {
      if (!args.length) throw new Error('import-intel needs at least one file (NVD 2.0 JSON, KEV JSON, EPSS CSV or .csv.gz)');
      const { createDb } = await import('./db/connection.js');
      const { importIntelFile } = await import('./activities/intel/import.js');
      const db = createDb(config.db, 'spm-ops');
      try {
        const results = [];
        for (const file of args) results.push(await importIntelFile(db, file));
        return results;
      } finally {
        await db.destroy();
      }
    },
  },
};

export const commands: Record<string, { help: string; run: Command }> = {
  intel: {
    help: 'run the NVD / EPSS / KEV enrichment now and wait (joins a pass in progress); --force refetches KEV and EPSS',
    run: async ({ client, config, args }) => {
      const { runIntelNow } = await import('./temporal/intel.js');
      return runIntelNow(client, config, { trigger: 'cli', force: args.includes('--force') });
    },
  },
  'intel-status': {
    help: 'the intel-enrichment workflow: running or last pass, with its progress',
    run: async ({ client, config }) => {
      const { intelProgress } = await import('./temporal/intel.js');
      return intelProgress(client, config);
    },
  },
  sync: {
    help: 'sync UYUNI errata now and wait for the result (joins a run in progress)',
    run: async ({ client, config }) => syncNow(client, config, 'cli'),
  },
  'sync-status': {
    help: 'runs in progress with their progress, and the uyuni-sync Schedule',
    run: async ({ client, config }) => {
      const running = await findRunningSyncs(client, config.temporal.taskQueue);
      const schedule = await describeSyncSchedule(client);
      return {
        running: await Promise.all(running.map(async (r) => ({ ...r, progress: await progressOf(client, r) }))),
        schedule: schedule && {
          id: SYNC_SCHEDULE_ID,
          paused: schedule.state.paused,
          nextRunAt: schedule.info.nextActionTimes[0] ?? null,
          recentRuns: schedule.info.recentActions.map((a) => ({ at: a.takenAt, workflowId: a.action.workflow.workflowId })),
        },
      };
    },
  },
  'sync-pause': {
    help: 'pause the uyuni-sync Schedule [reason...]',
    run: async ({ client, args }) => {
      await client.schedule.getHandle(SYNC_SCHEDULE_ID).pause(args.join(' ') || 'paused with npm run ops');
      return { paused: true };
    },
  },
  'sync-resume': {
    help: 'resume the uyuni-sync Schedule',
    run: async ({ client }) => {
      await client.schedule.getHandle(SYNC_SCHEDULE_ID).unpause('resumed with npm run ops');
      return { paused: false };
    },
  },
  selftest: {
    help: 'run the selfTest workflow through the worker (proves server → worker → PostgreSQL)',
    run: async ({ client, config }) =>
      client.workflow.execute<typeof selfTest>('selfTest', {
        taskQueue: config.temporal.taskQueue,
        workflowId: workflowIds.selfTest(new Date().toISOString().replace(/[:.]/g, '-')),
        workflowExecutionTimeout: '1 minute',
      }),
  },
};

const HELP = new Set(['help', '--help', '-h']);

function usage(): string {
  return [
    'usage: npm run ops -- <command> [args]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(22)} ${c.help}`),
    ...Object.entries(offlineCommands).map(([name, c]) => `  ${name.padEnd(22)} ${c.help}`),
    `  ${'help'.padEnd(22)} this list`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { loadConfigOrExit } = await import('./config/config.js');
  const [name, ...args] = process.argv.slice(2);
  if (name === undefined || HELP.has(name)) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const offline = offlineCommands[name];
  if (offline) {
    const config = loadConfigOrExit();
    const result = await offline.run({ config, args });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n${usage()}\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit();
  const { connection, client } = await connectTemporal(config.temporal);
  try {
    const result = await command.run({ client, config, args });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`ops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
