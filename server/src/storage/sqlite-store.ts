import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { ConcordError, type ConflictEntry } from '@concord/shared';
import { createSerialQueue } from './serial-queue';
import {
  rowKeyString,
  type ChangePage,
  type ConflictQuery,
  type ReplicaRecord,
  type RowKey,
  type Store,
  type StoredRow,
  type StoreTransaction,
} from './store';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing), or `:memory:`. */
  filename: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
  tbl TEXT NOT NULL, rowguid TEXT NOT NULL, data TEXT NOT NULL, deleted INTEGER NOT NULL,
  generation INTEGER NOT NULL, writer TEXT NOT NULL, priority REAL NOT NULL, columns TEXT,
  PRIMARY KEY (tbl, rowguid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_generation ON rows (generation);
CREATE TABLE IF NOT EXISTS replicas (
  replica_id TEXT PRIMARY KEY, priority REAL NOT NULL, created_at TEXT NOT NULL, last_sync_at TEXT,
  last_applied_local_generation INTEGER NOT NULL, last_pulled_generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (id TEXT PRIMARY KEY, entry TEXT NOT NULL, status TEXT NOT NULL,
  tbl TEXT NOT NULL, replica_id TEXT NOT NULL, winner TEXT, loser TEXT);
`;

interface RowRecord {
  tbl: string;
  rowguid: string;
  data: string;
  deleted: number;
  generation: number;
  writer: string;
  priority: number;
  columns: string | null;
}

interface ConflictFilter {
  after: string;
  status: string | null;
  tbl: string | null;
  replica: string | null;
  limit: number;
}

interface ReplicaRow {
  replica_id: string;
  priority: number;
  created_at: string;
  last_sync_at: string | null;
  last_applied_local_generation: number;
  last_pulled_generation: number;
}

/** The embedded store: one SQLite file in WAL mode, every push in one transaction. */
export function createSqliteStore({ filename }: SqliteStoreOptions): Store {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  db.exec(SCHEMA);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('epoch', randomUUID());
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('generation', '0');

  const sql = {
    meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setGeneration: db.prepare<[string]>("UPDATE meta SET value = ? WHERE key = 'generation'"),
    rowsOf: db.prepare<[string, string], RowRecord>(
      'SELECT * FROM rows WHERE tbl = ? AND rowguid IN (SELECT value FROM json_each(?))',
    ),
    upsertRow: db.prepare<[string, string, string, number, number, string, number, string | null]>(
      `INSERT INTO rows (tbl, rowguid, data, deleted, generation, writer, priority, columns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
         generation = excluded.generation, writer = excluded.writer, priority = excluded.priority,
         columns = excluded.columns`,
    ),
    changes: db.prepare<[number, string, string, number], RowRecord>(
      `SELECT * FROM rows WHERE generation > ? AND writer <> ?
         AND tbl NOT IN (SELECT value FROM json_each(?)) ORDER BY generation LIMIT ?`,
    ),
    replica: db.prepare<[string], ReplicaRow>('SELECT * FROM replicas WHERE replica_id = ?'),
    putReplica: db.prepare(
      `INSERT INTO replicas VALUES (@replica_id, @priority, @created_at, @last_sync_at,
         @last_applied_local_generation, @last_pulled_generation)
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
    conflicts: db.prepare<[ConflictFilter], { entry: string }>(
      `SELECT entry FROM conflicts WHERE id > @after AND (@status IS NULL OR status = @status)
         AND (@tbl IS NULL OR tbl = @tbl) AND (@replica IS NULL OR @replica IN (replica_id, winner, loser)) ORDER BY id LIMIT @limit`,
    ),
  };

  const generation = () => Number(sql.meta.get('generation')?.value ?? 0);
  const enqueue = createSerialQueue();
  let closed = false;
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
      sql.setGeneration.run(String(first + count - 1));
      return first;
    },
    async writeRows(rows) {
      for (const row of rows) {
        const columns = row.columns ? JSON.stringify(row.columns) : null;
        sql.upsertRow.run(
          row.table,
          row.rowguid,
          JSON.stringify(row.values),
          row.deleted ? 1 : 0,
          row.generation,
          row.writer,
          row.priority,
          columns,
        );
      }
    },
    async addConflicts(entries) {
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
      sql.updateConflict.run(JSON.stringify(entry), entry.status, entry.winner, entry.loser, entry.id);
    },
  };

  return {
    meta: () => run(() => ({ epoch: sql.meta.get('epoch')!.value, generation: generation() })),
    transaction: (work) =>
      run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(tx);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }),
    changesSince: (after, limit, exceptWriter = '', exceptTables = []) =>
      run((): ChangePage => {
        const records = sql.changes.all(after, exceptWriter, JSON.stringify(exceptTables), limit + 1);
        const more = records.length > limit;
        const rows = records.slice(0, limit).map(toRow);
        const cursor = more ? rows[rows.length - 1]!.generation : Math.max(after, generation());
        return { rows, cursor, more };
      }),
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
          })
          .map((record) => JSON.parse(record.entry) as ConflictEntry),
      ),
    close: () =>
      run(() => {
        closed = true;
        db.close();
      }),
  };
}

function toRow(record: RowRecord): StoredRow {
  const row: StoredRow = {
    table: record.tbl,
    rowguid: record.rowguid,
    values: JSON.parse(record.data) as StoredRow['values'],
    deleted: record.deleted === 1,
    generation: record.generation,
    writer: record.writer,
    priority: record.priority,
  };
  if (record.columns !== null) row.columns = JSON.parse(record.columns) as StoredRow['columns'];
  return row;
}

function toReplica(row: ReplicaRow | undefined): ReplicaRecord | undefined {
  return (
    row && {
      replicaId: row.replica_id,
      priority: row.priority,
      createdAt: row.created_at,
      lastSyncAt: row.last_sync_at,
      lastAppliedLocalGeneration: row.last_applied_local_generation,
      lastPulledGeneration: row.last_pulled_generation,
    }
  );
}

function fromReplica(replica: ReplicaRecord): ReplicaRow {
  return {
    replica_id: replica.replicaId,
    priority: replica.priority,
    created_at: replica.createdAt,
    last_sync_at: replica.lastSyncAt,
    last_applied_local_generation: replica.lastAppliedLocalGeneration,
    last_pulled_generation: replica.lastPulledGeneration,
  };
}
