import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    globalSetup: [
      // One throwaway PostgreSQL server for the run; each suite makes its own database on it.
      'test/support/postgres-global-setup.ts',
      // Checks for Chromium and builds the browser test page once.
      'test/browser/support/global-setup.ts',
    ],
  },
});
