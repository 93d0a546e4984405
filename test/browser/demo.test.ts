import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/chromium';
import { startDemoServer, type DemoServer } from './support/demo-server';
import { until } from './support/page-helpers';

/** The demo app as `npm start` serves it, driven through its UI in real Chromium. */

/** Where screenshots go: `DEMO_SCREENSHOTS` (the README's come from here), else a temporary directory. */
const shots = process.env.DEMO_SCREENSHOTS ?? join(tmpdir(), 'concord-demo-screenshots');
const SKU = 'CHI-BA-2XL'; // "Basic Chisel 2XL", the first product by name
const BRANCH = 'Harbour Street';

let browser: Browser;
let server: DemoServer;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
});
afterAll(() => browser?.close());
beforeEach(async () => {
  server = await startDemoServer(inject('demoApp'));
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await server?.close();
  expect(pageErrors.splice(0)).toEqual([]); // the app never throws uncaught
});

/** A device of the demo signed in as `as` (HQ unless said otherwise). */
async function device(name: string, context?: BrowserContext, as = 'hq'): Promise<Page> {
  if (!context) {
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
  }
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`device ${name}: ${error.message}`));
  await page.goto(`${server.origin}/?device=${name}&as=${as}`);
  await page.getByTestId('sync-state').waitFor();
  return page;
}
const stock = (page: Page) => page.getByLabel(`stock of ${SKU} at ${BRANCH}`);
const price = (page: Page) => page.getByLabel(`price of ${SKU}`);
const seeded = async (page: Page) => {
  await page.getByRole('button', { name: /^Seed/ }).click();
  await stock(page).waitFor();
};
const value = async (page: Page, input: ReturnType<typeof stock>) => Number(await input.inputValue());

/** Distinct colours in a PNG, counted by drawing it on a canvas in the browser. */
async function colours(png: Buffer): Promise<number> {
  const page = await (await browser.newContext()).newPage();
  try {
    return await page.evaluate(
      async (src) => {
        const image = new Image();
        image.src = src;
        await image.decode();
        const canvas = new OffscreenCanvas(image.width, image.height);
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        const { data } = context.getImageData(0, 0, image.width, image.height);
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4 * 5) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        return seen.size;
      },
      `data:image/png;base64,${png.toString('base64')}`,
    );
  } finally {
    await page.context().close();
  }
}

