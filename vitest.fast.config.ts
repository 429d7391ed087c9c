import { defineConfig } from 'vitest/config';

// The quick inner loop for pure code (domain/, codecs, the lab's generators): no Temporal, no PostgreSQL.
// `npm test` runs everything, these included, through vitest.config.ts.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
