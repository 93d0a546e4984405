import type { ReplicaRecord, StoredRow } from './store';

/** A `rows` record as both SQL dialects return it (JSON kept as text, `deleted` as 0/1). */
export interface RowRecord {
  tbl: string;
  rowguid: string;
  data: string;
  deleted: number;
  generation: number;
  writer: string;
  priority: number;
  columns: string | null;
}

/** A `replicas` record as both SQL dialects return it. */
export interface ReplicaRow {
  replica_id: string;
  priority: number;
  created_at: string;
  last_sync_at: string | null;
  last_applied_local_generation: number;
  last_pulled_generation: number;
  secret_hash: string | null;
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
  return row;
}

export function fromRow(row: StoredRow): RowRecord {
  return {
    tbl: row.table,
    rowguid: row.rowguid,
    data: JSON.stringify(row.values),
    deleted: row.deleted ? 1 : 0,
    generation: row.generation,
    writer: row.writer,
    priority: row.priority,
    columns: row.columns ? JSON.stringify(row.columns) : null,
  };
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
    }
  );
}

export function fromReplica(replica: ReplicaRecord): ReplicaRow {
  return {
    replica_id: replica.replicaId,
    priority: replica.priority,
    created_at: replica.createdAt,
    last_sync_at: replica.lastSyncAt,
    last_applied_local_generation: replica.lastAppliedLocalGeneration,
    last_pulled_generation: replica.lastPulledGeneration,
    secret_hash: replica.secretHash,
  };
}
