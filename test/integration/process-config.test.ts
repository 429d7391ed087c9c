import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The entry points, started as processes: a bad value stops them with one line naming the variable.
const run = (entry: string, env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DOTENV_PATH: '/nonexistent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('entry points refuse bad configuration', () => {
  it.each(['api/main.ts', 'worker.ts', 'db/migrate.ts'])('%s with API_PORT=abc exits non-zero naming API_PORT', (entry) => {
    const res = run(entry, { API_PORT: 'abc' });
    expect(res.status).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^configuration error: API_PORT is invalid/);
  });

  it('the API refuses to start outside the lab with no token configured', () => {
    const res = run('api/main.ts', { SPM_ENV: 'production', API_TOKENS: '' });
    expect(res.status).toBe(78);
    expect(res.stderr).toMatch(/API_TOKENS is required/);
  });

  it('a bad secret is named but never printed', () => {
    const res = run('api/main.ts', { DATABASE_URL: 'mysql://spm:TopSecret123@db/spm' });
    expect(res.status).toBe(78);
    expect(res.stderr).toMatch(/DATABASE_URL/);
    expect(res.stderr + res.stdout).not.toMatch(/TopSecret123/);
  });
});
