export type SqlDialect = 'sqlite' | 'postgres';

/** Columns added to tables after their first release: a store made by an older version gains them when opened. */
export const ADDED_COLUMNS = [{ table: 'replicas', column: 'secret_hash', type: 'TEXT' }] as const;

/**
 * The store's tables in either dialect; idempotent (every statement is `IF NOT EXISTS`).
 * The layouts match column for column, so one record mapping (store-records.ts) serves both.
 */
export function storeSchema(dialect: SqlDialect): string {
  const sqlite = dialect === 'sqlite';
  const bigint = sqlite ? 'INTEGER' : 'BIGINT';
  const real = sqlite ? 'REAL' : 'DOUBLE PRECISION';
  // Conflict ids are paged with `id > after ORDER BY id`: byte order in both, whatever the database's locale.
  const bytewise = sqlite ? '' : ' COLLATE "C"';
  return `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
  tbl TEXT NOT NULL, rowguid TEXT NOT NULL, data TEXT NOT NULL, deleted INTEGER NOT NULL,
  generation ${bigint} NOT NULL, writer TEXT NOT NULL, priority ${real} NOT NULL, columns TEXT,
  PRIMARY KEY (tbl, rowguid)
)${sqlite ? ' WITHOUT ROWID' : ''};
CREATE INDEX IF NOT EXISTS rows_generation ON rows (generation);
CREATE TABLE IF NOT EXISTS replicas (
  replica_id TEXT PRIMARY KEY, priority ${real} NOT NULL, created_at TEXT NOT NULL, last_sync_at TEXT,
  last_applied_local_generation ${bigint} NOT NULL, last_pulled_generation ${bigint} NOT NULL, secret_hash TEXT
);
${sqlite ? '' : ADDED_COLUMNS.map(({ table, column, type }) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type};`).join('\n')}
CREATE TABLE IF NOT EXISTS commits (generation ${bigint} PRIMARY KEY, id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (id TEXT${bytewise} PRIMARY KEY, entry TEXT NOT NULL, status TEXT NOT NULL,
  tbl TEXT NOT NULL, replica_id TEXT NOT NULL, winner TEXT, loser TEXT);
`;
}

/**
 * Gives a commit to every generation a store made before commits were recorded: each older row
 * version counts as a transaction of its own. Run once, when the store has no commit yet.
 */
export function backfillCommits(dialect: SqlDialect): string {
  const id = dialect === 'sqlite' ? 'lower(hex(randomblob(16)))' : 'md5(random()::text || generation::text)';
  return `INSERT INTO commits (generation, id) SELECT generation, ${id} FROM rows
    WHERE NOT EXISTS (SELECT 1 FROM commits)`;
}
