import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/config.js';

describe('config', () => {
  it('builds a frozen config from defaults', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(5001);
    expect(config.uyuni.pollIntervalMinutes).toBe(30);
    expect(config.uyuni.syncWorkers).toBe(10);
    expect(config.temporal.taskQueue).toBe('spm-orchestrator');
    expect(config.worker).toMatchObject({ metricsHost: '127.0.0.1', metricsPort: 9464 });
    expect(loadConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).worker.metricsHost).toBe('0.0.0.0');
    expect(Object.isFrozen(config) && Object.isFrozen(config.uyuni)).toBe(true);
  });

  it.each([
    ['API_PORT', 'abc'],
    ['API_PORT', '70000'],
    ['UYUNI_VERIFY_SSL', 'maybe'],
    ['UYUNI_TIMEOUT_SECONDS', '0'],
    ['UYUNI_URL', 'not a url'],
    ['TEMPORAL_ADDRESS', 'localhost'],
    ['LOG_LEVEL', 'loud'],
    ['HEALTH_REQUIRED', 'postgres,redis'],
    ['UYUNI_TIMEZONE', 'Mars/Olympus'],
  ])('a bad %s=%s names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^configuration error: ${variable} `));
  });

  it('a baseline wait too short for the baseline window names TEST_BASELINE_TIMEOUT_SECONDS', () => {
    const env = { TEST_METRICS_RANGE_SECONDS: '60', TEST_METRICS_WINDOW_SECONDS: '60' };
    expect(() => loadConfig({ ...env, TEST_BASELINE_TIMEOUT_SECONDS: '120' })).toThrow(
      'configuration error: TEST_BASELINE_TIMEOUT_SECONDS must be longer than TEST_METRICS_RANGE_SECONDS + TEST_METRICS_WINDOW_SECONDS (120 s); got 120',
    );
    expect(loadConfig({ ...env, TEST_BASELINE_TIMEOUT_SECONDS: '121' }).test.baselineTimeoutSeconds).toBe(121);
  });

  it('never prints a secret value', () => {
    for (const [variable, value] of [
      ['DATABASE_URL', 'mysql://u:s3cr3t-value@h/db'],
      ['API_TOKENS', 'alice:root:s3cr3t-value-0000000'],
      ['API_TOKENS', 'alice:admin:s3cr3t'],
    ]) {
      try {
        loadConfig({ [variable as string]: value as string });
        expect.unreachable();
      } catch (err) {
        expect((err as Error).message).toMatch(new RegExp(variable as string));
        expect((err as Error).message).not.toMatch(/s3cr3t/);
      }
    }
  });

  it('parses API tokens with their roles and rejects duplicates', () => {
    const config = loadConfig({ API_TOKENS: 'alice:admin:aaaaaaaaaaaaaaaaaaaa, bob:viewer:bbbbbbbbbbbbbbbbbbbb' });
    expect(config.api.tokens.map((t) => [t.name, t.role])).toEqual([['alice', 'admin'], ['bob', 'viewer']]);
    expect(() => loadConfig({ API_TOKENS: 'a:admin:aaaaaaaaaaaaaaaaaaaa,b:viewer:aaaaaaaaaaaaaaaaaaaa' })).toThrow(/reuses another/);
  });

  it('lets the environment win over .env, and treats empty optional values as unset', () => {
    expect(loadConfig({ UYUNI_CA_FILE: '' }).uyuni.caFile).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: '' }).db.connectionString).toBeUndefined();
  });
});
