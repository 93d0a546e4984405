import type { ConflictEntry, RowHash } from '@concord/shared';
import type { ReplicaRecord, SchemaMigration, StoredRow } from '../store';

/** A `rows` record as every dialect returns it (JSON kept as text, `deleted` as 0/1). */
export interface RowRecord {
  tbl: string;
  rowguid: string;
  data: string;
  deleted: number;
  generation: number;
  writer: string;
  priority: number;
  columns: string | null;
  part: string;
  parent: string | null;
  bytes: number;
  hash: number | null;
  crdt: string | null;
}

/** A `replicas` record as every dialect returns it. */
export interface ReplicaRow {
  replica_id: string;
  priority: number;
  created_at: string;
  last_sync_at: string | null;
  last_applied_local_generation: number;
  last_pulled_generation: number;
  secret_hash: string | null;
  subject: string | null;
  partition: string | null;
}

export function toRow(record: RowRecord): StoredRow {
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
  if (record.part !== '') row.partition = record.part;
  if (record.parent !== null) row.parent = record.parent;
  if (record.crdt !== null) row.crdt = JSON.parse(record.crdt) as StoredRow['crdt'];
  return row;
}

/** A row's record values, in `ROW_COLUMNS` order. */
export function rowRecord(row: StoredRow, rowHash: RowHash): unknown[] {
  const columns = row.columns ? JSON.stringify(row.columns) : null;
  const { table, rowguid, values, deleted, generation, writer, priority, partition = '', parent = null } = row;
  const data = JSON.stringify(values);
  const crdt = row.crdt ? JSON.stringify(row.crdt) : null;
  // A page is sized by what it sends: the values, and a CRDT column's state besides its text.
  const bytes = Buffer.byteLength(data) + (crdt?.length ?? 0);
  const hash = rowHash(rowguid, values);
  return [
    table,
    rowguid,
    data,
    deleted ? 1 : 0,
    generation,
    writer,
    priority,
    columns,
    partition,
    parent,
    bytes,
    hash,
    crdt,
  ];
}

export function toReplica(row: ReplicaRow | undefined): ReplicaRecord | undefined {
  return (
    row && {
      replicaId: row.replica_id,
      priority: row.priority,
      createdAt: row.created_at,
      lastSyncAt: row.last_sync_at,
      lastAppliedLocalGeneration: row.last_applied_local_generation,
      lastPulledGeneration: row.last_pulled_generation,
      secretHash: row.secret_hash ?? null,
      subject: row.subject ?? null,
      partition: row.partition ?? null,
    }
  );
}

/** A replica's record values, in the order of the `replicas` columns. */
export function replicaRecord(replica: ReplicaRecord): unknown[] {
  return [
    replica.replicaId,
    replica.priority,
    replica.createdAt,
    replica.lastSyncAt,
    replica.lastAppliedLocalGeneration,
    replica.lastPulledGeneration,
    replica.secretHash,
    replica.subject,
    replica.partition,
  ];
}

/** A conflict entry's record values, in `CONFLICT_COLUMNS` order. */
export function conflictRecord(entry: ConflictEntry): unknown[] {
  const { id, status, table, replicaId, winner, loser, rowguid } = entry;
  return [id, JSON.stringify(entry), status, table, replicaId, winner, loser, rowguid, settledAt(entry)];
}

/** When an entry was settled: decided by hand, or logged already decided; null while it is open. */
export function settledAt(entry: ConflictEntry): string | null {
  return entry.status === 'open' ? null : (entry.resolvedAt ?? entry.createdAt);
}

/** The entry a `conflicts` record holds; the store wrote it, from a checked entry. */
export function toConflict(record: { entry: string }): ConflictEntry {
  return JSON.parse(record.entry) as ConflictEntry;
}

/** The schema state the meta keys `schema_version` and `schema_migration` hold. */
export function parseSchemaState(
  version: string | undefined,
  migration: string | undefined,
): { schemaVersion: number; schemaMigration: SchemaMigration | null } {
  return {
    schemaVersion: Number(version ?? 0),
    schemaMigration: migration ? (JSON.parse(migration) as SchemaMigration) : null,
  };
}
