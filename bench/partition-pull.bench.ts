/**
 * The download of an initial partition: a store of 100,000 stock rows over 20 branches, and one
 * branch's replica downloading its 5,000 rows through the real HTTP path (pages of 1,000), next
 * to an unfiltered download of a store holding just 5,000 rows — on SQLite and PostgreSQL,
 * alternated in the same process. Target ≤ 1.2×: the filter reads the branch's index range, not
 * every row. The query plan of the partitioned page query is printed for both stores, and the
 * time the server takes at startup to stamp the 100,000 rows for filters it has not seen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { PROTOCOL_VERSION, defineSchema, type FromServerPull, type FromServerRegister } from '@concord/shared';
import { createPostgresStore, createSqliteStore, type PartitionConfig, type Store } from '@concord/server';
import { POSTGRES_DIALECT } from '../server/src/storage/postgres/postgres-store';
import { SQLITE_DIALECT } from '../server/src/storage/sqlite/sqlite-store';
import type { SqlDialect, SqlSession } from '../server/src/storage/sql/sql-driver';
import { sqlPageReads } from '../server/src/storage/sql/sql-page-reads';
import { createTestServer, type TestServer } from '../test/support/test-server';
import { TOKEN_SECRET, tokenFor } from '../test/support/tokens';
import { REPEATS, median, now, type BenchResult } from './bench';
import { withDatabase, withPostgres } from './postgres-database';

const ROWS = 100_000;
const BRANCHES = 20;
const PARTITION = ROWS / BRANCHES;
const PAGE = 1_000;
const BRANCH = 'b7';
const PUSH = 1_000;

const schema = defineSchema({
  version: 1,
  tables: { stock: { columns: { branchId: 'string', sku: 'string', qty: 'integer', note: 'string' } } },
});
const partitions: PartitionConfig = { stock: { column: 'branchId', claim: 'branch' } };

/**
 * `count` stock rows, branch by branch in turn, written straight into the store a push's worth
 * (1,000 rows) a transaction: pages end at commits, so both stores must be written alike.
 */
async function fill(store: Store, count: number, branches: number): Promise<void> {
  for (let from = 0; from < count; from += PUSH) {
    await store.transaction(async (tx) => {
      const size = Math.min(PUSH, count - from);
      const first = await tx.allocateGenerations(size);
      await tx.writeRows(
        Array.from({ length: size }, (_, i) => ({
          table: 'stock',
          rowguid: `s${from + i}`,
          values: { branchId: `b${(from + i) % branches}`, sku: `sku-${from + i}`, qty: i % 50, note: 'x'.repeat(40) },
          deleted: false,
          generation: first + i,
          writer: 'seed',
          priority: 0,
        })),
      );
    });
  }
}

/** A replica's whole first download, page by page; its time and how many rows came. */
async function download(server: TestServer, branch = BRANCH, from = 0, at = ''): Promise<{ ms: number; rows: number }> {
  const token = await tokenFor('device', { branch });
  const post = (path: string, body: object) =>
    server.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: 1, ...body }),
    });
  const { replicaId, secret } = (await (await post('/v1/replicas', {})).json()) as FromServerRegister;
  const start = now();
  let rows = 0;
  for (let after = from, commit = at, more = true; more;) {
    const page = (await (
      await post('/v1/pull', { replicaId, secret, after, limit: PAGE, ...(commit && { commit }) })
    ).json()) as FromServerPull;
    rows += page.changes.length;
    [after, commit, more] = [page.cursor, page.commit, page.more];
  }
  return { ms: now() - start, rows };
}

/** The SQL of a partitioned page's size query, as the store builds it. */
function pageQuery(dialect: SqlDialect): { text: string; params: unknown[] } {
  let recorded: { text: string; params: unknown[] } | undefined;
  const session: SqlSession = {
    async query<R>(text: string, params: readonly unknown[] = []) {
      recorded ??= { text, params: [...params] };
      return [] as R[];
    },
    insertMany: async () => undefined,
  };
  const view = { parts: [['stock', JSON.stringify(BRANCH)] as const], whole: [] };
  void sqlPageReads(session, dialect, { exceptWriter: 'replica', view }).sizes(0, PAGE);
  return recorded!;
}

