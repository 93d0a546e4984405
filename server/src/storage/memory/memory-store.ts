import { randomUUID } from 'node:crypto';
import { rowHasher, type ConflictEntry } from '@concord/shared';
import { MOVE_BYTES, readChangePage, type PageReads } from '../change-page';
import { createCloseGuard } from '../close-guard';
import { createCommitListeners } from '../commit-listeners';
import { createSerialQueue } from '../serial-queue';
import { tableChecksums } from '../table-checksums';
import { viewSees } from '../view-sees';
import {
  rowKeyString,
  type ChangeQuery,
  type ReplicaRecord,
  type RowMove,
  type SchemaMigration,
  type SchemaState,
  type Store,
  type StoredRow,
  type StoreTransaction,
} from '../store';

/**
 * The data of in-memory stores. Stores opened on one database share it as processes share a SQL
 * database: transactions take turns, and every store hears every commit.
 */
export interface MemoryDatabase {
  epoch: string;
  generation: number;
  partitions: string;
  schemaVersion: number;
  schemaMigration: SchemaMigration | null;
  /** The highest generation up to which tombstones were purged. */
  purged: number;
  rows: Map<string, StoredRow>;
  replicas: Map<string, ReplicaRecord>;
  /** The id of each commit, by the last generation it holds. */
  commits: Map<number, string>;
  conflicts: Map<string, ConflictEntry>;
  /** Every move between partitions, in generation order. */
  moves: RowMove[];
  enqueue: ReturnType<typeof createSerialQueue>;
  listeners: ReturnType<typeof createCommitListeners>;
}

export function createMemoryDatabase(): MemoryDatabase {
  return {
    epoch: randomUUID(),
    generation: 0,
    partitions: '',
    schemaVersion: 0,
    schemaMigration: null,
    purged: 0,
    rows: new Map(),
    replicas: new Map(),
    commits: new Map(),
    conflicts: new Map(),
    moves: [],
    enqueue: createSerialQueue(),
    listeners: createCommitListeners(),
  };
}

export interface MemoryStoreOptions {
  /** The database to open; a new, empty one by default. */
  database?: MemoryDatabase;
}

/**
 * The reference store: the contract of `Store` in plain maps, nothing kept once the database is
 * dropped. Useful for tests, an app's own included. Values are copied in and out, as a database
 * would: nothing a caller holds aliases the store's data.
 */
