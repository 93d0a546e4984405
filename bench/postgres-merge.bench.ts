/**
 * Server merge throughput on PostgreSQL through the real HTTP path (`app.request('/v1/push')`:
 * body limit, JSON parsing, validation, merge, one PostgreSQL transaction per push, JSON
 * response), compared with a raw `UNNEST` upsert of the same rows in the same process.
 *
 * The same two passes as merge-throughput.bench.ts (10,000 rows, 1,000 per push: insert,
 * then a one-column update of every row). Uses the database at CONCORD_POSTGRES_URL when it
 * is set (each run in a fresh database made there), otherwise a throwaway server started
 * like the tests' one.
 */
import pg from 'pg';
import type { RowValues } from '@concord/shared';
import { createPostgresStore } from '@concord/server';
import { createTestServer } from '../test/support/test-server';
import { withDatabase, withPostgres } from './postgres-database';
import { REPEATS, median, now, perSecond, type BenchResult } from './bench';
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
const GOAL = { minRatio: 0.25, minRowsPerSecond: 30_000 };

/** Both passes through the sync server on a PostgreSQL store. */
function runMerge(adminUrl: string, data: Dataset): Promise<PassTimes> {
  return withDatabase(adminUrl, async (connectionString) => {
    const server = createTestServer({ schema, store: createPostgresStore({ connectionString }) });
    try {
      await server.store.meta(); // schema creation is not part of the merge
      const times = await pushBothPasses(server, data, BATCH);
      const { generation } = await server.store.meta();
      if (generation !== 2 * data.rowguids.length)
        throw new Error(`expected generation ${2 * data.rowguids.length} after both passes, got ${generation}`);
      return times;
    } finally {
      await server.close();
    }
  });
}

/** Both passes as raw `UNNEST` upserts, one transaction per batch, on a table of the store's layout. */
function runBaseline(adminUrl: string, data: Dataset): Promise<PassTimes> {
  return withDatabase(adminUrl, async (connectionString) => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(`CREATE TABLE rows (tbl TEXT NOT NULL, rowguid TEXT NOT NULL, data TEXT NOT NULL,
        generation BIGINT NOT NULL, PRIMARY KEY (tbl, rowguid))`);
      const upsert = `INSERT INTO rows (tbl, rowguid, data, generation)
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])
        ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, generation = excluded.generation`;
      let generation = 0;
      const pass = async (values: readonly RowValues[]) => {
        const start = now();
        for (let from = 0; from < data.rowguids.length; from += BATCH) {
          const rowguids = data.rowguids.slice(from, from + BATCH);
          const json = values.slice(from, from + BATCH).map((v) => JSON.stringify(v));
          await client.query('BEGIN');
          await client.query(upsert, [rowguids.map(() => TABLE), rowguids, json, rowguids.map(() => ++generation)]);
          await client.query('COMMIT');
        }
        return now() - start;
      };
      const insertMs = await pass(data.inserted);
      const updateMs = await pass(data.updated);
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM rows');
      if (Number(rows[0]!.n) !== data.rowguids.length) throw new Error(`baseline holds ${rows[0]!.n} rows`);
      return { insertMs, updateMs };
    } finally {
      await client.end();
    }
  });
}

export async function run(): Promise<BenchResult[]> {
  return withPostgres(async (adminUrl) => {
    const warmup = makeDataset(WARMUP_ROWS);
    await runMerge(adminUrl, warmup);
    await runBaseline(adminUrl, warmup);

    const data = makeDataset(ROWS);
    const merge: PassTimes[] = [];
    const baseline: PassTimes[] = [];
    for (let i = 0; i < REPEATS; i++) {
      merge.push(await runMerge(adminUrl, data));
      baseline.push(await runBaseline(adminUrl, data));
    }
    const rate = (times: PassTimes[], pass: keyof PassTimes) => perSecond(ROWS, median(times.map((t) => t[pass])));
    const baselineInsert = { name: 'raw PostgreSQL UNNEST upsert, insert', value: rate(baseline, 'insertMs') };
    const baselineUpdate = { name: 'raw PostgreSQL UNNEST upsert, update', value: rate(baseline, 'updateMs') };
    const rows = ROWS.toLocaleString('en-US');
    const batches = `${ROWS / BATCH}×${BATCH.toLocaleString('en-US')}`;
    return [
      throughputTarget(
        `postgres merge: push ${rows} new rows (${batches})`,
        rate(merge, 'insertMs'),
        baselineInsert,
        GOAL,
      ),
      throughputTarget(
        `postgres merge: push ${rows} one-column updates (${batches})`,
        rate(merge, 'updateMs'),
        baselineUpdate,
        GOAL,
      ),
      { name: `baseline: ${baselineInsert.name} ${rows}`, value: baselineInsert.value, unit: 'rows/s' },
      { name: `baseline: ${baselineUpdate.name} ${rows}`, value: baselineUpdate.value, unit: 'rows/s' },
    ];
  });
}
