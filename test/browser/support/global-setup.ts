import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { CHROMIUM } from './chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built browser test page (index.html and its assets). */
    browserPage: string;
  }
}

/**
 * Before any test: checks that Chromium is installed (the browser tests never skip) and builds
 * the browser test page with Vite once, into a temporary directory removed at the end.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}; the browser tests need it.\n` +
        'Install it with: sudo apt-get update && sudo apt-get install -y chromium',
    );
  }
  const outDir = mkdtempSync(join(tmpdir(), 'concord-page-'));
  await build({
    root: join(dirname(fileURLToPath(import.meta.url)), '../page'),
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      // Fixed names, so the page's service worker can keep the app shell.
      rolldownOptions: { output: { entryFileNames: 'assets/main.js', chunkFileNames: 'assets/[name].js' } },
    },
  });
  project.provide('browserPage', outDir);
  return () => rmSync(outDir, { recursive: true, force: true });
}
