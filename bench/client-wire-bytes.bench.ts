/**
 * Bytes on the wire per changed row for a one-column update. A replica (Node, fake-indexeddb)
 * inserts and syncs 1,000 rows, then changes one column (`count`) of every one of them in one
 * transaction and syncs again. A wrapped `fetch` measures every `/v1/push` of that second sync:
 * the request body (UTF-8 bytes, key and metadata included) and the response body.
 *
 * The baseline is the smallest self-describing JSON for the same information — the rowguid
 * and the new value of the changed column, `{"rowguid":"…","count":…}` — so that the ratio
 * shows the protocol's overhead per row.
 */
import { openNodeReplica } from '../test/support/node-replica';
import { createTestServer } from '../test/support/test-server';
import type { BenchResult } from './bench';
import { KEY, TABLE, itemRows, schema, uniqueName } from './items';

const ROWS = 1_000;
const MAX_REQUEST_BYTES_PER_ROW = 150;

interface Exchange {
  path: string;
  requestBytes: number;
  responseBytes: number;
}

export async function run(): Promise<BenchResult[]> {
  const server = createTestServer({ schema });
  const exchanges: Exchange[] = [];
  const replica = await openNodeReplica({
    schema,
    fetch: async (input, init) => {
      const response = await server.app.request(input as string, init);
      const text = await response.text();
      exchanges.push({
        path: new URL(input as string).pathname,
        requestBytes: typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0,
        responseBytes: Buffer.byteLength(text),
      });
      return new Response(text, { status: response.status, headers: response.headers });
    },
    name: uniqueName('wire-bytes'),
  });
  try {
    const table = replica.db.table(TABLE);
    const rows = itemRows(ROWS);
    await table.bulkPut(rows);
    const first = await replica.sync();
    if (first.uploaded !== ROWS) throw new Error(`first sync uploaded ${first.uploaded} changes, expected ${ROWS}`);

    // One column of every synced row changes, in one transaction.
    await replica.db.transaction('rw', table, async () => {
      for (const row of rows) await table.update(row[KEY] as string, { count: (row.count as number) + 1_000_000 });
    });
    exchanges.length = 0;
    const second = await replica.sync();
    if (second.uploaded !== ROWS || second.conflicts !== 0 || second.rejected !== 0) {
      throw new Error(`unexpected sync report ${JSON.stringify(second)}`);
    }

    const pushes = exchanges.filter((exchange) => exchange.path === '/v1/push');
    const requestBytes = pushes.reduce((sum, e) => sum + e.requestBytes, 0);
    const responseBytes = pushes.reduce((sum, e) => sum + e.responseBytes, 0);
    const minimal = rows.reduce(
      (sum, row) =>
        sum + Buffer.byteLength(JSON.stringify({ rowguid: row[KEY], count: (row.count as number) + 1_000_000 })),
      0,
    );
    const baseline = { name: 'bare {rowguid, column} JSON', value: minimal / ROWS };
    const perRow = requestBytes / ROWS;
    const rowsLabel = `${ROWS.toLocaleString('en-US')} one-column updates, ${pushes.length} push(es)`;
    return [
      {
        name: `client: /v1/push request bytes per row (${rowsLabel})`,
        value: perRow,
        unit: 'B/row',
        baseline,
        ratio: perRow / baseline.value,
        target: `≤ ${MAX_REQUEST_BYTES_PER_ROW} B/row`,
        met: perRow <= MAX_REQUEST_BYTES_PER_ROW,
      },
      { name: `client: /v1/push response bytes per row (${rowsLabel})`, value: responseBytes / ROWS, unit: 'B/row' },
      { name: `client: /v1/push request bytes, total`, value: requestBytes, unit: 'B' },
      { name: `client: /v1/push response bytes, total`, value: responseBytes, unit: 'B' },
    ];
  } finally {
    await replica.close();
    await server.close();
  }
}
