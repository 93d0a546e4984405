import type { RowHash } from '@concord/shared';
import { rowKeyString, type StoreTransaction } from '../store';
import { conflictRecord, parseSchemaState, replicaRecord, rowRecord, toConflict, toReplica, toRow } from './records';
import type { ReplicaRow, RowRecord } from './records';
import type { BatchInsert, SqlDialect, SqlSession } from './sql-driver';
import { CONFLICT_COLUMNS, MOVE_COLUMNS, PARTITION_INDEX, ROW_COLUMNS } from './tables';

const UPSERT_ROWS: BatchInsert = {
  into: 'rows',
  columns: ROW_COLUMNS,
  then: `ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
    generation = excluded.generation, writer = excluded.writer, priority = excluded.priority, columns = excluded.columns,
    part = excluded.part, parent = excluded.parent, bytes = excluded.bytes, hash = excluded.hash, crdt = excluded.crdt`,
};

const ADD_MOVES: BatchInsert = {
  into: 'moves',
  columns: MOVE_COLUMNS,
  then: '',
};

const ADD_CONFLICTS: BatchInsert = { into: 'conflicts', columns: CONFLICT_COLUMNS, then: '' };

export const SELECT_REPLICA = 'SELECT * FROM replicas WHERE replica_id = $1';

const PUT_REPLICA = `INSERT INTO replicas (replica_id, priority, created_at, last_sync_at,
    last_applied_local_generation, last_pulled_generation, secret_hash, subject, partition)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (replica_id) DO UPDATE SET priority = excluded.priority, last_sync_at = excluded.last_sync_at,
    last_applied_local_generation = excluded.last_applied_local_generation,
    last_pulled_generation = excluded.last_pulled_generation, partition = excluded.partition`;

/** One write transaction's view of the store, and what it did that its commit must record. */
export interface SqlTransaction {
  tx: StoreTransaction;
  /** The highest generation allocated; 0 when none was. */
  allocated(): number;
  /** Whether conflict entries were added or settled. */
  conflictsWritten(): boolean;
}

export function createSqlTransaction(session: SqlSession, dialect: SqlDialect, rowHash: RowHash): SqlTransaction {
  let allocated = 0;
  let conflictsWritten = false;
  const tx: StoreTransaction = {
    async getReplica(replicaId) {
      return toReplica((await session.query<ReplicaRow>(SELECT_REPLICA, [replicaId]))[0]);
    },
    async putReplica(replica) {
      await session.query(PUT_REPLICA, replicaRecord(replica));
    },
    async getRows(keys) {
      if (keys.length === 0) return new Map();
      const pairs = JSON.stringify(keys.map(({ table, rowguid }) => [table, rowguid]));
      const records = await session.query<RowRecord>(
        `SELECT r.* FROM (${dialect.tuples('$1', ['tbl', 'rowguid'])}) k JOIN rows r ON r.tbl = k.tbl AND r.rowguid = k.rowguid`,
        [pairs],
      );
      return new Map(records.map((record) => [rowKeyString(record.tbl, record.rowguid), toRow(record)]));
    },
    async allocateGenerations(count) {
      const [{ last }] = (await session.query<{ last: number }>(
        `UPDATE meta SET value = CAST(CAST(value AS BIGINT) + CAST($1 AS BIGINT) AS TEXT) WHERE key = 'generation'
          RETURNING CAST(value AS BIGINT) AS last`,
        [count],
      )) as [{ last: number }];
      allocated = last;
      return last - count + 1;
    },
    async writeRows(rows) {
      if (rows.length > 0)
        await session.insertMany(
          UPSERT_ROWS,
          rows.map((row) => rowRecord(row, rowHash)),
        );
    },
    async setPartitions(fingerprint) {
      await session.query(fingerprint === '' ? 'DROP INDEX IF EXISTS rows_part' : PARTITION_INDEX);
      await session.query(
        `INSERT INTO meta (key, value) VALUES ('partitions', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [fingerprint],
      );
    },
    async schemaState() {
      const records = await session.query<{ key: string; value: string }>(
        `SELECT key, value FROM meta WHERE key IN ('schema_version', 'schema_migration')`,
      );
      const value = (key: string) => records.find((record) => record.key === key)?.value;
      const { schemaVersion, schemaMigration } = parseSchemaState(value('schema_version'), value('schema_migration'));
      return { version: schemaVersion, migration: schemaMigration };
    },
    async setSchemaState({ version, migration }) {
      await session.query(
        `INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(version)],
      );
      await session.query(
        migration
          ? `INSERT INTO meta (key, value) VALUES ('schema_migration', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
          : `DELETE FROM meta WHERE key = 'schema_migration' AND $1 = $1`,
        [JSON.stringify(migration)],
      );
    },
    async purgedUpTo() {
      const [record] = await session.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'purged'`);
      return record ? Number(record.value) : 0;
    },
    async childrenOf(table, parents) {
      if (parents.length === 0) return [];
      const records = await session.query<RowRecord>(
        `SELECT * FROM rows WHERE tbl = $1 AND parent IN (${dialect.texts('$2')})`,
        [table, JSON.stringify(parents)],
      );
      return records.map(toRow);
    },
    async moveRows(moves) {
      if (moves.length === 0) return;
      await session.insertMany(
        ADD_MOVES,
        moves.map(({ generation, table, rowguid, from, to }) => [generation, table, rowguid, from, to]),
      );
      await session.query(
        `UPDATE rows SET part = m.part FROM (${dialect.tuples('$1', ['tbl', 'rowguid', 'part'])}) m
          WHERE rows.tbl = m.tbl AND rows.rowguid = m.rowguid`,
        [JSON.stringify(moves.map(({ table, rowguid, to }) => [table, rowguid, to]))],
      );
    },
    async addConflicts(entries) {
      if (entries.length === 0) return;
      conflictsWritten = true;
      await session.insertMany(ADD_CONFLICTS, entries.map(conflictRecord));
    },
    async getConflict(id) {
      const [record] = await session.query<{ entry: string }>('SELECT entry FROM conflicts WHERE id = $1', [id]);
      return record && toConflict(record);
    },
    async updateConflict(entry) {
      conflictsWritten = true;
      const [id, json, status, , , winner, loser, , settled] = conflictRecord(entry);
      await session.query(
        'UPDATE conflicts SET entry = $2, status = $3, winner = $4, loser = $5, settled_at = $6 WHERE id = $1',
        [id, json, status, winner, loser, settled],
      );
    },
  };
  return { tx, allocated: () => allocated, conflictsWritten: () => conflictsWritten };
}
