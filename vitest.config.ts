import { defineConfig } from 'vitest/config';

const POSTGRES = 'test/support/postgres-global-setup.ts';

/**
 * Three projects, all run by `npm test`: `unit` needs neither PostgreSQL nor a browser, `store`
 * runs over every store (a throwaway PostgreSQL server for the run, each suite its own database),
 * `browser` drives real Chromium on a test page built once with Vite. Pick one with `--project`.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/{server,client,fuzz}/**/*.test.ts'],
          // The long fuzz may be pointed at PostgreSQL (`FUZZ_STORE=postgres`); only then is one started.
          globalSetup: process.env.FUZZ_STORE === 'postgres' ? [POSTGRES] : [],
        },
      },
      { extends: true, test: { name: 'store', include: ['test/store/**/*.test.ts'], globalSetup: [POSTGRES] } },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/support/global-setup.ts'],
        },
      },
    ],
  },
});
