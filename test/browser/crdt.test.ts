import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { until } from './support/page-helpers';
import { openTab, serverRows } from './support/page-server';
import { useBrowserPage } from './support/use-browser-page';

const chromium = useBrowserPage();

/** The text of a CRDT field as the page's open document holds it. */
const docText = (page: Page) =>
  page.evaluate(async () => (await window.concord.replica.crdt('docs', 'd1', 'text')).getText('text').toString());
/** Edits the field's document in the page: inserts `text` at `at` (clamped to the end). */
const type = (page: Page, at: number, text: string) =>
  page.evaluate(
    async ([at, text]) => {
      const doc = await window.concord.replica.crdt('docs', 'd1', 'text');
      const shared = doc.getText('text');
      shared.insert(Math.min(at, shared.length), text);
    },
    [at, text] as const,
  );

async function device(context: BrowserContext, url: string, name: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/?name=${name}&start=0`);
  await page.evaluate(() => window.concord.ready.then(() => undefined));
  return page;
}

describe('crdt columns in Chromium', () => {
  it('typing in one tab shows in the other tab of the device at once, without a sync round', async () => {
    const { server, context } = chromium;
    const one = await openTab(context, server, 'name=tabs&start=0');
    await one.evaluate(() => window.concord.replica.db.table('docs').add({ id: 'd1' }));
    const two = await openTab(context, server, 'name=tabs&start=0');
    expect(await docText(two)).toBe('');
    await type(one, 0, 'hello from one');
    await until(async () => (await docText(two)) === 'hello from one', 5_000);
    await type(two, 5, ',');
    await until(async () => (await docText(one)) === 'hello, from one', 5_000);
    // Neither tab synced: the server has nothing yet, and both edits wait in the outbox.
    expect(await serverRows(server.store, 'docs')).toEqual({});
    expect(await one.evaluate(() => window.concord.replica.db.table('_changes').count())).toBe(1);
  });

  it('two devices edit one text offline, reconnect, and both keep every edit', async () => {
    const { server } = chromium;
    const browser = chromium.browser;
    const [contextA, contextB] = [await browser.newContext(), await browser.newContext()];
    try {
      const a = await device(contextA, server.origin, 'crdt-a');
      const b = await device(contextB, server.origin, 'crdt-b');
      await a.evaluate(() => window.concord.replica.db.table('docs').add({ id: 'd1' }));
      await type(a, 0, 'shared words');
      await a.evaluate(() => window.concord.replica.sync());
      await b.evaluate(() => window.concord.replica.sync());
      expect(await docText(b)).toBe('shared words');

      await contextA.setOffline(true);
      await contextB.setOffline(true);
      await type(a, 0, 'A: ');
      await type(b, 100, ' (B)');
      await contextB.setOffline(false);
      await b.evaluate(() => window.concord.replica.sync());
      await contextA.setOffline(false);
      await a.evaluate(() => window.concord.replica.sync());
      await b.evaluate(() => window.concord.replica.sync());
      for (const page of [a, b]) expect(await docText(page)).toBe('A: shared words (B)');
      expect(await serverRows(server.store, 'docs')).toEqual({ d1: { text: 'A: shared words (B)' } });
    } finally {
      await contextA.close();
      await contextB.close();
    }
  });
});
