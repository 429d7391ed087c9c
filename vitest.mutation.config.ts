import { defineConfig } from 'vitest/config';

// The tests of domain/ that Stryker (npm run mutation, stryker.config.json) runs against each mutant: pure,
// in-process, a few seconds in all, so every mutant of domain/ can be run against all of them.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/unit/domain/**/*.test.ts', 'test/unit/domain.test.ts', 'test/unit/score.test.ts', 'test/unit/metric-verdict.test.ts'],
    testTimeout: 30_000,
  },
});
