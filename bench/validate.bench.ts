/**
 * `replica.validate()` of 100,000 rows (Node, fake-indexeddb, a SQLite server), next to the full
 * download of the same rows into a fresh replica, in the same process.
 *
 * The server is seeded through its HTTP push route. Each repetition opens a fresh replica and
 * times its first `sync()` (register, the download of every row: the baseline), then times
 * `validate()` on it: a sync round with nothing to move, one read of the local table with a hash
 * of every row, and the server's counts and checksums summed in SQL. The time spent inside the
 * server's `app.request` is reported apart. Set `VALIDATE_ROWS` for another size.
 */
import { openNodeReplica } from '../test/support/node-replica';
import { createTestServer, type TestServer } from '../test/support/test-server';
import { REPEATS, median, now, type BenchResult } from './bench';
import { itemInserts, itemRows, schema, uniqueName } from './items';
import { timedFetch } from './timed-fetch';

const ROWS = Number(process.env.VALIDATE_ROWS ?? 100_000);
const PUSH_BATCH = 1_000;
const TARGET = 0.1;

async function seed(server: TestServer): Promise<void> {
  const { replicaId } = await server.register();
  for (let start = 0, generation = 1; start < ROWS; start += PUSH_BATCH, generation++) {
    const rows = itemRows(Math.min(PUSH_BATCH, ROWS - start));
    const pushed = await server.push(replicaId, itemInserts(rows, generation));
    if (pushed.results.some((result) => result.outcome !== 'applied'))
      throw new Error('seeding: a change was not applied');
  }
}

async function timeOnce(server: TestServer) {
  const timed = timedFetch(server);
  const replica = await openNodeReplica({ schema, fetch: timed.fetch, name: uniqueName('validate') });
  try {
    let start = now();
    await replica.sync();
    const downloadMs = now() - start;
    timed.serverMs = 0;
    start = now();
    const report = await replica.validate();
    const validateMs = now() - start;
    if (!report.ok || report.tables[0]!.replica.count !== ROWS) {
      throw new Error(`validation did not find ${ROWS} equal rows: ${JSON.stringify(report)}`);
    }
    return { downloadMs, validateMs, serverMs: timed.serverMs };
  } finally {
    await replica.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const server = createTestServer({ schema });
  const times: Awaited<ReturnType<typeof timeOnce>>[] = [];
  try {
    await seed(server);
    for (let i = 0; i < REPEATS; i++) times.push(await timeOnce(server));
  } finally {
    await server.close();
  }
  const rows = ROWS.toLocaleString('en-US');
  const baseline = { name: `full download of ${rows} rows`, value: median(times.map((t) => t.downloadMs)) };
  const validate = median(times.map((t) => t.validateMs));
  return [
    {
      name: `validate(): ${rows} rows`,
      value: validate,
      unit: 'ms',
      baseline,
      ratio: validate / baseline.value,
      target: `≤ ${TARGET}× a full download`,
      met: validate / baseline.value <= TARGET,
    },
    {
      name: 'validate(): of which inside app.request (server)',
      value: median(times.map((t) => t.serverMs)),
      unit: 'ms',
    },
    { name: `baseline: full download of ${rows} rows`, value: baseline.value, unit: 'ms' },
  ];
}
