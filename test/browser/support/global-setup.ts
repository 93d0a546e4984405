import { existsSync, rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildDemo, buildPage } from './build-page';
import { CHROMIUM } from './chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built browser test page (index.html and its assets). */
    browserPage: string;
    /** The built demo app. */
    demoApp: string;
  }
}

/**
 * Before any test: checks that Chromium is installed (the browser tests never skip) and builds
 * the browser test page and the demo app with Vite once, into temporary directories removed at the end.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}; the browser tests need it.\n` +
        'Install it with: sudo apt-get update && sudo apt-get install -y chromium',
    );
  }
  const [page, demo] = await Promise.all([buildPage(), buildDemo()]);
  project.provide('browserPage', page);
  project.provide('demoApp', demo);
  return () => {
    for (const dir of [page, demo]) rmSync(dir, { recursive: true, force: true });
  };
}
