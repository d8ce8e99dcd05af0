import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: keep file-level parallelism modest so servers in e2e tests are not starved.
    maxWorkers: 2,
    // Handlers built by defaultDeps() log and emit EMF to stdout; keep test output readable.
    // Tests that assert on logs construct their own Logger with an explicit level.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
