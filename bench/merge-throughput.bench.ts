/**
 * Server merge throughput through the real HTTP path (`app.request('/v1/push')`: body limit,
 * JSON parsing, zod validation, schema checks, merge, SQLite transaction, JSON response),
 * compared with raw better-sqlite3 upserts of the same rows in the same process.
 *
 * Two passes over the same 10,000 rows, in pushes of 1,000 changes:
 * - insert: every row is new (baseGeneration 0);
 * - update: one column of every row changes, based on the generation the insert returned.
 * Request bodies are built before the clock starts and responses are parsed after it stops:
 * only the server's work is timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RowValues } from '@concord/shared';
import { createTestServer } from '../test/support/test-server';
import { REPEATS, median, perSecond, now, type BenchResult } from './bench';
import {
  TABLE,
  makeDataset,
  pushBothPasses,
  schema,
  throughputTarget,
  type Dataset,
  type PassTimes,
} from './merge-passes';

const ROWS = 10_000;
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const WARMUP_ROWS = 2_000;
const GOAL = { minRatio: 0.25, minRowsPerSecond: 50_000 };

function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Both passes through the sync server on a fresh SQLite store. */
async function runMerge(data: Dataset): Promise<PassTimes> {
  const server = createTestServer({ schema });
  try {
    const times = await pushBothPasses(server, data, BATCH);
    const meta = await server.store.meta();
    if (meta.generation !== 2 * data.rowguids.length) {
      throw new Error(`expected generation ${2 * data.rowguids.length} after both passes, got ${meta.generation}`);
    }
    return times;
  } finally {
    await server.close();
  }
}

/** Both passes as raw better-sqlite3 upserts, with the store's pragmas (WAL, synchronous = NORMAL). */
function runBaseline(data: Dataset): Promise<PassTimes> {
  return withTempDir('concord-bench-sqlite-', async (dir) => {
    const db = new Database(join(dir, 'baseline.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(
        `CREATE TABLE rows (tbl TEXT NOT NULL, rowguid TEXT NOT NULL, data TEXT NOT NULL, generation INTEGER NOT NULL,
           PRIMARY KEY (tbl, rowguid)) WITHOUT ROWID`,
      );
      const upsert = db.prepare<[string, string, string, number]>(
        `INSERT INTO rows (tbl, rowguid, data, generation) VALUES (?, ?, ?, ?)
         ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, generation = excluded.generation`,
      );
      let generation = 0;
      const batch = db.transaction((rowguids: readonly string[], values: readonly RowValues[]) => {
        for (let i = 0; i < rowguids.length; i++)
          upsert.run(TABLE, rowguids[i]!, JSON.stringify(values[i]), ++generation);
      });
      const pass = (values: readonly RowValues[]) => {
        const start = now();
        for (let from = 0; from < data.rowguids.length; from += BATCH) {
          batch(data.rowguids.slice(from, from + BATCH), values.slice(from, from + BATCH));
        }
        return now() - start;
      };
      const insertMs = pass(data.inserted);
      const updateMs = pass(data.updated);
      const { n } = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM rows').get()!;
      if (n !== data.rowguids.length) throw new Error(`baseline holds ${n} rows, expected ${data.rowguids.length}`);
      return { insertMs, updateMs };
    } finally {
      db.close();
    }
  });
}

export async function run(): Promise<BenchResult[]> {
  // Warm-up on separate files, so that JIT compilation and first-use costs are not measured.
  const warmup = makeDataset(WARMUP_ROWS);
  await runMerge(warmup);
  await runBaseline(warmup);

  const data = makeDataset(ROWS);
  const merge: PassTimes[] = [];
  const baseline: PassTimes[] = [];
  for (let i = 0; i < REPEATS; i++) {
    merge.push(await runMerge(data));
    baseline.push(await runBaseline(data));
  }
  const rate = (times: PassTimes[], pass: keyof PassTimes) => perSecond(ROWS, median(times.map((t) => t[pass])));

  const baselineInsert = { name: 'raw SQLite upsert, insert', value: rate(baseline, 'insertMs') };
  const baselineUpdate = { name: 'raw SQLite upsert, update', value: rate(baseline, 'updateMs') };
  const rows = ROWS.toLocaleString('en-US');
  const batches = `${ROWS / BATCH}×${BATCH.toLocaleString('en-US')}`;
  return [
    throughputTarget(`merge: push ${rows} new rows (${batches})`, rate(merge, 'insertMs'), baselineInsert, GOAL),
    throughputTarget(
      `merge: push ${rows} one-column updates (${batches})`,
      rate(merge, 'updateMs'),
      baselineUpdate,
      GOAL,
    ),
    { name: `baseline: ${baselineInsert.name} ${rows}`, value: baselineInsert.value, unit: 'rows/s' },
    { name: `baseline: ${baselineUpdate.name} ${rows}`, value: baselineUpdate.value, unit: 'rows/s' },
  ];
}
