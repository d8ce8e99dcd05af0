import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: keep file-level parallelism modest so servers in e2e tests are not starved.
    maxWorkers: 2,
  },
});
