import { randomUUID } from 'node:crypto';
import type { RowHash } from '@concord/shared';
import type { ColumnKind, SqlDialect, SqlSession } from './sql-driver';

/** Columns as `[name, kind]`, or `[name, kind, 'null']` for a column that may be null. */
type Columns = readonly (readonly [name: string, kind: ColumnKind, nullable?: 'null'])[];

/** The columns of `rows`, in the order records are written. */
export const ROW_COLUMNS = [
  ['tbl', 'text'],
  ['rowguid', 'text'],
  ['data', 'text'],
  ['deleted', 'integer'],
  ['generation', 'bigint'],
  ['writer', 'text'],
  ['priority', 'real'],
  ['columns', 'text', 'null'],
  ['part', 'text'],
  ['parent', 'text', 'null'],
  ['bytes', 'integer'],
  ['hash', 'bigint', 'null'],
  ['crdt', 'text', 'null'],
] as const satisfies Columns;

/** The columns of `moves`: a row that left one partition for another. */
export const MOVE_COLUMNS = [
  ['generation', 'bigint'],
  ['tbl', 'text'],
  ['rowguid', 'text'],
  ['from_part', 'text'],
  ['to_part', 'text'],
] as const satisfies Columns;

/** The columns of `conflicts`: the entry as JSON, and the fields lists filter on. */
export const CONFLICT_COLUMNS = [
  ['id', 'text'],
  ['entry', 'text'],
  ['status', 'text'],
  ['tbl', 'text'],
  ['replica_id', 'text'],
  ['winner', 'text', 'null'],
  ['loser', 'text', 'null'],
  ['rowguid', 'text', 'null'],
  ['settled_at', 'text', 'null'],
] as const satisfies Columns;

/**
 * Columns added to tables after their first release: a store made by an older version gains
 * them when opened, and `fill` sets them from what the rows already hold, once.
 */
const ADDED_COLUMNS: readonly {
  table: string;
  column: string;
  kind: ColumnKind;
  then: string;
  fill?: (dialect: SqlDialect) => string;
}[] = [
  { table: 'replicas', column: 'secret_hash', kind: 'text', then: '' },
  { table: 'replicas', column: 'subject', kind: 'text', then: '' },
  { table: 'replicas', column: 'partition', kind: 'text', then: '' },
  { table: 'rows', column: 'part', kind: 'text', then: ` NOT NULL DEFAULT ''` },
  { table: 'rows', column: 'parent', kind: 'text', then: '' },
  {
    table: 'rows',
    column: 'bytes',
    kind: 'integer',
    then: ' NOT NULL DEFAULT 0',
    fill: ({ octets }) => `UPDATE rows SET bytes = ${octets('data')}`,
  },
  { table: 'rows', column: 'hash', kind: 'bigint', then: '' },
  { table: 'rows', column: 'crdt', kind: 'text', then: '' },
  {
    table: 'conflicts',
    column: 'rowguid',
    kind: 'text',
    then: '',
    fill: ({ jsonText }) => `UPDATE conflicts SET rowguid = ${jsonText('entry', 'rowguid')}`,
  },
  {
    table: 'conflicts',
    column: 'settled_at',
    kind: 'text',
    then: '',
    fill: ({ jsonText }) =>
      `UPDATE conflicts SET settled_at = COALESCE(${jsonText('entry', 'resolvedAt')}, ${jsonText('entry', 'createdAt')})
        WHERE status <> 'open'`,
  },
] as const;

