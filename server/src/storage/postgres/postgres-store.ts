import pg from 'pg';
import type { BatchInsert, SqlDialect, SqlDriver, SqlSession } from '../sql/sql-driver';
import { createSqlStore } from '../sql/sql-store';
import type { Store } from '../store';
import { listenForCommits } from './postgres-listener';

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

export const POSTGRES_DIALECT: SqlDialect = {
  types: { text: 'TEXT', integer: 'INTEGER', bigint: 'BIGINT', real: 'DOUBLE PRECISION' },
  bytewise: ' COLLATE "C"',
  keyedTable: '',
  randomText: 'md5(random()::text || clock_timestamp()::text)',
  columnNames: `SELECT column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = $1`,
  jsonText: (json, key) => `${json}::jsonb ->> '${key}'`,
  octets: (text) => `octet_length(${text})`,
  texts: (param) => `SELECT jsonb_array_elements_text(${param}::jsonb)`,
  tuples: (param, names) =>
    `SELECT ${names.map((name, i) => `value ->> ${i} AS ${name}`).join(', ')} FROM jsonb_array_elements(${param}::jsonb)`,
};

/**
 * A read transaction: one snapshot. Its plans take random reads as cheap as on SSDs or a cached
 * table (`random_page_cost` 1.1, for this transaction only): a partitioned page then reads its
 * partition's index range rather than every row of its generation range.
 */
const READ = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL random_page_cost = 1.1';

/** Serializes write transactions across every process (see `createPostgresStore`). */
const LOCK_WRITES = 'SELECT pg_advisory_xact_lock(7233373950215501568)';

/** `bigint` columns come back as numbers: generations stay far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

type Queryable = Pick<pg.PoolClient, 'query'>;

function sessionOf(on: Queryable): SqlSession {
  const query = async <R>(text: string, values: readonly unknown[] = []) =>
    (await on.query({ text, values: [...values], types: TYPES })).rows as R[];
  return {
    query,
    async insertMany({ into, columns, then }: BatchInsert, rows: readonly (readonly unknown[])[]) {
      // One statement for the whole batch: each column travels as an array, and `UNNEST` spreads them into rows.
      const arrays = columns.map((_, i) => rows.map((row) => row[i]));
      const unnest = columns.map(([, kind], i) => `$${i + 1}::${POSTGRES_DIALECT.types[kind]}[]`).join(', ');
      await query(
        `INSERT INTO ${into} (${columns.map(([name]) => name).join(', ')})
        SELECT * FROM UNNEST(${unnest}) ${then}`,
        arrays,
      );
    },
  };
}

/**
 * The store for several server processes sharing one PostgreSQL database.
 *
 * Write transactions are serialized by a transaction-scoped advisory lock taken right after
 * `BEGIN`, across every process: generations are allocated from a counter row and committed
 * in order, so a reader never sees generation N+1 while N may still commit (a sequence would
 * let a late commit appear behind a cursor that already moved past it), and a merge always
 * reads the rows as the last commit left them. Reads take no lock; a change page reads one
 * snapshot. Commits are announced with `NOTIFY`, which PostgreSQL delivers on commit to every
 * listening process.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const owned = 'connectionString' in options;
  const pool = owned ? new pg.Pool({ connectionString: options.connectionString, max: options.max }) : options.pool;
  // An idle connection of our own pool that fails must not crash the process; the pool replaces it.
  if (owned) pool.on('error', () => undefined);
  const channel = options.channel ?? 'concord_commit';
  let commits: ReturnType<typeof listenForCommits> | undefined;

  async function inTransaction<T>(begin: string, lock: string, work: (session: SqlSession) => Promise<T>) {
    const client = await pool.connect();
    // A connection lost mid-transaction fails the running query; the event must not crash the process.
    const ignore = () => undefined;
    client.on('error', ignore);
    const release = (error?: Error) => {
      client.off('error', ignore);
      client.release(error);
    };
    try {
      await client.query(begin);
      if (lock) await client.query(lock);
      const result = await work(sessionOf(client));
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

  const driver: SqlDriver = {
    dialect: POSTGRES_DIALECT,
    ...sessionOf(pool),
    write: (work) => inTransaction('BEGIN', LOCK_WRITES, work),
    read: (work) => inTransaction(READ, '', work),
    notify: async (session, message) => void (await session.query('SELECT pg_notify($1, $2)', [channel, message])),
    listen(handler) {
      const connect = async () => {
        if (!owned) return pool.connect();
        const client = new pg.Client({ connectionString: options.connectionString });
        await client.connect();
        return client;
      };
      commits = listenForCommits(connect, channel, handler);
      return commits.ready;
    },
    async close() {
      await commits?.close();
      if (owned) await pool.end();
    },
  };
  return createSqlStore(driver);
}
