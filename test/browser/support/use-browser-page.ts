import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { launchChromium } from './chromium';
import { startPageServer, type PageServer } from './page-server';

/**
 * One Chromium for the test file, and for each test a fresh page server and browser context
 * (one device), closed after it. Read `server` and `context` inside a test.
 */
export function useBrowserPage() {
  const opened = {} as { browser: Browser; server: PageServer; context: BrowserContext };
  beforeAll(async () => {
    opened.browser = await launchChromium();
  });
  afterAll(() => opened.browser?.close());
  beforeEach(async () => {
    opened.server = await startPageServer(inject('browserPage'));
    opened.context = await opened.browser.newContext();
  });
  afterEach(async () => {
    await opened.context?.close();
    await opened.server?.close();
  });
  return opened as Readonly<typeof opened>;
}
