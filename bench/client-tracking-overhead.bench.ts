/**
 * The cost of change tracking on local writes (Node, fake-indexeddb): the same writes into a
 * replica's table (tracked: the middleware reads the rows before, the outbox and row metadata,
 * allocates local generations and writes outbox entries, all in the write's transaction) and
 * into a plain Dexie database with the same table definition (untracked). Fresh IDBFactory and
 * database for every measurement; no server traffic (the replica never syncs).
 *
 * - bulkPut: 10,000 new rows as 10 `bulkPut` calls of 1,000 (each its own transaction);
 * - put: 1,000 new rows as 1,000 single-row `put` calls (each its own transaction).
 */
import type { Table } from 'dexie';
import { openNodeReplica } from '../test/support/node-replica';
import { REPEATS, median, now, type BenchResult } from './bench';
import { TABLE, itemRows, schema, uniqueName, type ItemRow } from './items';
import { openUntrackedItems } from './untracked-items';

const BULK_ROWS = 10_000;
const CHUNK = 1_000;
const PUT_ROWS = 1_000;
const WARMUP_ROWS = 500;
const MAX_RATIO = 2;

type Workload = (table: Table, rows: readonly ItemRow[]) => Promise<void>;

const bulkPuts: Workload = async (table, rows) => {
  for (let start = 0; start < rows.length; start += CHUNK) await table.bulkPut(rows.slice(start, start + CHUNK));
};

const singlePuts: Workload = async (table, rows) => {
  for (const row of rows) await table.put(row);
};

/** Runs `work` against a fresh replica's table (no server: the replica never syncs). */
async function timeTracked(work: Workload, rows: readonly ItemRow[]): Promise<number> {
  const replica = await openNodeReplica({
    schema,
    fetch: () => Promise.reject(new Error('the tracking benchmark never syncs')),
    name: uniqueName('tracked'),
  });
  try {
    const table = replica.db.table(TABLE);
    const start = now();
    await work(table, rows);
    const ms = now() - start;
    const pending = await replica.db.table('_changes').count();
    if (pending !== rows.length) throw new Error(`outbox holds ${pending} entries, expected ${rows.length}`);
    return ms;
  } finally {
    await replica.close();
  }
}

/** Runs `work` against a plain Dexie database with the same table definition. */
async function timeUntracked(work: Workload, rows: readonly ItemRow[]): Promise<number> {
  const db = await openUntrackedItems('untracked');
  try {
    const table = db.table(TABLE);
    const start = now();
    await work(table, rows);
    const ms = now() - start;
    const count = await table.count();
    if (count !== rows.length) throw new Error(`untracked database holds ${count} rows, expected ${rows.length}`);
    return ms;
  } finally {
    db.close();
  }
}

async function compare(work: Workload, rows: readonly ItemRow[]) {
  const tracked: number[] = [];
  const untracked: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    tracked.push(await timeTracked(work, rows));
    untracked.push(await timeUntracked(work, rows));
  }
  return { tracked: median(tracked), untracked: median(untracked) };
}

function result(name: string, baselineName: string, times: { tracked: number; untracked: number }): BenchResult {
  const ratio = times.tracked / times.untracked;
  return {
    name,
    value: times.tracked,
    unit: 'ms',
    baseline: { name: baselineName, value: times.untracked },
    ratio,
    target: `≤ ${MAX_RATIO}× untracked time`,
    met: ratio <= MAX_RATIO,
  };
}

export async function run(): Promise<BenchResult[]> {
  // Warm-up on small data, so that JIT compilation and first-use costs are not measured.
  const warmup = itemRows(WARMUP_ROWS);
  for (const work of [bulkPuts, singlePuts]) {
    await timeTracked(work, warmup);
    await timeUntracked(work, warmup);
  }

  const bulk = await compare(bulkPuts, itemRows(BULK_ROWS));
  const single = await compare(singlePuts, itemRows(PUT_ROWS));
  const bulkLabel = `${BULK_ROWS.toLocaleString('en-US')} rows, bulkPut ×${BULK_ROWS / CHUNK}`;
  const putLabel = `${PUT_ROWS.toLocaleString('en-US')} rows, put ×${PUT_ROWS.toLocaleString('en-US')}`;
  return [
    result(`client: tracked write, ${bulkLabel}`, 'untracked Dexie', bulk),
    result(`client: tracked write, ${putLabel}`, 'untracked Dexie', single),
    { name: `baseline: untracked Dexie, ${bulkLabel}`, value: bulk.untracked, unit: 'ms' },
    { name: `baseline: untracked Dexie, ${putLabel}`, value: single.untracked, unit: 'ms' },
  ];
}
