/**
 * Initial sync of a fresh replica (Node, fake-indexeddb) from a server that holds 10,000 rows,
 * compared with a raw Dexie `bulkPut` of the same 10,000 rows into a fresh Dexie database with
 * the same table definition, in the same process.
 *
 * The server is seeded once, straight through its HTTP push route (`app.request('/v1/push')`),
 * by a replica that is not the one measured. Each measured repetition opens a fresh replica
 * (new IDBFactory, unique name) before the clock starts and times `await replica.sync()`:
 * register, an empty upload, and the download of every page (the replica's default page size).
 *
 * The target concerns the replica: what it costs to take 10,000 rows into IndexedDB next to
 * writing them raw. So the figure held against the target is the replica's side of the sync —
 * the end-to-end time minus the time spent inside the server's `app.request` (answering the
 * pulls, which a real server does on another machine). The end-to-end time, server included,
 * is reported next to it with its own ratio.
 */
import { openNodeReplica } from '../test/support/node-replica';
import { createTestServer, type TestServer } from '../test/support/test-server';
import { REPEATS, median, now, type BenchResult } from './bench';
import { KEY, TABLE, itemInserts, itemRows, schema, uniqueName, type ItemRow } from './items';
import { timedFetch } from './timed-fetch';
import { openUntrackedItems } from './untracked-items';

const ROWS = 10_000;
const WARMUP_ROWS = 1_000;
const PUSH_BATCH = 1_000;
const MAX_RATIO = 1.3;

/** Seeds the server with `rows` through the HTTP routes, as another replica's upload would. */
async function seed(server: TestServer, rows: readonly ItemRow[]): Promise<void> {
  const { replicaId } = await server.register();
  let localGeneration = 0;
  for (let start = 0; start < rows.length; start += PUSH_BATCH) {
    const pushed = await server.push(replicaId, itemInserts(rows.slice(start, start + PUSH_BATCH), ++localGeneration));
    const wrong = pushed.results.find((result) => result.outcome !== 'applied');
    if (wrong) throw new Error(`seeding: expected every change to be applied, got ${JSON.stringify(wrong)}`);
  }
}

interface SyncTimes {
  /** `replica.sync()`, end to end. */
  syncMs: number;
  /** Time spent inside the server's `app.request` during that sync (response bodies read). */
  serverMs: number;
}

/** Opens a fresh replica (new IDBFactory), times its first `sync()`, and checks what arrived. */
async function timeInitialSync(server: TestServer, expected: number): Promise<SyncTimes> {
  const timed = timedFetch(server);
  const replica = await openNodeReplica({ schema, fetch: timed.fetch, name: uniqueName('initial-sync') });
  try {
    const start = now();
    const report = await replica.sync();
    const syncMs = now() - start;
    if (report.downloaded !== expected)
      throw new Error(`downloaded ${report.downloaded} changes, expected ${expected}`);
    const count = await replica.db.table(TABLE).count();
    if (count !== expected) throw new Error(`replica holds ${count} rows, expected ${expected}`);
    return { syncMs, serverMs: timed.serverMs };
  } finally {
    await replica.close();
  }
}

/** The same rows, as the replica stores them, written with one raw `bulkPut` into a fresh Dexie database. */
async function timeBaseline(items: readonly ItemRow[]): Promise<number> {
  // Keyed last, as the replica keys each downloaded row.
  const rows = items.map(({ [KEY]: rowguid, ...values }) => ({ ...values, [KEY]: rowguid }));
  const db = await openUntrackedItems('baseline');
  try {
    const start = now();
    await db.table(TABLE).bulkPut(rows);
    const ms = now() - start;
    const count = await db.table(TABLE).count();
    if (count !== rows.length) throw new Error(`baseline holds ${count} rows, expected ${rows.length}`);
    return ms;
  } finally {
    db.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  // Warm-up on small data and a separate server, so that JIT compilation and first-use costs are not measured.
  const warmupServer = createTestServer({ schema });
  try {
    const warmup = itemRows(WARMUP_ROWS);
    await seed(warmupServer, warmup);
    await timeInitialSync(warmupServer, WARMUP_ROWS);
    await timeBaseline(warmup);
  } finally {
    await warmupServer.close();
  }

  const data = itemRows(ROWS);
  const server = createTestServer({ schema });
  const replicaTimes: SyncTimes[] = [];
  const baselineMs: number[] = [];
  try {
    await seed(server, data);
    for (let i = 0; i < REPEATS; i++) {
      replicaTimes.push(await timeInitialSync(server, ROWS));
      baselineMs.push(await timeBaseline(data));
    }
  } finally {
    await server.close();
  }

  const endToEnd = median(replicaTimes.map((t) => t.syncMs));
  const replicaSide = median(replicaTimes.map((t) => t.syncMs - t.serverMs));
  const inServerMs = median(replicaTimes.map((t) => t.serverMs));
  const baseline = { name: 'raw Dexie bulkPut', value: median(baselineMs) };
  const ratio = replicaSide / baseline.value;
  const rows = ROWS.toLocaleString('en-US');
  return [
    {
      name: `client: initial sync of ${rows} rows, replica side (sync minus server)`,
      value: replicaSide,
      unit: 'ms',
      baseline,
      ratio,
      target: `≤ ${MAX_RATIO}× baseline time`,
      met: ratio <= MAX_RATIO,
    },
    {
      name: `client: initial sync of ${rows} rows, end to end (server included)`,
      value: endToEnd,
      unit: 'ms',
      baseline,
      ratio: endToEnd / baseline.value,
    },
    { name: `client: of which inside app.request (server)`, value: inServerMs, unit: 'ms' },
    { name: `baseline: raw Dexie bulkPut of ${rows} rows`, value: baseline.value, unit: 'ms' },
  ];
}
