import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ConcordError, type ConflictEntry } from '@concord/shared';
import { createCommitListeners } from './commit-listeners';
import { listenForCommits } from './postgres-listener';
import { SQL, TYPES } from './postgres-sql';
import type { Store, StoreTransaction } from './store';
import { rowKeyString } from './store';
import { fromReplica, fromRow, toReplica, toRow, type ReplicaRow, type RowRecord } from './store-records';
import { backfillCommits, storeSchema } from './store-schema';
import { readChangePage } from './change-page';

export type PostgresStoreOptions = (
  | {
      /** A PostgreSQL URL; the store makes its own pool and ends it on `close()`. */
      connectionString: string;
      /** Most connections of that pool (default 10). */
      max?: number;
    }
  | {
      /** A pool the caller owns: `close()` returns the store's connections but leaves the pool open. */
      pool: pg.Pool;
    }
) & {
  /** The `LISTEN/NOTIFY` channel of commit notifications (default `concord_commit`). */
  channel?: string;
};

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * The store for several server processes sharing one PostgreSQL database.
 *
 * Write transactions are serialized by a transaction-scoped advisory lock taken right after
 * `BEGIN`, across every process: generations are allocated from a counter row and committed
 * in order, so a reader never sees generation N+1 while N may still commit (a sequence would
 * let a late commit appear behind a cursor that already moved past it), and a merge always
 * reads the rows as the last commit left them. Reads take no lock.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const owned = 'connectionString' in options;
  const pool = owned ? new pg.Pool({ connectionString: options.connectionString, max: options.max }) : options.pool;
  // An idle connection of our own pool that fails must not crash the process; the pool replaces it.
  if (owned) pool.on('error', () => undefined);
  const channel = options.channel ?? 'concord_commit';
  const listeners = createCommitListeners();
  const query = <R extends pg.QueryResultRow>(on: Queryable, text: string, values: unknown[] = []) =>
    on.query<R>({ text, values, types: TYPES }).then((result) => result.rows);

  const commits = listenForCommits(
    async () => {
      if (!owned) return pool.connect();
      const client = new pg.Client({ connectionString: options.connectionString });
      await client.connect();
      return client;
    },
    channel,
    (generation, conflicts) => listeners.emit(generation, { conflicts }),
  );
  const ready = (async () => {
    await inTransaction(SQL.lockSchema, async (client) => {
      await client.query(storeSchema('postgres'));
      await query(client, SQL.initMeta, [randomUUID()]);
      await client.query(backfillCommits('postgres'));
    });
    await commits.ready;
  })();
  ready.catch(() => undefined); // reported by every call instead

  let closed = false;
  const running = new Set<Promise<unknown>>();
  const run = <T>(job: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new ConcordError('unavailable', 'the store is closed'));
    const result = ready.then(job);
    const settled = result.catch(() => undefined);
    running.add(settled);
    void settled.then(() => running.delete(settled));
    return result;
  };

  async function inTransaction<T>(lock: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A connection lost mid-transaction fails the running query; the event must not crash the process.
    const ignore = () => undefined;
    client.on('error', ignore);
    const release = (error?: Error) => {
      client.off('error', ignore);
      client.release(error);
    };
    try {
      await client.query('BEGIN');
      await client.query(lock);
      const result = await work(client);
      await client.query('COMMIT');
      release();
      return result;
    } catch (error) {
      // A connection that cannot roll back is broken: destroy it instead of pooling it.
      await client.query('ROLLBACK').then(
        () => release(),
        (rollbackError: Error) => release(rollbackError),
      );
      throw error;
    }
  }

  function transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return run(() =>
      inTransaction(SQL.lockWrites, async (client) => {
        let allocated = 0;
        let conflictsWritten = false;
        const result = await work({
          async getReplica(replicaId) {
            return toReplica((await query<ReplicaRow>(client, SQL.replica, [replicaId]))[0]);
          },
          async putReplica(replica) {
            const r = fromReplica(replica);
            await query(client, SQL.putReplica, [
              r.replica_id,
              r.priority,
              r.created_at,
              r.last_sync_at,
              r.last_applied_local_generation,
              r.last_pulled_generation,
              r.secret_hash,
            ]);
          },
          async getRows(keys) {
            const records = await query<RowRecord>(client, SQL.rowsOf, [
              keys.map((key) => key.table),
              keys.map((key) => key.rowguid),
            ]);
            return new Map(records.map((record) => [rowKeyString(record.tbl, record.rowguid), toRow(record)]));
          },
          async allocateGenerations(count) {
            const [{ last }] = (await query<{ last: number }>(client, SQL.allocate, [count])) as [{ last: number }];
            allocated = last;
            return last - count + 1;
          },
          async writeRows(rows) {
            if (rows.length > 0) await query(client, SQL.upsertRows, columnsOf(rows.map(fromRow)));
          },
          async addConflicts(entries) {
            if (entries.length === 0) return;
            conflictsWritten = true;
            await query(client, SQL.addConflicts, [
              entries.map((entry) => entry.id),
              entries.map((entry) => JSON.stringify(entry)),
              entries.map((entry) => entry.status),
              entries.map((entry) => entry.table),
              entries.map((entry) => entry.replicaId),
              entries.map((entry) => entry.winner),
              entries.map((entry) => entry.loser),
            ]);
          },
          async getConflict(id) {
            const [record] = await query<{ entry: string }>(client, SQL.conflict, [id]);
            return record && (JSON.parse(record.entry) as ConflictEntry);
          },
          async updateConflict(entry) {
            conflictsWritten = true;
            const { status, winner, loser, id } = entry;
            await query(client, SQL.updateConflict, [JSON.stringify(entry), status, winner, loser, id]);
          },
        });
        if (allocated > 0) await query(client, SQL.addCommit, [allocated, randomUUID()]);
        // Delivered on COMMIT only, to every listening process: the poke of §7.
        if (allocated > 0 || conflictsWritten) {
          const generation = allocated || (await query<{ last: number }>(client, SQL.generation))[0]!.last;
          await query(client, SQL.notify, [channel, `${generation}${conflictsWritten ? ' conflicts' : ''}`]);
        }
        return result;
      }),
    );
  }

  return {
    meta: () =>
      run(async () => {
        const records = await query<{ key: string; value: string }>(pool, SQL.meta);
        const value = (key: string) => records.find((record) => record.key === key)!.value;
        return { epoch: value('epoch'), generation: Number(value('generation')) };
      }),
    transaction,
    changesSince: ({ exceptWriter = '', exceptTables = [], ...page }) =>
      run(async () => {
        const client = await pool.connect();
        try {
          await client.query(SQL.beginPage);
          const tables = [...exceptTables];
          const result = await readChangePage(
            {
              sizes: (after, count, upTo = Number.MAX_SAFE_INTEGER) =>
                query(client, SQL.sizes, [after, upTo, exceptWriter, tables, count]),
              commitEnd: async (generation) =>
                (await query<{ generation: number | null }>(client, SQL.commitEnd, [generation]))[0]?.generation ??
                undefined,
              rows: async (after, upTo) =>
                (await query<RowRecord>(client, SQL.rowsUpTo, [after, upTo, exceptWriter, tables])).map(toRow),
              anyAfter: async (generation) =>
                (await query(client, SQL.anyAfter, [generation, exceptWriter, tables])).length > 0,
              generation: async () => (await query<{ last: number }>(client, SQL.generation))[0]!.last,
              commitAt: async (generation) => (await query<{ id: string }>(client, SQL.commitAt, [generation]))[0]?.id,
            },
            page,
          );
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (error) {
          client.release(error as Error); // a connection that failed mid-read is not pooled again
          throw error;
        }
      }),
    commitAt: (generation) => run(async () => (await query<{ id: string }>(pool, SQL.commitAt, [generation]))[0]?.id),
    getReplica: (replicaId) => run(async () => toReplica((await query<ReplicaRow>(pool, SQL.replica, [replicaId]))[0])),
    notePull: (replicaId, cursor, at) =>
      run(async () => {
        await query(pool, SQL.notePull, [cursor, at, replicaId]);
      }),
    listConflicts: (q) =>
      run(async () => {
        const filter = [
          q.after ?? '',
          q.status ?? null,
          q.table ?? null,
          q.replicaId ?? null,
          q.limit,
          q.maxBytes ?? Number.MAX_SAFE_INTEGER,
        ];
        const records = await query<{ entry: string }>(pool, SQL.conflicts, filter);
        return records.map((record) => JSON.parse(record.entry) as ConflictEntry);
      }),
    onCommit: (listener) => listeners.add(listener),
    async close() {
      if (closed) throw new ConcordError('unavailable', 'the store is closed');
      closed = true;
      await Promise.all(running);
      listeners.clear();
      await commits.close();
      if (owned) await pool.end();
    },
  };
}

/** Rows as one array per column, the shape `UNNEST` spreads back into rows. */
function columnsOf(records: readonly RowRecord[]): unknown[][] {
  const keys = ['tbl', 'rowguid', 'data', 'deleted', 'generation', 'writer', 'priority', 'columns'] as const;
  return keys.map((key) => records.map((record) => record[key]));
}
