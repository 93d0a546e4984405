import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway PostgreSQL server for the run; each suite makes its own database on it.
    globalSetup: ['test/support/postgres-global-setup.ts'],
    testTimeout: 30_000,
  },
});