export function createMemoryStore({ database = createMemoryDatabase() }: MemoryStoreOptions = {}): Store {
  const db = database;
  const guard = createCloseGuard();
  const subscriptions = new Set<() => void>();
  const run = <T>(job: () => T | Promise<T>) => guard.run(() => db.enqueue(job));

  return {
    meta: () =>
      run(() => ({
        epoch: db.epoch,
        generation: db.generation,
        partitions: db.partitions,
        schemaVersion: db.schemaVersion,
        schemaMigration: copy(db.schemaMigration),
      })),
    transaction: (work) =>
      run(async () => {
        const draft = createDraft(db);
        const result = await work(draft.tx);
        const { allocated, conflicts } = draft.commit();
        if (allocated || conflicts) db.listeners.emit(db.generation, { conflicts });
        return result;
      }),
    changesSince: (query) => run(() => readChangePage(memoryPageReads(db, query), query)),
    commitAt: (at) => run(() => commitAt(db, at)?.[1]),
    getReplica: (replicaId) => run(() => copy(db.replicas.get(replicaId))),
    listReplicas: ({ after = '', limit }) =>
      run(() =>
        [...db.replicas.keys()]
          .filter((id) => byBytes(id, after) > 0)
          .sort(byBytes)
          .slice(0, limit)
          .map((id) => copy(db.replicas.get(id)!)),
      ),
    notePull: (replicaId, cursor, at) =>
      run(() => {
        const replica = db.replicas.get(replicaId);
        if (replica) db.replicas.set(replicaId, { ...replica, lastPulledGeneration: cursor, lastSyncAt: at });
      }),
    listConflicts: ({
      after = '',
      status,
      table,
      replicaId,
      limit,
      maxBytes = Number.POSITIVE_INFINITY,
      view,
      subject,
    }) =>
      run(() => {
        const seen = (entry: ConflictEntry) => {
          const row = db.rows.get(rowKeyString(entry.table, entry.rowguid));
          return (
            (row && viewSees(view, row.table, row.partition)) ||
            (subject !== undefined && db.replicas.get(entry.replicaId)?.subject === subject)
          );
        };
        const listed: ConflictEntry[] = [];
        let bytes = 0;
        for (const id of [...db.conflicts.keys()].sort(byBytes)) {
          const entry = db.conflicts.get(id)!;
          if (byBytes(id, after) <= 0) continue;
          if (status !== undefined && entry.status !== status) continue;
          if (table !== undefined && entry.table !== table) continue;
          if (replicaId !== undefined && ![entry.replicaId, entry.winner, entry.loser].includes(replicaId)) continue;
          if (view && !seen(entry)) continue;
          if (listed.length >= limit || bytes >= maxBytes) break;
          bytes += [...JSON.stringify(entry)].length; // characters, as SQL's length() counts them
          listed.push(copy(entry));
        }
        return listed;
      }),
    purge: ({ before, limit }) =>
      run(() => {
        const seen = (replica: ReplicaRecord) => replica.lastSyncAt ?? replica.createdAt;
        const live = [...db.replicas.values()].filter((replica) => seen(replica) >= before);
        const safe = live.length > 0 ? Math.min(...live.map((replica) => replica.lastPulledGeneration)) : db.generation;
        const take = <T>(items: T[]) => items.slice(0, limit);
        const tombstones = take(
          [...db.rows.entries()]
            .filter(([, row]) => row.deleted && row.generation <= safe)
            .sort(([, a], [, b]) => a.generation - b.generation),
        );
        for (const [key, row] of tombstones) {
          db.rows.delete(key);
          db.purged = Math.max(db.purged, row.generation);
        }
        const moves = take(db.moves.filter((move) => move.generation <= safe));
        db.moves = db.moves.filter((move) => !moves.includes(move));
        const conflicts = take(
          [...db.conflicts.values()].filter(
            (entry) => entry.status !== 'open' && (entry.resolvedAt ?? entry.createdAt) < before,
          ),
        );
        for (const entry of conflicts) db.conflicts.delete(entry.id);
        const report = {
          tombstones: tombstones.length,
          moves: moves.length,
          conflicts: conflicts.length,
        };
        return { ...report, more: Object.values(report).some((count) => count >= limit) };
      }),
    checksums: (query) =>
      run(async () => {
        const rowHash = await rowHasher();
        const { sums, excluded, add } = tableChecksums(query);
        for (const row of db.rows.values()) {
          if (!excluded(row)) add({ ...row, hash: rowHash(row.rowguid, row.values) });
        }
        return sums;
      }),
    onCommit(listener) {
      if (guard.closed) return () => undefined; // as the SQL stores: a closed store announces nothing
      const stop = db.listeners.add(listener);
      subscriptions.add(stop);
      return () => {
        subscriptions.delete(stop);
        stop();
      };
    },
    close: () =>
      guard.close(async () => {
        for (const stop of subscriptions) stop();
        subscriptions.clear();
      }),
  };
}

/** Text in byte order (of its UTF-8), as the SQL stores compare conflict ids. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A deep copy: what goes in or comes out of the store is never shared with the caller. */
const copy = <T>(value: T): T => (value === undefined ? value : structuredClone(value));

/** The commit holding `generation`: the first to end at or after it, as `[end, id]`. */
function commitAt(db: MemoryDatabase, generation: number): [number, string] | undefined {
  for (const commit of db.commits) if (commit[0] >= generation) return commit;
  return undefined;
}

