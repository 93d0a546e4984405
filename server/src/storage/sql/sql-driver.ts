/** The kinds of the store's columns; a dialect names each in its own SQL. */
export type ColumnKind = 'text' | 'integer' | 'bigint' | 'real';

/**
 * What the shared SQL differs in between databases. Lists travel as one JSON text parameter in
 * every dialect, so a statement has the same parameters whatever runs it.
 */
export interface SqlDialect {
  readonly types: Readonly<Record<ColumnKind, string>>;
  /** Collation that makes text compare byte by byte ('' where that is the default). */
  readonly bytewise: string;
  /** Appended to the definition of a table read only by its primary key. */
  readonly keyedTable: string;
  /** An expression giving random text, for ids made inside SQL. */
  readonly randomText: string;
  /** A query of the names (`name`) of the columns of the table named by `$1`. */
  readonly columnNames: string;
  /** The text at `key` of the JSON object held by text expression `json`. */
  jsonText(json: string, key: string): string;
  /** The byte length of a text expression. */
  octets(text: string): string;
  /** A query of one text column, `value`, listing the JSON array of texts in parameter `param`. */
  texts(param: string): string;
  /** A query of text columns named `names`, listing the JSON array of arrays of texts in parameter `param`. */
  tuples(param: string, names: readonly string[]): string;
}

/** Rows inserted by one statement: `INSERT INTO ${into} (columns) <rows> ${then}`. */
export interface BatchInsert {
  into: string;
  columns: readonly (readonly [name: string, kind: ColumnKind, ...rest: unknown[]])[];
  /** What follows the rows: an `ON CONFLICT` clause, or ''. */
  then: string;
}

/** One connection's view: a transaction's inside, or the database outside any. */
export interface SqlSession {
  /** Runs one statement (parameters `$1`, `$2`, …, a number may repeat) and returns its rows. */
  query<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Inserts rows (one value per column, in `insert.columns` order), as one statement where the database allows it. */
  insertMany(insert: BatchInsert, rows: readonly (readonly unknown[])[]): Promise<void>;
}

/**
 * A database as the SQL store uses it. The store's guarantees rest on these:
 * - `write` transactions never interleave, across every process sharing the database, and commit
 *   whole or not at all (it rolls back and rethrows when `work` throws);
 * - `read` sees one committed snapshot for all its queries;
 * - a message given to `notify` reaches every `listen` handler on the database — in this process
 *   and every other — after its transaction commits, and never if it rolls back.
 */
export interface SqlDriver extends SqlSession {
  readonly dialect: SqlDialect;
  write<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  notify(session: SqlSession, message: string): Promise<void>;
  /** Resolves once a commit notified after it is heard. */
  listen(handler: (message: string) => void): Promise<void>;
  /** Releases the database; called once, after the last call has settled. */
  close(): Promise<void>;
}
