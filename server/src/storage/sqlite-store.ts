import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConcordError, type ConflictEntry } from '@concord/shared';
import { createCommitListeners } from './commit-listeners';
import { createSerialQueue } from './serial-queue';
import {
  rowKeyString,
  type ConflictQuery,
  type RowKey,
  type Store,
  type StoredRow,
  type StoreTransaction,
} from './store';
import { fromReplica, fromRow, toReplica, toRow, type ReplicaRow, type RowRecord } from './store-records';
import { ADDED_COLUMNS, backfillCommits, storeSchema } from './store-schema';
import { readChangePage, type PageReads } from './change-page';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing, with its directory), or `:memory:`. */
  filename: string;
}

interface ConflictFilter {
  after: string;
  status: string | null;
  tbl: string | null;
  replica: string | null;
  limit: number;
  maxBytes: number;
}

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
  db.exec(storeSchema('sqlite'));
  for (const { table, column, type } of ADDED_COLUMNS) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
    if (!columns.some(({ name }) => name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('epoch', randomUUID());
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('generation', '0');
  db.exec(backfillCommits('sqlite'));

  const sql = {
    meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setGeneration: db.prepare<[string]>("UPDATE meta SET value = ? WHERE key = 'generation'"),
    rowsOf: db.prepare<[string, string], RowRecord>(
      'SELECT * FROM rows WHERE tbl = ? AND rowguid IN (SELECT value FROM json_each(?))',
    ),
    upsertRow: db.prepare<[RowRecord]>(
      `INSERT INTO rows (tbl, rowguid, data, deleted, generation, writer, priority, columns)
       VALUES (@tbl, @rowguid, @data, @deleted, @generation, @writer, @priority, @columns)
       ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
         generation = excluded.generation, writer = excluded.writer, priority = excluded.priority,
         columns = excluded.columns`,
    ),
    sizes: db.prepare<[number, number, string, string, number], { generation: number; bytes: number }>(
      `SELECT generation, length(CAST(data AS BLOB)) AS bytes FROM rows WHERE generation > ? AND generation <= ?
         AND writer <> ? AND tbl NOT IN (SELECT value FROM json_each(?)) ORDER BY generation LIMIT ?`,
    ),
    rowsUpTo: db.prepare<[number, number, string, string], RowRecord>(
      `SELECT * FROM rows WHERE generation > ? AND generation <= ? AND writer <> ?
         AND tbl NOT IN (SELECT value FROM json_each(?)) ORDER BY generation`,
    ),
    anyAfter: db.prepare<[number, string, string], { found: number }>(
      `SELECT 1 AS found FROM rows WHERE generation > ? AND writer <> ?
         AND tbl NOT IN (SELECT value FROM json_each(?)) LIMIT 1`,
    ),
    commitEnd: db.prepare<[number], { generation: number | null }>(
      'SELECT MIN(generation) AS generation FROM commits WHERE generation >= ?',
    ),
    commitAt: db.prepare<[number], { id: string }>(
      'SELECT id FROM commits WHERE generation >= ? ORDER BY generation LIMIT 1',
    ),
    addCommit: db.prepare<[number, string]>('INSERT INTO commits (generation, id) VALUES (?, ?)'),
    replica: db.prepare<[string], ReplicaRow>('SELECT * FROM replicas WHERE replica_id = ?'),
    putReplica: db.prepare(
      `INSERT INTO replicas (replica_id, priority, created_at, last_sync_at, last_applied_local_generation,
         last_pulled_generation, secret_hash) VALUES (@replica_id, @priority, @created_at, @last_sync_at,
         @last_applied_local_generation, @last_pulled_generation, @secret_hash)
       ON CONFLICT (replica_id) DO UPDATE SET priority = excluded.priority, last_sync_at = excluded.last_sync_at,
         last_applied_local_generation = excluded.last_applied_local_generation,
         last_pulled_generation = excluded.last_pulled_generation`,
    ),
    notePull: db.prepare<[number, string, string]>(
      'UPDATE replicas SET last_pulled_generation = ?, last_sync_at = ? WHERE replica_id = ?',
    ),
    addConflict: db.prepare<[string, string, string, string, string, string | null, string | null]>(
      'INSERT INTO conflicts (id, entry, status, tbl, replica_id, winner, loser) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    conflict: db.prepare<[string], { entry: string }>('SELECT entry FROM conflicts WHERE id = ?'),
    updateConflict: db.prepare<[string, string, string | null, string | null, string]>(
      'UPDATE conflicts SET entry = ?, status = ?, winner = ?, loser = ? WHERE id = ?',
    ),
    // Entries are added while those before them hold fewer than maxBytes characters (at least one).
    conflicts: db.prepare<[ConflictFilter], { entry: string }>(
      `SELECT c.entry FROM conflicts c JOIN (
         SELECT id, SUM(length(entry)) OVER (ORDER BY id) - length(entry) AS before FROM conflicts
         WHERE id > @after AND (@status IS NULL OR status = @status) AND (@tbl IS NULL OR tbl = @tbl)
           AND (@replica IS NULL OR @replica IN (replica_id, winner, loser)) ORDER BY id LIMIT @limit
       ) page ON c.id = page.id WHERE page.before < @maxBytes ORDER BY c.id`,
    ),
  };

  const generation = () => Number(sql.meta.get('generation')?.value ?? 0);
  const enqueue = createSerialQueue();
  const listeners = createCommitListeners();
  let closed = false;
  /** The highest generation the running transaction allocated; 0 when it allocated none. */
  let allocated = 0;
  /** Whether the running transaction added or settled conflict entries. */
  let conflictsWritten = false;
  // Every call goes through the queue: between a transaction's awaits no other job may see its writes.
  const run = <T>(job: () => Promise<T> | T): Promise<T> =>
    enqueue(() => {
      if (closed) throw new ConcordError('unavailable', 'the store is closed');
      return job();
    });

  const tx: StoreTransaction = {
    async getReplica(replicaId) {
      return toReplica(sql.replica.get(replicaId));
    },
    async putReplica(replica) {
      sql.putReplica.run(fromReplica(replica));
    },
    async getRows(keys: readonly RowKey[]) {
      const byTable = new Map<string, string[]>();
      for (const { table, rowguid } of keys) {
        const list = byTable.get(table) ?? [];
        list.push(rowguid);
        byTable.set(table, list);
      }
      const found = new Map<string, StoredRow>();
      for (const [table, rowguids] of byTable) {
        for (const record of sql.rowsOf.all(table, JSON.stringify(rowguids))) {
          found.set(rowKeyString(record.tbl, record.rowguid), toRow(record));
        }
      }
      return found;
    },
    async allocateGenerations(count) {
      const first = generation() + 1;
      allocated = first + count - 1;
      sql.setGeneration.run(String(allocated));
      return first;
    },
    async writeRows(rows) {
      // One prepared statement per row is the batch here: in-process SQLite has no round trips.
      for (const row of rows) sql.upsertRow.run(fromRow(row));
    },
    async addConflicts(entries) {
      if (entries.length > 0) conflictsWritten = true;
      for (const entry of entries) {
        sql.addConflict.run(
          entry.id,
          JSON.stringify(entry),
          entry.status,
          entry.table,
          entry.replicaId,
          entry.winner,
          entry.loser,
        );
      }
    },
    async getConflict(id) {
      const record = sql.conflict.get(id);
      return record && (JSON.parse(record.entry) as ConflictEntry);
    },
    async updateConflict(entry) {
      conflictsWritten = true;
      sql.updateConflict.run(JSON.stringify(entry), entry.status, entry.winner, entry.loser, entry.id);
    },
  };

  return {
    meta: () => run(() => ({ epoch: sql.meta.get('epoch')!.value, generation: generation() })),
    transaction: (work) =>
      run(async () => {
        db.exec('BEGIN IMMEDIATE');
        allocated = 0;
        conflictsWritten = false;
        try {
          const result = await work(tx);
          if (allocated > 0) sql.addCommit.run(allocated, randomUUID());
          db.exec('COMMIT');
          const conflicts = conflictsWritten;
          if (allocated > 0 || conflicts) listeners.emit(allocated || generation(), { conflicts });
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }),
    changesSince: ({ exceptWriter = '', exceptTables = [], ...query }) =>
      run(() => {
        const tables = JSON.stringify(exceptTables);
        const reads: PageReads = {
          sizes: async (after, count, upTo = Number.MAX_SAFE_INTEGER) =>
            sql.sizes.all(after, upTo, exceptWriter, tables, count),
          commitEnd: async (generation) => sql.commitEnd.get(generation)?.generation ?? undefined,
          rows: async (after, upTo) => sql.rowsUpTo.all(after, upTo, exceptWriter, tables).map(toRow),
          anyAfter: async (generation) => sql.anyAfter.get(generation, exceptWriter, tables) !== undefined,
          generation: async () => generation(),
          commitAt: async (generation) => sql.commitAt.get(generation)?.id,
        };
        return readChangePage(reads, query);
      }),
    commitAt: (at) => run(() => sql.commitAt.get(at)?.id),
    getReplica: (replicaId) => run(() => toReplica(sql.replica.get(replicaId))),
    notePull: (replicaId, cursor, at) =>
      run(() => {
        sql.notePull.run(cursor, at, replicaId);
      }),
    listConflicts: (query: ConflictQuery) =>
      run(() =>
        sql.conflicts
          .all({
            after: query.after ?? '',
            status: query.status ?? null,
            tbl: query.table ?? null,
            replica: query.replicaId ?? null,
            limit: query.limit,
            maxBytes: query.maxBytes ?? Number.MAX_SAFE_INTEGER,
          })
          .map((record) => JSON.parse(record.entry) as ConflictEntry),
      ),
    onCommit: (listener) => listeners.add(listener),
    close: () =>
      run(() => {
        closed = true;
        listeners.clear();
        db.close();
        lock?.close();
      }),
  };
}

/**
 * Takes the file's lock: an exclusive lock on a small SQLite file beside it, held while the store
 * is open and released by the operating system if the process dies. Two server processes on one
 * file would each think their generations were the only ones.
 */
function lockFile(filename: string): Database.Database {
  const lock = new Database(`${filename}.lock`);
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    throw new Error(
      `${resolve(filename)} is in use by another Concord server; one server process owns a SQLite file (use PostgreSQL for several)`,
    );
  }
}
