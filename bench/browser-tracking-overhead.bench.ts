/**
 * The cost of change tracking in real Chromium (IndexedDB): the same rows written through a
 * replica's tracked table and through a plain Dexie table, in the same page. Two shapes: bulk
 * writes (10 transactions of 1,000 rows) and single puts (1,000 transactions of one row).
 */
import { buildPage } from '../test/browser/support/build-page';
import { launchChromium } from '../test/browser/support/chromium';
import { startPageServer } from '../test/browser/support/page-server';
import type { BenchResult } from './bench';

const MAX_RATIO = 2;

export async function run(): Promise<BenchResult[]> {
  const pageDir = await buildPage();
  const server = await startPageServer(pageDir);
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    // tsx keeps function names with a `__name` helper that the page lacks.
    await page.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    await page.goto(`${server.origin}/?name=tracking&start=0`);
    const figures = await page.evaluate(async () => {
      const { Dexie, benchRow, ready } = window.concord;
      const replica = await ready;
      const plain = new Dexie('untracked');
      plain.version(1).stores({ notes: 'id' });
      await plain.open();
      const rows = (offset: number, count: number) => Array.from({ length: count }, (_, i) => benchRow(offset + i));
      const time = async (work: () => Promise<void>) => {
        const start = performance.now();
        await work();
        return performance.now() - start;
      };
      const bulk = (table: ReturnType<typeof plain.table>, offset: number) =>
        time(async () => {
          for (let t = 0; t < 10; t++) await table.bulkPut(rows(offset + t * 1_000, 1_000));
        });
      const single = (table: ReturnType<typeof plain.table>, offset: number) =>
        time(async () => {
          for (const row of rows(offset, 1_000)) await table.put(row);
        });
      // Warm both paths first, then alternate so neither always runs on a warmer database.
      await bulk(plain.table('notes'), 900_000);
      await bulk(replica.db.table('notes'), 900_000);
      const untrackedBulk = await bulk(plain.table('notes'), 0);
      const trackedBulk = await bulk(replica.db.table('notes'), 0);
      const untrackedSingle = await single(plain.table('notes'), 100_000);
      const trackedSingle = await single(replica.db.table('notes'), 100_000);
      return { untrackedBulk, trackedBulk, untrackedSingle, trackedSingle };
    });
    const result = (name: string, tracked: number, untracked: number): BenchResult => ({
      name,
      value: Math.round(tracked),
      unit: 'ms',
      baseline: { name: 'untracked Dexie, same page', value: Math.round(untracked) },
      ratio: tracked / untracked,
      target: `≤ ${MAX_RATIO}× untracked time`,
      met: tracked / untracked <= MAX_RATIO,
    });
    return [
      result('browser: tracked bulkPut, 10,000 rows ×10 (Chromium)', figures.trackedBulk, figures.untrackedBulk),
      result('browser: tracked put, 1,000 rows one by one (Chromium)', figures.trackedSingle, figures.untrackedSingle),
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