/** A transaction's writes, kept aside until it commits: one that throws leaves nothing behind. */
function createDraft(db: MemoryDatabase) {
  let generation = db.generation;
  let partitions = db.partitions;
  let schema: SchemaState = { version: db.schemaVersion, migration: copy(db.schemaMigration) };
  let conflictsWritten = false;
  const rows = new Map<string, StoredRow>();
  const replicas = new Map<string, ReplicaRecord>();
  const conflicts = new Map<string, ConflictEntry>();
  const moves: RowMove[] = [];
  const row = (key: string) => rows.get(key) ?? db.rows.get(key);
  const conflict = (id: string) => conflicts.get(id) ?? db.conflicts.get(id);
  const tx: StoreTransaction = {
    getReplica: async (replicaId) => copy(replicas.get(replicaId) ?? db.replicas.get(replicaId)),
    async putReplica(replica) {
      // As the SQL stores: a record written again keeps when, with what secret and by whom it was registered.
      const known = replicas.get(replica.replicaId) ?? db.replicas.get(replica.replicaId);
      const kept = known && { createdAt: known.createdAt, secretHash: known.secretHash, subject: known.subject };
      replicas.set(replica.replicaId, copy({ ...replica, ...kept }));
    },
    async getRows(keys) {
      const found = new Map<string, StoredRow>();
      for (const { table, rowguid } of keys) {
        const key = rowKeyString(table, rowguid);
        const stored = row(key);
        if (stored) found.set(key, copy(stored));
      }
      return found;
    },
    async allocateGenerations(count) {
      generation += count;
      return generation - count + 1;
    },
    async writeRows(written) {
      for (const row of written) rows.set(rowKeyString(row.table, row.rowguid), copy(row));
    },
    async setPartitions(fingerprint) {
      partitions = fingerprint;
    },
    schemaState: async () => copy(schema),
    async setSchemaState(state) {
      schema = copy(state);
    },
    purgedUpTo: async () => db.purged,
    async childrenOf(table, parents) {
      const wanted = new Set(parents);
      const keys = new Set([...db.rows.keys(), ...rows.keys()]);
      return [...keys]
        .map((key) => row(key)!)
        .filter((child) => child.table === table && child.parent != null && wanted.has(child.parent))
        .map(copy);
    },
    async moveRows(moved) {
      for (const move of moved) {
        const key = rowKeyString(move.table, move.rowguid);
        const stored = row(key);
        if (stored) rows.set(key, { ...copy(stored), partition: move.to });
        moves.push(copy(move));
      }
    },
    async addConflicts(entries) {
      for (const entry of entries) {
        if (conflict(entry.id)) throw new Error(`conflict entry ${entry.id} already exists`);
        conflicts.set(entry.id, copy(entry));
        conflictsWritten = true;
      }
    },
    getConflict: async (id) => copy(conflict(id)),
    async updateConflict(entry) {
      conflictsWritten = true;
      if (conflict(entry.id)) conflicts.set(entry.id, copy(entry));
    },
  };
  return {
    tx,
    commit() {
      const allocated = generation > db.generation;
      for (const [key, row] of rows) db.rows.set(key, row);
      for (const [id, replica] of replicas) db.replicas.set(id, replica);
      for (const [id, entry] of conflicts) db.conflicts.set(id, entry);
      db.moves.push(...moves);
      if (allocated) db.commits.set(generation, randomUUID());
      db.generation = generation;
      db.partitions = partitions;
      [db.schemaVersion, db.schemaMigration] = [schema.version, schema.migration];
      return { allocated, conflicts: conflictsWritten };
    },
  };
}

/** The reads of a change page: the rows and moves the query keeps, in generation order. */
function memoryPageReads(db: MemoryDatabase, { exceptWriter, exceptTables = [], view }: ChangeQuery): PageReads {
  const skipped = new Set(exceptTables);
  const sees = (table: string, partition?: string) => viewSees(view, table, partition);
  const kept = [...db.rows.values()]
    .filter((row) => row.writer !== exceptWriter && !skipped.has(row.table) && sees(row.table, row.partition))
    .sort((a, b) => a.generation - b.generation);
  // Moves that cross the view: into it, or out of it.
  const crossing = view
    ? db.moves.filter((move) => !skipped.has(move.table) && sees(move.table, move.from) !== sees(move.table, move.to))
    : [];
  const bytes = (row: StoredRow) => Buffer.byteLength(JSON.stringify(row.values));
  // A row that moved in comes whole: it counts its stored size, a removal a key's.
  const now = (move: RowMove) => db.rows.get(rowKeyString(move.table, move.rowguid))!;
  const entries = [
    ...kept.map((row) => ({ generation: row.generation, bytes: bytes(row) })),
    ...crossing.map((move) => ({
      generation: move.generation,
      bytes: sees(move.table, now(move).partition) ? bytes(now(move)) : MOVE_BYTES,
    })),
  ].sort((a, b) => a.generation - b.generation);
  const within = (after: number, upTo: number) => (item: { generation: number }) =>
    item.generation > after && item.generation <= upTo;
  return {
    sizes: async (after, count, upTo = Number.MAX_SAFE_INTEGER) => entries.filter(within(after, upTo)).slice(0, count),
    commitEnd: async (generation) => commitAt(db, generation)?.[0],
    async entries(after, upTo) {
      const rows = kept.filter(within(after, upTo));
      const removals = [];
      for (const move of crossing.filter(within(after, upTo))) {
        const row = now(move);
        // Where the row stands now decides: it is sent whole, or removed.
        if (sees(row.table, row.partition) === sees(move.table, move.from)) continue;
        if (sees(row.table, row.partition)) rows.push(row);
        else removals.push({ table: move.table, rowguid: move.rowguid, generation: move.generation });
      }
      return { rows: rows.map(copy), removals };
    },
    generation: async () => db.generation,
    purged: async () => db.purged,
    commitAt: async (generation) => commitAt(db, generation)?.[1],
  };
}
