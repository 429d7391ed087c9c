import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { EnvSchema } from '../../config/env-schema.js';

describe('.env.example', () => {
  const example = parse(readFileSync(new URL('../../.env.example', import.meta.url)));

  it('documents every variable the config reads, and nothing else', () => {
    expect(Object.keys(example).sort()).toEqual(Object.keys(EnvSchema.properties).sort());
  });

  it('shows the real defaults (loading it changes nothing)', () => {
    expect(loadConfig(example)).toEqual(loadConfig({}));
  });
});
