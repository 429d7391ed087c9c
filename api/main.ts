import closeWithGrace from 'close-with-grace';
import { lazyTemporal } from '../client.js';
import { LAB_API_TOKENS, type ApiToken } from '../config/api-tokens.js';
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createDb } from '../db/connection.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel, 'api');

  let tokens: readonly ApiToken[] = config.api.tokens;
  if (tokens.length === 0) {
    if (config.env !== 'lab') {
      process.stderr.write(
        'configuration error: API_TOKENS is required (name:role:token,...) unless SPM_ENV=lab; the API will not run open\n',
      );
      process.exit(78);
    }
    tokens = LAB_API_TOKENS;
    log.warn({ holders: tokens.map((t) => `${t.name}:${t.role}`) }, 'SPM_ENV=lab: using the fixed lab-only API tokens (see README)');
  }

  const app = await buildApp({
    config,
    db: createDb(config.db, 'spm-api'),
    temporal: lazyTemporal(config.temporal),
    tokens,
    logger: log,
    ownsResources: true,
  });

  closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'closing after an error');
    else log.info({ signal }, 'closing');
    await app.close();
  });

  await app.listen({ host: config.api.host, port: config.api.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
