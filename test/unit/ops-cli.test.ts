import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commands } from '../../client.js';

// The ops CLI as an operator runs it (`npm run ops -- help` is `tsx client.ts help`).
const ops = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'client.ts', ...args], { encoding: 'utf8', env: { ...process.env, DOTENV_PATH: '/nonexistent' }, timeout: 30_000 });

describe('npm run ops', () => {
  it.each([['help'], ['--help'], []])('%j prints the commands on stdout and exits 0', (...args: string[]) => {
    const r = ops(...args);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/unknown command/);
    expect(r.stdout).toMatch(/^usage: npm run ops -- <command> \[args\]/);
    for (const name of [...Object.keys(commands), 'help']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('an unknown command exits 2 naming it, with the list on stderr', () => {
    const r = ops('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^unknown command "frobnicate"\nusage:/);
  });

  it('the README documents every command', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of [...Object.keys(commands), 'help']) expect(readme, name).toContain(`npm run ops -- ${name}`);
  });
});