function tableDefinitions({ types, bytewise, keyedTable }: SqlDialect): string[] {
  const column = ([name, kind, nullable]: Columns[number]) => `${name} ${types[kind]}${nullable ? '' : ' NOT NULL'}`;
  return [
    'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    `CREATE TABLE IF NOT EXISTS rows (${ROW_COLUMNS.map(column).join(', ')},
      PRIMARY KEY (tbl, rowguid))${keyedTable}`,
    `CREATE TABLE IF NOT EXISTS replicas (replica_id TEXT PRIMARY KEY, priority ${types.real} NOT NULL,
      created_at TEXT NOT NULL, last_sync_at TEXT, last_applied_local_generation ${types.bigint} NOT NULL,
      last_pulled_generation ${types.bigint} NOT NULL, secret_hash TEXT, subject TEXT,
      partition TEXT)`,
    `CREATE TABLE IF NOT EXISTS commits (generation ${types.bigint} PRIMARY KEY, id TEXT NOT NULL)`,
    // Conflict ids are paged with `id > after ORDER BY id`: byte order, whatever the database's locale.
    `CREATE TABLE IF NOT EXISTS conflicts (id TEXT${bytewise} PRIMARY KEY,
      ${CONFLICT_COLUMNS.slice(1).map(column).join(', ')})`,
    `CREATE TABLE IF NOT EXISTS moves (${MOVE_COLUMNS.map(column).join(', ')},
      PRIMARY KEY (generation, tbl, rowguid))${keyedTable}`,
  ];
}

/**
 * The index partitioned downloads read, each partition in generation order, sizing a page from
 * the index alone. It exists only while partition filters are set: without them, writes do not
 * pay for it.
 */
export const PARTITION_INDEX = 'CREATE INDEX IF NOT EXISTS rows_part ON rows (tbl, part, generation, writer, bytes)';

/** Indexes, made once the columns they cover exist. */
const INDEXES = [
  'CREATE INDEX IF NOT EXISTS rows_generation ON rows (generation)',
  'CREATE INDEX IF NOT EXISTS rows_parent ON rows (tbl, parent) WHERE parent IS NOT NULL',
  // A purge reads the oldest tombstones and settled entries, never every row.
  'CREATE INDEX IF NOT EXISTS rows_tombstones ON rows (generation) WHERE deleted = 1',
  'CREATE INDEX IF NOT EXISTS conflicts_settled ON conflicts (settled_at) WHERE settled_at IS NOT NULL',
];

/**
 * Makes the store's tables, or brings an older store's up to date; idempotent, and run inside a
 * write transaction so that processes opening one database at once take turns.
 */
export async function createTables(session: SqlSession, dialect: SqlDialect, rowHash: RowHash): Promise<void> {
  for (const statement of tableDefinitions(dialect)) await session.query(statement);
  for (const { table, column, kind, then, fill } of ADDED_COLUMNS) {
    const present = await session.query<{ name: string }>(dialect.columnNames, [table]);
    if (!present.some(({ name }) => name === column)) {
      await session.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${dialect.types[kind]}${then}`);
      if (fill) await session.query(fill(dialect));
    }
  }
  for (const statement of INDEXES) await session.query(statement);
  await fillHashes(session, dialect, rowHash);
  await session.query(
    `INSERT INTO meta (key, value) VALUES ('epoch', $1), ('generation', '0') ON CONFLICT (key) DO NOTHING`,
    [randomUUID()],
  );
  // A store made before commits were recorded: each older row version counts as a commit of its own.
  await session.query(
    `INSERT INTO commits (generation, id) SELECT generation, ${dialect.randomText} FROM rows
      WHERE NOT EXISTS (SELECT 1 FROM commits)`,
  );
}

/** Rows written before rows kept their hash (`rowHash`) get it, a batch at a time. */
async function fillHashes(session: SqlSession, { tuples }: SqlDialect, rowHash: RowHash): Promise<void> {
  for (;;) {
    const rows = await session.query<{ tbl: string; rowguid: string; data: string }>(
      'SELECT tbl, rowguid, data FROM rows WHERE hash IS NULL LIMIT 1000',
    );
    if (rows.length === 0) return;
    const hashes = rows.map(({ tbl, rowguid, data }) => [tbl, rowguid, String(rowHash(rowguid, JSON.parse(data)))]);
    await session.query(
      `UPDATE rows SET hash = CAST(h.hash AS BIGINT) FROM (${tuples('$1', ['tbl', 'rowguid', 'hash'])}) h
        WHERE rows.tbl = h.tbl AND rows.rowguid = h.rowguid`,
      [JSON.stringify(hashes)],
    );
  }
}
