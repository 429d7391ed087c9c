import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';

describe('search attributes', () => {
  it('temporal-dev.yml registers the same set as workflows/messages.ts', () => {
    const compose = readFileSync(new URL('../../temporal-dev.yml', import.meta.url), 'utf8');
    const listed = [...compose.matchAll(/(\w+)=(Keyword|Int)\b/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    const expected = SEARCH_ATTRIBUTES.map((k) => `${k.name}=${k.type === 'INT' ? 'Int' : 'Keyword'}`).sort();
    expect(listed).toEqual(expected);
  });
});
