import type { ConflictEntry, ConflictStatus, RowValues, TableChecksum } from '@concord/shared';

/** The generation and writer of one column of a column-tracked row. */
export interface ColumnVersion {
  generation: number;
  writer: string;
  priority: number;
}

/**
 * A row as the server keeps it. A tombstone keeps its last values (`deleted: true`) so that
 * a conflicting update can bring the row back whole.
 */
export interface StoredRow {
  table: string;
  rowguid: string;
  values: RowValues;
  deleted: boolean;
  /** The server generation of the row's last change; unique across the store. */
  generation: number;
  /** The replica that made the last change. */
  writer: string;
  /** The priority of the replica that made the last change. */
  priority: number;
  /** Per-column versions, kept only for column-tracked tables. */
  columns?: Record<string, ColumnVersion>;
  /**
   * The partition the row belongs to, as the server's partitions stamp it ('' for a table
   * without a filter, the default). Changing it is a move (`moveRows`).
   */
  partition?: string;
  /** For a table that follows a parent table: the rowguid of its parent row, or null. */
  parent?: string | null;
  /** Per CRDT column, its merged Yjs state and recent updates; `values` holds its text. */
  crdt?: Record<string, CrdtFieldState>;
}

/**
 * A CRDT column as stored: its whole merged state (a Yjs update, base64, garbage-collected), and
 * the updates merged since generation `upTo`, each at the generation of the write that merged it,
 * so a replica that has the row up to a generation past `upTo` is sent only what came after.
 */
export interface CrdtFieldState {
  state: string;
  upTo: number;
  log: [generation: number, update: string][];
}

/** A row that left one partition for another at `generation` (its own change, or its parent's). */
export interface RowMove extends RowKey {
  generation: number;
  from: string;
  to: string;
}

/** A row a partitioned download no longer sees: it moved out of the partition at `generation`. */
export interface Removal extends RowKey {
  generation: number;
}

/**
 * The rows a partitioned download sees: those whose `[table, partition]` is listed in `parts`
 * (a table without a filter is listed with partition ''), and every row of the `whole` tables.
 */
export interface PartitionView {
  parts: readonly (readonly [table: string, partition: string])[];
  whole: readonly string[];
}

export interface ReplicaRecord {
  replicaId: string;
  priority: number;
  createdAt: string;
  lastSyncAt: string | null;
  /** The highest local generation of this replica already applied; pushes at or below it are replays. */
  lastAppliedLocalGeneration: number;
  /** The last download cursor this replica asked from. */
  lastPulledGeneration: number;
  /** SHA-256 of the secret handed out at registration (hex); null for a replica registered before secrets. */
  secretHash: string | null;
  /** The subject of the identity that registered it; null on a server without `auth`. Never changes. */
  subject: string | null;
  /**
   * A fingerprint of the partition the replica's rows were downloaded for, set by a download
   * from the start; null before one, or without partitions.
   */
  partition: string | null;
}

export interface StoreMeta {
  /** Random id made when the store was created; a replaced or restored store has another. */
  epoch: string;
  /** The highest server generation committed. */
  generation: number;
  /** A fingerprint of the partition filters the rows are stamped for; '' for none. */
  partitions: string;
  /** The schema version the rows' values are written for; 0 for a store made before it was kept. */
  schemaVersion: number;
  /** A migration of the rows to `schemaVersion` under way, or null. */
  schemaMigration: SchemaMigration | null;
}

/**
 * Rows being migrated from schema version `from` to the store's `schemaVersion`: those up to
 * generation `after` are done.
 */
export interface SchemaMigration {
  from: number;
  after: number;
}

/** Which schema version the rows are written for, and any migration to it under way. */
export interface SchemaState {
  version: number;
  migration: SchemaMigration | null;
}

export interface RowKey {
  table: string;
  rowguid: string;
}

