import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSerialQueue } from '../serial-queue';
import type { BatchInsert, SqlDialect, SqlDriver, SqlSession } from '../sql/sql-driver';
import { createSqlStore } from '../sql/sql-store';
import type { Store } from '../store';
import { lockFile } from './lock-file';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing, with its directory), or `:memory:`. */
  filename: string;
}

export const SQLITE_DIALECT: SqlDialect = {
  types: { text: 'TEXT', integer: 'INTEGER', bigint: 'INTEGER', real: 'REAL' },
  bytewise: '',
  keyedTable: ' WITHOUT ROWID',
  randomText: 'lower(hex(randomblob(16)))',
  columnNames: 'SELECT name FROM pragma_table_info($1)',
  jsonText: (json, key) => `${json} ->> '$.${key}'`,
  octets: (text) => `octet_length(${text})`,
  texts: (param) => `SELECT value FROM json_each(${param})`,
  tuples: (param, names) =>
    `SELECT ${names.map((name, i) => `value ->> ${i} AS ${name}`).join(', ')} FROM json_each(${param})`,
};

/**
 * The embedded store: one SQLite file in WAL mode, every push in one transaction. One store owns
 * a file: a second one, in this process or another, is refused while the first is open.
 */
export function createSqliteStore({ filename }: SqliteStoreOptions): Store {
  const memory = filename === ':memory:' || filename === '';
  if (!memory) mkdirSync(dirname(resolve(filename)), { recursive: true });
  const lock = memory ? undefined : lockFile(filename);
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');

  /** Statements by their text; `$n` becomes `?`, and `order` says which parameter each `?` takes. */
  const statements = new Map<string, { statement: Database.Statement; order: number[] }>();
  const prepare = (text: string) => {
    let prepared = statements.get(text);
    if (!prepared) {
      const order = [...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1]) - 1);
      prepared = { statement: db.prepare(text.replace(/\$\d+/g, '?')), order };
      statements.set(text, prepared);
    }
    return prepared;
  };
  const session: SqlSession = {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const { statement, order } = prepare(text);
      const bound = order.map((index) => params[index]);
      if (statement.reader) return statement.all(bound) as R[];
      statement.run(bound);
      return [];
    },
    async insertMany({ into, columns, then }: BatchInsert, rows: readonly (readonly unknown[])[]) {
      // One statement per row is the batch here: in-process SQLite has no round trips.
      const { statement } = prepare(
        `INSERT INTO ${into} (${columns.map(([name]) => name).join(', ')})
          VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ${then}`,
      );
      for (const row of rows) statement.run(row);
    },
  };

  // One connection: every call waits its turn, so no job sees another's transaction half done.
  const enqueue = createSerialQueue();
  const handlers: ((message: string) => void)[] = [];
  let notified: string[] = [];
  const driver: SqlDriver = {
    dialect: SQLITE_DIALECT,
    query: (text, params) => enqueue(() => session.query(text, params)),
    insertMany: (insert, rows) => enqueue(() => session.insertMany(insert, rows)),
    write: (work) =>
      enqueue(async () => {
        db.exec('BEGIN IMMEDIATE');
        notified = [];
        try {
          const result = await work(session);
          db.exec('COMMIT');
          for (const message of notified) for (const handler of handlers) handler(message);
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }),
    read: (work) => enqueue(() => work(session)),
    // The lock file keeps other processes out: this process's listeners are every listener.
    notify: async (_session, message) => void notified.push(message),
    listen: async (handler) => void handlers.push(handler),
    close: () =>
      enqueue(() => {
        db.close();
        lock?.close();
      }),
  };
  return createSqlStore(driver);
}
