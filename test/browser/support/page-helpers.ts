import type { Page } from 'playwright-core';
import { serverRows, type PageServer } from './page-server';

/** The replica status of a tab. */
export const status = (page: Page) => page.evaluate(() => window.concord.replica.status);

/** Writes a note in a tab's replica. */
export const write = (page: Page, id: string, title: string) =>
  page.evaluate(([id, title]) => window.concord.replica.db.table('notes').put({ id, title }), [id, title] as const);

/** A note as a tab's replica holds it. */
export const note = (page: Page, id: string) =>
  page.evaluate((id) => window.concord.replica.db.table('notes').get(id), id);

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether the server holds the note. */
export const onServer = (server: PageServer, id: string) => async () => id in (await serverRows(server.store, 'notes'));