/** Which changes a page holds. */
export interface ChangeQuery {
  /** Changes with a greater generation are returned. */
  after: number;
  /** Most rows in the page, unless one transaction alone has more. */
  limit: number;
  /** Stop once the page's row data (stored JSON) reaches this many bytes. Default: no bound. */
  maxBytes?: number;
  /** Leave out rows last written by this replica (it has them from its push). */
  exceptWriter?: string;
  /** Leave out rows of these tables (upload-only tables). */
  exceptTables?: readonly string[];
  /**
   * Only rows this view sees; then the page also brings the rows that moved into the view in
   * its range (whole, whoever wrote them) and removals for those that moved out of it. Default:
   * every row.
   */
  view?: PartitionView;
}

export interface ChangePage {
  rows: StoredRow[];
  /** With a `view`: rows that moved out of it in the page's range (and are still out). */
  removals: Removal[];
  /** The highest generation up to which tombstones were purged, on the page's snapshot. */
  purged: number;
  /** Every change up to this generation has been considered. */
  cursor: number;
  /** The id of the commit the cursor stands on (`commitAt(cursor)`); empty for cursor 0. */
  commit: string;
  more: boolean;
}

export interface ConflictQuery {
  status?: ConflictStatus;
  table?: string;
  /** Entries that concern this replica: it uploaded the change, or won or lost. */
  replicaId?: string;
  /** Entries with an id greater than this (ids sort by creation). */
  after?: string;
  limit: number;
  /** Stop once the entries listed hold this many characters of JSON (at least one entry). Default: no bound. */
  maxBytes?: number;
  /**
   * Only entries on rows this view sees where they stand now — or uploaded by a replica of
   * `subject`, whose own refused changes it always sees. Default: every entry.
   */
  view?: PartitionView;
  subject?: string;
}

/**
 * Everything a push does happens through one StoreTransaction. It must commit as a whole or
 * leave nothing behind: rows, generations, conflict entries and replica watermarks alike.
 */
export interface StoreTransaction {
  getReplica(replicaId: string): Promise<ReplicaRecord | undefined>;
  /**
   * Writes a replica's record. Written again, a record keeps its `createdAt`, `secretHash` and
   * `subject`: what a replica was registered with never changes.
   */
  putReplica(replica: ReplicaRecord): Promise<void>;
  getRows(keys: readonly RowKey[]): Promise<Map<string, StoredRow>>;
  /** Reserves `count` consecutive generations and returns the first. */
  allocateGenerations(count: number): Promise<number>;
  writeRows(rows: readonly StoredRow[]): Promise<void>;
  /** The rows of `table` whose `parent` is one of `parents`, tombstones included. */
  childrenOf(table: string, parents: readonly string[]): Promise<StoredRow[]>;
  /**
   * Records the fingerprint of the partition filters the rows are now stamped for
   * (`meta().partitions`); a SQL store keeps its partition index only while it is not ''.
   */
  setPartitions(fingerprint: string): Promise<void>;
  /** The schema version the rows are written for and any migration under way, read inside the transaction. */
  schemaState(): Promise<SchemaState>;
  /** Records them (`meta().schemaVersion`, `meta().schemaMigration`). */
  setSchemaState(state: SchemaState): Promise<void>;
  /** The highest generation up to which tombstones were purged (0 when none was). */
  purgedUpTo(): Promise<number>;
  /** Sets each moved row's partition to `to`, its generation unchanged, and records the move for downloads. */
  moveRows(moves: readonly RowMove[]): Promise<void>;
  addConflicts(entries: readonly ConflictEntry[]): Promise<void>;
  /** One entry of the conflict log, read inside the transaction that may settle it. */
  getConflict(id: string): Promise<ConflictEntry | undefined>;
  /** Replaces a logged entry (same id) as a whole, its status included; an unknown id writes nothing. */
  updateConflict(entry: ConflictEntry): Promise<void>;
}

/** What one purge batch may remove, and by when things count as old. */
export interface PurgeQuery {
  /**
   * The retention cutoff (ISO 8601): settled conflict entries settled before it go, and a replica
   * last seen before it no longer holds tombstones back.
   */
  before: string;
  /** Most tombstones and conflict entries removed by this batch (moves go by whole generations). */
  limit: number;
}

