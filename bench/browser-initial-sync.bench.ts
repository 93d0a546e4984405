/**
 * Initial sync of 100,000 rows into a fresh replica in real Chromium (IndexedDB), next to a raw
 * Dexie `bulkPut` of the same rows into a fresh database in the same page. Also reports when
 * the first 1,000 rows were queryable (the first applied page) and the progress events seen,
 * and times `validate()` of the replica just downloaded, next to that download (target ≤ 0.1×).
 *
 * The server (SQLite, loopback HTTP) is seeded before the clock starts; the replica's time
 * includes the server's pull work and the HTTP round trips, one per page (the replica's default
 * page size, or `BENCH_PAGE` rows).
 */
import { PROTOCOL_VERSION, type FromServerRegister } from '@concord/shared';
import { benchRow } from '../test/browser/page/bench-rows';
import { browserSchema } from '../test/browser/page/schema';
import { buildPage } from '../test/browser/support/build-page';
import { launchChromium } from '../test/browser/support/chromium';
import { startPageServer } from '../test/browser/support/page-server';
import type { BenchResult } from './bench';

const ROWS = Number(process.env.BENCH_BROWSER_ROWS ?? 100_000);
/** The download page size; unset, the replica's default. */
const PAGE = process.env.BENCH_PAGE;
const SEED_BATCH = 5_000;
const MAX_RATIO = 1.25;
const VALIDATE_RATIO = 0.1;

async function seed(origin: string): Promise<void> {
  const post = async (path: string, body: object) => {
    const response = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: browserSchema.version, ...body }),
    });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  const { replicaId, secret } = (await post('/v1/replicas', {})) as FromServerRegister;
  for (let from = 0, gen = 1; from < ROWS; from += SEED_BATCH, gen++) {
    const changes = [];
    for (let i = from; i < Math.min(from + SEED_BATCH, ROWS); i++) {
      const { id, ...values } = benchRow(i);
      changes.push({ table: 'notes', rowguid: id, op: 'upsert', localGeneration: gen, baseGeneration: 0, values });
    }
    await post('/v1/push', { replicaId, secret, fromLocalGeneration: gen, toLocalGeneration: gen, changes });
  }
}

export async function run(): Promise<BenchResult[]> {
  const pageDir = await buildPage();
  const server = await startPageServer(pageDir);
  const browser = await launchChromium();
  try {
    await seed(server.origin);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.origin}/?name=bench&start=0${PAGE ? `&pageSize=${PAGE}` : ''}`);
    const figures = await page.evaluate(async (rows) => {
      const { Dexie, benchRow, ready, rowHasher } = window.concord;
      const data = Array.from({ length: rows }, (_, i) => benchRow(i));
      const baselineDb = new Dexie('baseline');
      baselineDb.version(1).stores({ notes: 'id' });
      await baselineDb.open();
      let start = performance.now();
      await baselineDb.table('notes').bulkPut(data);
      const baselineMs = performance.now() - start;
      baselineDb.close();

      const replica = await ready;
      const events: { done: number; total: number; at: number }[] = [];
      replica.subscribe(({ progress }) => {
        if (progress?.phase === 'download')
          events.push({ done: progress.done, total: progress.total, at: performance.now() });
      });
      start = performance.now();
      await replica.sync();
      const syncMs = performance.now() - start;
      const count = await replica.db.table('notes').count();
      const validateStart = performance.now();
      const validation = await replica.validate();
      const validateMs = performance.now() - validateStart;
      const readStart = performance.now();
      const read = (await replica.db.table('notes').toArray()) as { id: string; title: string; body: string }[];
      const readMs = performance.now() - readStart;
      const rowHash = await rowHasher();
      const hashStart = performance.now();
      for (const { id, ...values } of read) rowHash(id, values);
      const hashMs = performance.now() - hashStart;
      const first = events.find((event) => event.done >= 1_000);
      return {
        baselineMs,
        syncMs,
        count,
        firstMs: first ? first.at - start : NaN,
        events: events.length,
        firstTotal: events[0]?.total ?? 0,
        validateMs,
        readMs,
        hashMs,
        validated: validation.ok ? validation.tables.find((table) => table.table === 'notes')!.replica.count : -1,
      };
    }, ROWS);
    if (figures.count !== ROWS) throw new Error(`expected ${ROWS} rows in the replica, got ${figures.count}`);
    if (figures.validated !== ROWS) throw new Error(`validate() did not find ${ROWS} equal rows`);
    const ratio = figures.syncMs / figures.baselineMs;
    const rows = ROWS.toLocaleString('en-US');
    return [
      {
        name: `browser: initial sync of ${rows} rows (Chromium, ${PAGE ? `${PAGE}-row` : 'default'} pages)`,
        value: Math.round(figures.syncMs),
        unit: 'ms',
        baseline: { name: 'raw Dexie bulkPut in the page', value: Math.round(figures.baselineMs) },
        ratio,
        target: `≤ ${MAX_RATIO}× baseline time`,
        met: ratio <= MAX_RATIO,
      },
      {
        name: `browser: validate() of the same ${rows} rows`,
        value: Math.round(figures.validateMs),
        unit: 'ms',
        baseline: { name: 'the initial sync above', value: Math.round(figures.syncMs) },
        ratio: figures.validateMs / figures.syncMs,
        target: `≤ ${VALIDATE_RATIO}× the initial sync`,
        met: figures.validateMs / figures.syncMs <= VALIDATE_RATIO,
      },
      { name: 'browser: reading the same rows alone (toArray)', value: Math.round(figures.readMs), unit: 'ms' },
      { name: 'browser: hashing the same rows alone', value: Math.round(figures.hashMs), unit: 'ms' },
      { name: 'browser: first 1,000 rows queryable after', value: Math.round(figures.firstMs), unit: 'ms' },
      {
        name: `browser: progress events (first estimate ${figures.firstTotal.toLocaleString('en-US')} rows)`,
        value: figures.events,
        unit: 'events',
      },
      {
        name: `baseline: raw Dexie bulkPut of ${rows} rows`,
        value: Math.round(figures.baselineMs),
        unit: 'ms',
      },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
