import { existsSync, rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildPage } from './build-page';
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
  const outDir = await buildPage();
  project.provide('browserPage', outDir);
  return () => rmSync(outDir, { recursive: true, force: true });
}