describe('the demo app', () => {
  it('is served by the npm start server, renders products after seeding, and looks like something', async () => {
    const a = await device('A');
    await seeded(a);
    expect(await a.getByTestId('products').locator('tbody tr').count()).toBe(40);
    await until(async () => (await a.getByTestId('pending').textContent()) === '0 pending', 10_000);
    const png = await a.screenshot();
    writeFileSync(join(shots, 'demo.png'), png);
    expect(await colours(png)).toBeGreaterThan(20);
  });

  it('a conflict across devices through the UI: stock adds both changes, the price waits in the panel, and settling it replicates', async () => {
    const a = await device('A');
    await seeded(a);
    const b = await device('B');
    await stock(b).waitFor({ timeout: 10_000 });
    const start = await value(b, stock(b));

    await a.getByTestId('offline-switch').click();
    await until(async () => (await a.getByTestId('offline-switch').textContent())!.startsWith('Offline'));
    for (let i = 0; i < 3; i++) await a.getByLabel(`more ${SKU} at ${BRANCH}`).click();
    await price(a).fill('50');
    await price(a).press('Enter');
    for (let i = 0; i < 2; i++) await b.getByLabel(`less ${SKU} at ${BRANCH}`).click();
    await price(b).fill('60');
    await price(b).press('Enter');
    await until(async () => (await b.getByTestId('pending').textContent()) === '0 pending');

    await a.getByTestId('offline-switch').click();
    for (const page of [a, b]) {
      await until(async () => (await value(page, stock(page))) === start + 1, 10_000);
      await page.getByTestId('conflict-panel').locator('li.open').waitFor({ timeout: 10_000 });
    }
    const open = a.getByTestId('conflict-panel').locator('li.open');
    expect(await open.textContent()).toMatch(/products\.price.*open.*manual/);
    // Whichever price reached the server first stands, the same on both devices, until a person decides.
    const standing = await value(a, price(a));
    expect([50, 60]).toContain(standing);
    await until(async () => (await value(b, price(b))) === standing);
    writeFileSync(join(shots, 'demo-conflict.png'), await a.screenshot());

    // B settles it by taking the other device's version, A's price, whichever side won.
    await b.getByTestId('conflict-panel').locator('li.open').getByRole('button', { name: 'Take theirs' }).click();
    for (const page of [a, b]) await until(async () => (await value(page, price(page))) === 50, 10_000);
    await until(async () => (await a.getByTestId('conflict-panel').locator('li.open').count()) === 0, 10_000);
  });

  it('notes are collaborative: two devices type in one note offline and both keep every word, with no conflict', async () => {
    const a = await device('A');
    await seeded(a);
    const b = await device('B');
    await stock(b).waitFor({ timeout: 15_000 });
    const note = (page: Page) => page.getByLabel(`notes of ${SKU}`);
    await note(a).fill('sharp edge');
    await until(async () => (await note(b).inputValue()) === 'sharp edge', 10_000);

    await a.getByTestId('offline-switch').click();
    await until(async () => (await a.getByTestId('offline-switch').textContent())!.startsWith('Offline'));
    await note(a).press('Home');
    await note(a).pressSequentially('Very ');
    await note(b).press('End');
    await note(b).pressSequentially(', oil weekly');
    await until(async () => (await b.getByTestId('pending').textContent()) === '0 pending');
    await a.getByTestId('offline-switch').click();
    for (const page of [a, b]) {
      await until(async () => (await note(page).inputValue()) === 'Very sharp edge, oil weekly', 10_000);
    }
    expect(await a.getByTestId('conflict-panel').locator('li').count()).toBe(0);
  });

  it('after one visit the app starts with the server stopped, and an edit made then syncs when it is back', async () => {
    const a = await device('A');
    await seeded(a);
    await until(async () => (await a.getByTestId('pending').textContent()) === '0 pending', 10_000);
    await a.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await until(() => a.evaluate(() => navigator.serviceWorker.controller !== null));

    await server.stop();
    await a.reload();
    await stock(a).waitFor();
    const before = await value(a, stock(a));
    // The page is up once its documents are open (the notes can be typed in).
    await until(() => a.getByLabel(`notes of ${SKU}`).isEnabled(), 10_000);
    const more = a.getByLabel(`more ${SKU} at ${BRANCH}`);
    await more.click();
    // On a loaded machine a click on a page just started from its service worker has been seen
    // not to count; one more click then (both change the same row: one pending change).
    await until(async () => (await value(a, stock(a))) > before, 10_000).catch(() => more.click());
    await until(async () => (await value(a, stock(a))) > before, 10_000);
    await until(async () => (await a.getByTestId('pending').textContent()) === '1 pending', 20_000);
    await until(async () => (await a.getByTestId('sync-state').textContent()) === 'offline', 20_000);

    await server.start();
    await until(async () => (await a.getByTestId('pending').textContent()) === '0 pending', 15_000);
    const b = await device('B');
    const edited = await value(a, stock(a));
    await until(async () => (await stock(b).count()) > 0 && (await value(b, stock(b))) === edited, 15_000);
  });

  it('the offline switch holds for every tab of a device, whichever tab is clicked and whichever leads', async () => {
    const leader = await device('A');
    await seeded(leader);
    await until(async () => (await leader.getByTestId('pending').textContent()) === '0 pending', 10_000);
    const other = await device('A', leader.context()); // a second tab of the same device
    const label = (page: Page) => page.getByTestId('offline-switch').textContent();

    await other.getByTestId('offline-switch').click();
    await until(async () => (await label(leader))!.startsWith('Offline'));
    await leader.getByLabel(`more ${SKU} at ${BRANCH}`).click();
    await until(async () => (await leader.getByTestId('pending').textContent()) === '1 pending');

    await other.getByTestId('offline-switch').click(); // reconnect from the tab that does not sync
    await until(async () => (await label(leader))!.startsWith('Online'));
    await until(async () => (await leader.getByTestId('pending').textContent()) === '0 pending', 10_000);
  });

  it('identities: a branch device holds the products and its own stock, HQ everything; only HQ changes prices; conflicts stay in their partition', async () => {
    const hq = await device('A');
    await seeded(hq);
    await until(async () => (await hq.getByTestId('pending').textContent()) === '0 pending', 10_000);
    const shop = await device('B', undefined, 'harbour-street');
    await stock(shop).waitFor({ timeout: 10_000 });
    expect(await shop.getByTestId('identity').textContent()).toBe('Harbour Street');
    const oldTownStock = (page: Page) => page.getByLabel(`stock of ${SKU} at Old Town`);
    expect(await oldTownStock(shop).count()).toBe(0);
    expect(await oldTownStock(hq).count()).toBe(1);

    // Only HQ changes a price; the branch receives it.
    expect(await price(shop).isDisabled()).toBe(true);
    await price(hq).fill('42');
    await price(hq).press('Enter');
    await until(async () => (await value(shop, price(shop))) === 42, 10_000);
    // The branch changes its own counts, and HQ sees them.
    const before = await value(hq, stock(hq));
    await shop.getByLabel(`more ${SKU} at ${BRANCH}`).click();
    await until(async () => (await value(hq, stock(hq))) === before + 1, 10_000);

    // HQ and Old Town both change an Old Town count: a conflict of Old Town's partition.
    const oldTown = await device('C', undefined, 'old-town');
    await oldTownStock(oldTown).waitFor({ timeout: 10_000 });
    await hq.getByTestId('offline-switch').click();
    await until(async () => (await hq.getByTestId('offline-switch').textContent())!.startsWith('Offline'));
    await hq.getByLabel(`more ${SKU} at Old Town`).click();
    await oldTown.getByLabel(`less ${SKU} at Old Town`).click();
    await until(async () => (await oldTown.getByTestId('pending').textContent()) === '0 pending', 10_000);
    await hq.getByTestId('offline-switch').click();
    const entries = (page: Page) => page.getByTestId('conflict-panel').locator('li', { hasText: 'stock.qty' });
    await until(async () => (await entries(hq).count()) === 1, 10_000);
    await oldTown.getByRole('button', { name: 'Sync now' }).click();
    await until(async () => (await entries(oldTown).count()) === 1, 10_000);
    // Harbour Street lists no entry of Old Town's: the server never shows it.
    const listed = await shop.evaluate(async () => {
      const { token } = (await (
        await fetch('/dev/token', { method: 'POST', body: JSON.stringify({ as: 'harbour-street' }) })
      ).json()) as { token: string };
      const response = await fetch('/v1/conflicts?limit=1000', { headers: { authorization: `Bearer ${token}` } });
      return ((await response.json()) as { conflicts: { table: string }[] }).conflicts.map((entry) => entry.table);
    });
    expect(listed).not.toContain('stock');
    writeFileSync(join(shots, 'demo-branch.png'), await shop.screenshot());
  });
});
