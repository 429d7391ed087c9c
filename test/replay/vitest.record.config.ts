import { defineConfig } from 'vitest/config';

// `npm run replay:record`: runs the representative workflows against the real Temporal dev server, PostgreSQL,
// Prometheus and the lab (the suite's global setup) and stores their histories for test/replay/replay.test.ts.
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['./test/setup/global-setup.ts'],
    setupFiles: ['./test/setup/quiet-runtime.ts'],
    include: ['test/replay/record.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    // A scenario that fails leaves the histories incomplete: stop at once, and say which.
    bail: 1,
    reporters: ['verbose'],
  },
});
