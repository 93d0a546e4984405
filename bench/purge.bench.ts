/**
 * A retention purge of 1,000,000 tombstones (`PURGE_TOMBSTONES`) on SQLite and PostgreSQL while
 * a replica keeps pushing one change at a time: the purge's total time, and the p99 latency of
 * those pushes during the purge next to the same pushes without one, in the same process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresStore, createSqliteStore, purgeExpired, type Store } from '@concord/server';
import { createTestServer, testSchema, upsert, type TestServer } from '../test/support/test-server';
import { now, type BenchResult } from './bench';
import { withDatabase, withPostgres } from './postgres-database';

const TOMBSTONES = Number(process.env.PURGE_TOMBSTONES ?? 1_000_000);
const FILL = 10_000;

async function fill(store: Store): Promise<void> {
  for (let from = 0; from < TOMBSTONES; from += FILL) {
    await store.transaction(async (tx) => {
      const size = Math.min(FILL, TOMBSTONES - from);
      const first = await tx.allocateGenerations(size);
      await tx.writeRows(
        Array.from({ length: size }, (_, i) => ({
          table: 'notes',
          rowguid: `t${from + i}`,
          values: { title: `deleted ${from + i}` },
          deleted: true,
          generation: first + i,
          writer: 'seed',
          priority: 0,
        })),
      );
    });
  }
}

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

/** Pushes one new row at a time until `stop()` (or `count` pushes); the latency of each. */
async function pushWhile(server: TestServer, replicaId: string, from: number, stop: () => boolean, count = Infinity) {
  const latencies: number[] = [];
  for (let i = 0; i < count && !stop(); i++) {
    const n = from + i;
    const start = now();
    await server.push(replicaId, [upsert('notes', `live-${n}`, { title: `live ${n}` }, { gen: n + 1 })], {
      from: n + 1,
      to: n + 1,
    });
    latencies.push(now() - start);
    // Pushes arrive as separate network events, as on a server: each waits for its own turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return latencies;
}

async function measure(name: string, store: Store, settle = async () => {}): Promise<BenchResult[]> {
  await fill(store);
  await settle();
  const server = createTestServer({ schema: testSchema, store, retention: { purgeEveryMs: 0 } });
  try {
    console.log('filled');
    const { replicaId } = await server.register();
    console.log('registered');
    // The pushing replica has downloaded everything: nothing holds the tombstones back.
    const { generation } = await store.meta();
    await server.request('/v1/pull', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        protocol: 2,
        schemaVersion: testSchema.version,
        replicaId,
        secret: server.secretOf(replicaId),
        after: generation,
        commit: await store.commitAt(generation),
      }),
    });
    console.log('pulled');
    const quiet = await pushWhile(server, replicaId, 0, () => false, 500);
    console.log('quiet done');
    let done = false;
    const start = now();
    const purging = purgeExpired(store).finally(() => (done = true));
    const during = await pushWhile(server, replicaId, quiet.length, () => done);
    const totals = await purging;
    const ms = now() - start;
    if (totals.tombstones !== TOMBSTONES) throw new Error(`purged ${totals.tombstones} of ${TOMBSTONES} tombstones`);
    const count = TOMBSTONES.toLocaleString('en-US');
    return [
      { name: `purge (${name}): ${count} tombstones, 1,000 a transaction, pushes going on`, value: ms, unit: 'ms' },
      {
        name: `purge (${name}): p99 latency of ${during.length} one-row pushes during the purge`,
        value: p99(during),
        unit: 'ms',
        baseline: { name: `${quiet.length} pushes without a purge`, value: p99(quiet) },
        ratio: p99(during) / p99(quiet),
      },
    ];
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-purge-bench-'));
  try {
    const sqlite = await measure('SQLite', createSqliteStore({ filename: join(dir, 'store.db') }));
    const postgres = await withPostgres((adminUrl) =>
      withDatabase(adminUrl, (connectionString) =>
        // What autovacuum does soon after a million inserts: the statistics the purge's plans use.
        measure('PostgreSQL', createPostgresStore({ connectionString }), async () => {
          const client = new pg.Client({ connectionString });
          await client.connect();
          await client.query('ANALYZE rows').finally(() => client.end());
        }),
      ),
    );
    return [...sqlite, ...postgres];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
