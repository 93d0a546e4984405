import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the demo app (its own Vite config: React, the PWA plugin) into a new temporary directory. */
export async function buildDemo(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'concord-demo-'));
  // A production build, as `npm start` makes, even inside a test run (which sets NODE_ENV=test).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(here, '../../../demo/vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** Builds the browser test page with Vite into a new temporary directory, and returns it. */
export async function buildPage(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'concord-page-'));
  await build({
    root: join(here, '../page'),
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      // Fixed names, so the page's service worker can keep the app shell.
      rolldownOptions: { output: { entryFileNames: 'assets/main.js', chunkFileNames: 'assets/[name].js' } },
    },
  });
  return outDir;
}