/** What one purge batch removed; `more` when a kind filled its limit. */
export interface PurgeReport {
  tombstones: number;
  conflicts: number;
  moves: number;
  more: boolean;
}

/** Which rows `checksums` counts. */
export interface ChecksumQuery {
  tables: readonly string[];
  /** Only rows this view sees. Default: every row. */
  view?: PartitionView;
  /** Rows left out (changes pending on a replica, or made since its download). */
  exclude?: readonly RowKey[];
}

/**
 * Called after a commit with the store's newest generation then (the highest one the transaction
 * allocated, when it allocated any) and whether the transaction added or settled conflict entries.
 */
export type CommitListener = (generation: number, commit: { conflicts: boolean }) => void;

/**
 * The server's storage contract. Invariants every implementation keeps:
 * - a transaction's writes and the replica's watermark commit together or not at all;
 * - a reader never sees generation N+1 while N may still commit (no download skips a generation);
 * - change pages include tombstones, are in generation order and end at a commit;
 * - every transaction that allocates generations records a commit with a random id;
 * - after `close()`, every call rejects.
 */
export interface Store {
  meta(): Promise<StoreMeta>;
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /**
   * Rows changed after `query.after`, oldest first, leaving out rows last written by
   * `exceptWriter`, rows of `exceptTables` and rows its `view` does not see (with a view, moves
   * into and out of it count as changes too). Left-out rows are skipped inside the query, so a
   * page still holds up to `limit` rows and its cursor still covers every generation up to it.
   * A page holds whole transactions: it ends at a commit, even when one transaction alone is
   * larger than `limit` or `maxBytes` — unless it would pass four times `maxBytes` — and it holds
   * at least one row when any is left.
   */
  changesSince(query: ChangeQuery): Promise<ChangePage>;
  /**
   * The id of the commit that holds `generation` (every transaction that allocated generations
   * is one commit, with a random id), or undefined past the newest: a cursor names a commit, so
   * a store restored from a backup, which reuses generations under other commits, tells it apart.
   */
  commitAt(generation: number): Promise<string | undefined>;
  getReplica(replicaId: string): Promise<ReplicaRecord | undefined>;
  /** Replica records in id order, at most `limit` of them after the id `after`. */
  listReplicas(query: { after?: string; limit: number }): Promise<ReplicaRecord[]>;
  /** Records a download: the replica's cursor and last sync time. */
  notePull(replicaId: string, cursor: number, at: string): Promise<void>;
  listConflicts(query: ConflictQuery): Promise<ConflictEntry[]>;
  /**
   * Removes, in one transaction, at most `limit` of each: tombstones and moves every replica last
   * seen since `before` has downloaded (at or below the lowest download cursor among them; all of
   * them when there is none), and conflict entries settled before `before` (open ones stay).
   * Replica records stay: an old replica is told it expired, never forgotten. Call it again
   * while `more`. The
   * highest generation of a purged tombstone is kept (`purgedUpTo`): a change to a row gone
   * from the store, made over a version at or below it, met a delete.
   */
  purge(query: PurgeQuery): Promise<PurgeReport>;
  /**
   * Per table of `query.tables`, on one snapshot: how many rows the view sees (tombstones aside,
   * `exclude` left out) and the checksum of their hashes (`rowHasher`), summed by the database from the
   * hash kept with every row, never by reading the rows.
   */
  checksums(query: ChecksumQuery): Promise<Map<string, TableChecksum>>;
  /**
   * Subscribes to "changes committed": the listener is called after every transaction that
   * allocated generations or added or settled conflict entries commits — by any process sharing
   * the store's database, this one included — and never for one that rolled back. Notifications are pokes, not a log: one may
   * stand for several commits, so a listener must read `changesSince` rather than count calls.
   * Returns the unsubscribe function.
   */
  onCommit(listener: CommitListener): () => void;
  /** Waits for work already started, then releases the database; later calls reject with `unavailable`. */
  close(): Promise<void>;
}

export function rowKeyString(table: string, rowguid: string): string {
  return `${table}\u0000${rowguid}`;
}
