import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Builds the browser test page with Vite into a new temporary directory, and returns it. */
export async function buildPage(): Promise<string> {
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
  return outDir;
}