interface Backend {
  name: string;
  /** A fresh store (in its own file or database); `dispose` removes it. */
  open(): Promise<{ store: Store; settle(): Promise<void>; plan(): Promise<string>; dispose(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'SQLite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'concord-partition-bench-'));
    const filename = join(dir, 'store.db');
    return {
      store: createSqliteStore({ filename }),
      settle: async () => undefined,
      async plan() {
        const { text, params } = pageQuery(SQLITE_DIALECT);
        const db = new Database(filename, { readonly: true });
        try {
          const order = [...text.matchAll(/\$(\d+)/g)].map((match) => params[Number(match[1]) - 1]);
          const rows = db.prepare(`EXPLAIN QUERY PLAN ${text.replace(/\$\d+/g, '?')}`).all(order) as {
            detail: string;
          }[];
          return rows.map((row) => row.detail).join('\n');
        } finally {
          db.close();
        }
      },
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function postgres(adminUrl: string): Backend {
  return {
    name: 'PostgreSQL',
    async open() {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let dropped!: Promise<void>;
      const url = await new Promise<string>((resolve) => {
        dropped = withDatabase(adminUrl, async (database) => {
          resolve(database);
          await released;
        });
      });
      return {
        store: createPostgresStore({ connectionString: url }),
        // What autovacuum does soon after a bulk load: statistics, and the visibility map index-only scans use.
        async settle() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query('VACUUM ANALYZE rows').finally(() => client.end());
        },
        async plan() {
          const { text, params } = pageQuery(POSTGRES_DIALECT);
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
            return rows.map((row) => row['QUERY PLAN']).join('\n');
          } finally {
            await client.end();
          }
        },
        async dispose() {
          release();
          await dropped;
        },
      };
    },
  };
}

async function measure(backend: Backend): Promise<BenchResult[]> {
  const partitioned = await backend.open();
  const plain = await backend.open();
  try {
    await fill(partitioned.store, ROWS, BRANCHES);
    await fill(plain.store, PARTITION, 1);
    const started = now();
    const filtered = createTestServer({ schema, store: partitioned.store, auth: { secret: TOKEN_SECRET }, partitions });
    const unfiltered = createTestServer({ schema, store: plain.store, auth: { secret: TOKEN_SECRET } });
    await filtered.request('/v1/conflicts', { headers: { authorization: `Bearer ${await tokenFor('hq')}` } });
    const restampMs = now() - started;
    await partitioned.settle();
    await plain.settle();
    // The newest rows of the same store, for an identity that sees every branch: no filter.
    const times = { filtered: [] as number[], unfiltered: [] as number[], tail: [] as number[] };
    for (let i = 0; i <= REPEATS; i++) {
      const a = await download(filtered);
      const b = await download(unfiltered);
      const c = await download(filtered, '*', ROWS - PARTITION, await partitioned.store.commitAt(ROWS - PARTITION));
      if (a.rows !== PARTITION || b.rows !== PARTITION || c.rows !== PARTITION) {
        throw new Error(`expected ${PARTITION} rows each, got ${a.rows}, ${b.rows} and ${c.rows}`);
      }
      if (i === 0) continue; // warm-up
      times.filtered.push(a.ms);
      times.unfiltered.push(b.ms);
      times.tail.push(c.ms);
    }
    console.log(`\n${backend.name} plan of a partitioned page (sizes query):\n${await partitioned.plan()}\n`);
    const value = median(times.filtered);
    const baseline = {
      name: `unfiltered pull of ${PARTITION.toLocaleString('en-US')} rows`,
      value: median(times.unfiltered),
    };
    return [
      {
        name: `partition pull (${backend.name}): one branch's ${PARTITION.toLocaleString('en-US')} of ${ROWS.toLocaleString('en-US')} rows (${BRANCHES} branches)`,
        value,
        unit: 'ms',
        baseline,
        ratio: value / baseline.value,
        target: '≤ 1.2× unfiltered',
        met: value / baseline.value <= 1.2,
      },
      {
        name: `partition pull (${backend.name}), against the same store`,
        value,
        unit: 'ms',
        baseline: {
          name: `unfiltered pull of its newest ${PARTITION.toLocaleString('en-US')} rows`,
          value: median(times.tail),
        },
        ratio: value / median(times.tail),
      },
      {
        name: `partition stamp (${backend.name}): ${ROWS.toLocaleString('en-US')} rows stamped for new filters at startup`,
        value: restampMs,
        unit: 'ms',
      },
    ];
  } finally {
    await partitioned.store.close();
    await plain.store.close();
    await partitioned.dispose();
    await plain.dispose();
  }
}

export async function run(): Promise<BenchResult[]> {
  const results = await measure(sqlite);
  return [...results, ...(await withPostgres((adminUrl) => measure(postgres(adminUrl))))];
}
