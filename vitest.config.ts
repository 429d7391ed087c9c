import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native core bridge crashes under worker threads; forks isolate it (vitest #5047).
    pool: 'forks',
    // Integration files mostly wait (lab timers, reboots, soaks): three at once on 2 cores keeps CI near
    // 10 minutes instead of ~20 one after the other.
    maxWorkers: 3,
    globalSetup: ['./test/setup/global-setup.ts'],
    setupFiles: ['./test/setup/quiet-runtime.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
