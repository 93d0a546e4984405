import type { Table } from 'dexie';
import { ConcordError, type RowValues, type Schema, type TableDef } from '@concord/shared';
import type { OutboxEntry, RowMeta } from '../storage/replica-db';
import type { replicaState, Tables } from '../storage/replica-state';
import type { Transport } from './transport';

/** What a sync round works with. */
export interface SyncContext {
  schema: Schema;
  transport: Transport;
  state: ReturnType<typeof replicaState>;
  maxUploadChanges: number;
  maxDownloadChanges: number;
  /**
   * Runs `work` in one read-write transaction over every table; its writes are not tracked.
   * Work must reach tables through `tx`: bound tables do not depend on Dexie's async zone.
   */
  syncTransaction<T>(work: (tx: Tables) => Promise<T>): Promise<T>;
}

export const outbox = (db: Tables) => db.table<OutboxEntry, [string, string]>('_changes');
export const rowMetas = (db: Tables) => db.table<RowMeta, [string, string]>('_rows');

/** Lays the server's authoritative version of a row over the local one (a tombstone deletes it). */
export async function applyServerRow(
  db: Tables,
  table: TableDef,
  rowguid: string,
  values: RowValues | null | undefined,
): Promise<void> {
  const rows: Table = db.table(table.name);
  if (values == null) await rows.delete(rowguid);
  else await rows.put({ ...values, [table.key]: rowguid });
}

export interface Session {
  replicaId: string;
  epoch: string;
}

/** Refuses an answer from a server whose store is not the one this replica synced with. */
export function checkEpoch(session: Session, epoch: string): void {
  if (epoch !== session.epoch) {
    throw new ConcordError('epoch_changed', `the server's store changed (epoch ${epoch}, expected ${session.epoch})`);
  }
}
