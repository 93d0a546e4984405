import type { Table } from 'dexie';
import { ConcordError, tableOf, type RowValues, type Schema } from '@concord/shared';
import type { SyncProgress } from '../status';
import type { Tables } from '../storage/replica-db';
import type { ReplicaState } from '../storage/replica-state';
import type { Transport } from './transport';

/** What a sync round works with. */
export interface SyncContext {
  schema: Schema;
  transport: Transport;
  state: ReplicaState;
  maxUploadChanges: number;
  maxDownloadChanges: number;
  /**
   * Runs `work` in one read-write transaction over every table; its writes are not tracked.
   * Work must reach tables through `tx`: bound tables do not depend on Dexie's async zone.
   */
  syncTransaction<T>(work: (tx: Tables) => Promise<T>): Promise<T>;
  /** Told after every uploaded batch and every applied download page. */
  onProgress?(progress: SyncProgress): void;
}

/** A server version of a row: its values, or null for a tombstone. Applying it takes `values` over as the row. */
export interface ServerRow {
  table: string;
  rowguid: string;
  values: RowValues | null | undefined;
}

/** Lays the server's authoritative versions over the local rows (a tombstone deletes the row), in bulk per table. */
export async function applyServerRows(tx: Tables, schema: Schema, rows: readonly ServerRow[]): Promise<void> {
  for (const [name, group] of groupBy(rows, (row) => row.table)) {
    const table = tableOf(schema, name);
    if (!table) continue;
    const target: Table = tx.table(name);
    const deletes: string[] = [];
    const puts: RowValues[] = [];
    for (const { rowguid, values } of group) {
      if (values == null) {
        deletes.push(rowguid);
        continue;
      }
      // The values come from a parsed server answer and belong to nothing else: keying them in
      // place saves copying every downloaded row.
      values[table.key] = rowguid;
      puts.push(values);
    }
    if (deletes.length) await target.bulkDelete(deletes);
    if (puts.length) await target.bulkPut(puts);
  }
}

/** Groups items by a key, keeping their order. */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The replica as the server knows it: its id, its credential, and the store it synced with. */
export interface Session {
  replicaId: string;
  secret: string;
  epoch: string;
}

/** Refuses an answer from a server whose store is not the one this replica synced with. */
export function checkEpoch(session: Session, epoch: string): void {
  if (epoch !== session.epoch) {
    throw new ConcordError('epoch_changed', `the server's store changed (epoch ${epoch}, expected ${session.epoch})`);
  }
}
