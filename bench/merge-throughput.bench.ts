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
import { v7 as uuidv7 } from 'uuid';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  PROTOCOL_VERSION,
  defineSchema,
  type FromReplicaChange,
  type FromServerPush,
  type FromServerRegister,
  type RowValues,
} from '@concord/shared';
import { createSqliteStore, createSyncServer } from '@concord/server';
import { median, now, perSecond, type BenchResult } from './bench';

const ROWS = 10_000;
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const WARMUP_ROWS = 2_000;
/** Measured repetitions (each on fresh files); the median is reported. */
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const MIN_RATIO = 0.25;
const MIN_ROWS_PER_SECOND = 50_000;
const TABLE = 'items';

const schema = defineSchema({
  version: 1,
  tables: {
    [TABLE]: { columns: { name: 'string', count: 'integer', price: 'number', active: 'boolean', updatedAt: 'date' } },
  },
});

interface Dataset {
  rowguids: string[];
  /** The values each row is inserted with. */
  inserted: RowValues[];
  /** The one column each update changes. */
  updates: RowValues[];
  /** The whole row after the update (what the baseline writes). */
  updated: RowValues[];
}

function makeDataset(count: number): Dataset {
  const epoch = Date.UTC(2024, 0, 1);
  const rowguids: string[] = [];
  const inserted: RowValues[] = [];
  const updates: RowValues[] = [];
  const updated: RowValues[] = [];
  for (let i = 0; i < count; i++) {
    rowguids.push(uuidv7()); // rowguids are UUIDv7, as replicas make them
    const values: RowValues = {
      name: `item ${i}`,
      count: i,
      price: Math.round(i * 1.37 * 100) / 100,
      active: i % 2 === 0,
      updatedAt: new Date(epoch + i * 60_000).toISOString(),
    };
    inserted.push(values);
    updates.push({ count: i + 1 });
    updated.push({ ...values, count: i + 1 });
  }
  return { rowguids, inserted, updates, updated };
}

interface PassTimes {
  insertMs: number;
  updateMs: number;
}

function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Both passes through the sync server on a fresh SQLite store. */
function runMerge(data: Dataset): Promise<PassTimes> {
  return withTempDir('concord-bench-merge-', async (dir) => {
    const store = createSqliteStore({ filename: join(dir, 'store.db') });
    try {
      const app = createSyncServer({ schema, store });
      const post = (path: string, body: string) =>
        Promise.resolve(app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));

      const registered = await post(
        '/v1/replicas',
        JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: schema.version }),
      );
      if (!registered.ok) throw new Error(`register failed: HTTP ${registered.status} ${await registered.text()}`);
      const { replicaId } = (await registered.json()) as FromServerRegister;

      let localGeneration = 0;
      const bodies = (change: (index: number, localGeneration: number) => FromReplicaChange): string[] => {
        const out: string[] = [];
        for (let start = 0; start < data.rowguids.length; start += BATCH) {
          const changes: FromReplicaChange[] = [];
          const end = Math.min(start + BATCH, data.rowguids.length);
          for (let i = start; i < end; i++) changes.push(change(i, ++localGeneration));
          const push = {
            protocol: PROTOCOL_VERSION,
            schemaVersion: schema.version,
            replicaId,
            fromLocalGeneration: changes[0]!.localGeneration,
            toLocalGeneration: changes[changes.length - 1]!.localGeneration,
            changes,
          };
          out.push(JSON.stringify(push));
        }
        return out;
      };
      /** Sends the pushes one after another; returns the elapsed time and the raw response bodies. */
      const send = async (pushes: readonly string[]) => {
        const texts: string[] = [];
        const start = now();
        for (const body of pushes) {
          const response = await post('/v1/push', body);
          const text = await response.text();
          if (!response.ok) throw new Error(`push failed: HTTP ${response.status} ${text.slice(0, 500)}`);
          texts.push(text);
        }
        const ms = now() - start;
        const results = texts.flatMap((text) => (JSON.parse(text) as FromServerPush).results);
        if (results.length !== data.rowguids.length)
          throw new Error(`expected ${data.rowguids.length} results, got ${results.length}`);
        const wrong = results.find((result) => result.outcome !== 'applied');
        if (wrong) throw new Error(`expected every change to be applied, got ${JSON.stringify(wrong)}`);
        return { ms, results };
      };

      const insert = await send(
        bodies((i, gen) => ({
          table: TABLE,
          rowguid: data.rowguids[i]!,
          op: 'upsert',
          localGeneration: gen,
          baseGeneration: 0,
          values: data.inserted[i]!,
        })),
      );
      const generations = new Map(insert.results.map((result) => [result.rowguid, result.generation]));
      const update = await send(
        bodies((i, gen) => ({
          table: TABLE,
          rowguid: data.rowguids[i]!,
          op: 'upsert',
          localGeneration: gen,
          baseGeneration: generations.get(data.rowguids[i]!)!,
          values: data.updates[i]!,
        })),
      );

      const meta = await store.meta();
      if (meta.generation !== 2 * data.rowguids.length) {
        throw new Error(`expected generation ${2 * data.rowguids.length} after both passes, got ${meta.generation}`);
      }
      return { insertMs: insert.ms, updateMs: update.ms };
    } finally {
      await store.close();
    }
  });
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

function target(name: string, value: number, baseline: { name: string; value: number }): BenchResult {
  const ratio = value / baseline.value;
  return {
    name,
    value,
    unit: 'rows/s',
    baseline,
    ratio,
    target: `≥ ${MIN_RATIO * 100}% of baseline and ≥ ${MIN_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s`,
    met: ratio >= MIN_RATIO && value >= MIN_ROWS_PER_SECOND,
  };
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
    target(`merge: push ${rows} new rows (${batches})`, rate(merge, 'insertMs'), baselineInsert),
    target(`merge: push ${rows} one-column updates (${batches})`, rate(merge, 'updateMs'), baselineUpdate),
    { name: `baseline: ${baselineInsert.name} ${rows}`, value: baselineInsert.value, unit: 'rows/s' },
    { name: `baseline: ${baselineUpdate.name} ${rows}`, value: baselineUpdate.value, unit: 'rows/s' },
  ];
}
