/**
 * Upload of 10,000 offline edits, end to end: a replica (Node, fake-indexeddb) that has synced
 * once makes 10,000 tracked inserts offline (`bulkPut` in transactions of 1,000 rows), then
 * `await replica.sync()` is timed: reading the outbox, building and sending the pushes through
 * `app.request('/v1/push')` (the server's validation, merge and SQLite writes included),
 * settling every result, and the download that follows (which brings nothing back: a replica's
 * own changes are not sent back to it).
 *
 * The baseline is the server alone: the same 10,000 changes sent as pre-built push bodies of
 * 1,000 changes to a fresh server, in the same process — the part of the round the client
 * cannot make faster.
 */
import { PROTOCOL_VERSION } from '@concord/shared';
import { openNodeReplica } from '../test/support/node-replica';
import { createTestServer } from '../test/support/test-server';
import { REPEATS, median, now, perSecond, type BenchResult } from './bench';
import { TABLE, itemInserts, itemRows, schema, uniqueName, type ItemRow } from './items';
import { timePushes } from './time-pushes';
import { timedFetch } from './timed-fetch';

const ROWS = 10_000;
const WARMUP_ROWS = 1_000;
const TX_ROWS = 1_000;
const MAX_MS = 1_000;

interface UploadTimes {
  /** `replica.sync()`, end to end. */
  syncMs: number;
  /** Time spent inside the server's `app.request` during that sync (response bodies read). */
  serverMs: number;
  /** The offline writes themselves (tracked `bulkPut`s), for reference. */
  writeMs: number;
}

async function timeUpload(rows: readonly ItemRow[]): Promise<UploadTimes> {
  const server = createTestServer({ schema });
  const timed = timedFetch(server);
  const replica = await openNodeReplica({ schema, fetch: timed.fetch, name: uniqueName('upload') });
  try {
    await replica.sync(); // registered and synced once, then offline
    const table = replica.db.table(TABLE);
    const writeStart = now();
    for (let start = 0; start < rows.length; start += TX_ROWS) {
      await replica.db.transaction('rw', table, () => table.bulkPut(rows.slice(start, start + TX_ROWS)));
    }
    const writeMs = now() - writeStart;
    const pending = await replica.db.table('_changes').count();
    if (pending !== rows.length) throw new Error(`outbox holds ${pending} entries, expected ${rows.length}`);

    timed.serverMs = 0;
    const start = now();
    const report = await replica.sync();
    const syncMs = now() - start;
    if (report.uploaded !== rows.length || report.conflicts !== 0 || report.rejected !== 0) {
      throw new Error(`unexpected sync report ${JSON.stringify(report)}`);
    }
    const left = await replica.db.table('_changes').count();
    if (left !== 0) throw new Error(`outbox still holds ${left} entries after sync`);
    return { syncMs, serverMs: timed.serverMs, writeMs };
  } finally {
    await replica.close();
    await server.close();
  }
}

/** The server's share alone: the same inserts as pre-built push bodies of `TX_ROWS` changes, on a fresh server. */
async function timeServerOnly(rows: readonly ItemRow[]): Promise<number> {
  const server = createTestServer({ schema });
  try {
    const { replicaId, secret } = await server.register();
    const bodies: string[] = [];
    for (let start = 0, gen = 1; start < rows.length; start += TX_ROWS, gen++) {
      const changes = itemInserts(rows.slice(start, start + TX_ROWS), gen);
      bodies.push(
        JSON.stringify({
          protocol: PROTOCOL_VERSION,
          schemaVersion: schema.version,
          replicaId,
          secret,
          fromLocalGeneration: gen,
          toLocalGeneration: gen,
          changes,
        }),
      );
    }
    const { ms, results } = await timePushes(server, bodies);
    const applied = results.filter((r) => r.outcome === 'applied').length;
    if (applied !== rows.length) throw new Error(`server applied ${applied} changes, expected ${rows.length}`);
    return ms;
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  // Warm-up on small data, so that JIT compilation and first-use costs are not measured.
  const warmup = itemRows(WARMUP_ROWS);
  await timeUpload(warmup);
  await timeServerOnly(warmup);

  const rows = itemRows(ROWS);
  const times: UploadTimes[] = [];
  const serverOnly: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    times.push(await timeUpload(rows));
    serverOnly.push(await timeServerOnly(rows));
  }
  const syncMs = median(times.map((t) => t.syncMs));
  const inServerMs = median(times.map((t) => t.serverMs));
  const writeMs = median(times.map((t) => t.writeMs));
  const baseline = { name: 'server alone, pre-built pushes', value: median(serverOnly) };
  const count = ROWS.toLocaleString('en-US');
  return [
    {
      name: `client: sync() uploading ${count} offline inserts`,
      value: syncMs,
      unit: 'ms',
      baseline,
      ratio: syncMs / baseline.value,
      target: `≤ ${MAX_MS.toLocaleString('en-US')} ms`,
      met: syncMs <= MAX_MS,
    },
    { name: `client: upload throughput (${count} offline inserts)`, value: perSecond(ROWS, syncMs), unit: 'rows/s' },
    { name: `client: of which inside app.request (server)`, value: inServerMs, unit: 'ms' },
    { name: `client: of which outside the server (client)`, value: syncMs - inServerMs, unit: 'ms' },
    { name: `client: the ${count} offline writes (tracked bulkPut ×${ROWS / TX_ROWS})`, value: writeMs, unit: 'ms' },
    { name: `baseline: server alone, ${count} inserts in pre-built pushes`, value: baseline.value, unit: 'ms' },
  ];
}
