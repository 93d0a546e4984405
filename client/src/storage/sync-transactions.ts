import type { DBCoreTransaction, Dexie } from 'dexie';
import type { Schema } from '@concord/shared';
import { SYSTEM_TABLES, type Tables } from './replica-db';

/**
 * The sync engine's transactions: read-write over every table, and marked, so that the tracking
 * middleware leaves their writes out of the outbox (`isSyncTransaction`).
 */
export function createSyncTransactions(schema: Schema) {
  const marked = new WeakSet<DBCoreTransaction>();
  const tables = [...schema.tableNames, ...SYSTEM_TABLES];
  return {
    isSyncTransaction: (trans: DBCoreTransaction): boolean => marked.has(trans),
    /** Runs `work` in one sync transaction of `db`; work must reach tables through `tx`. */
    run: <T>(db: Dexie, work: (tx: Tables) => Promise<T>): Promise<T> =>
      db.transaction('rw', tables, (tx) => {
        marked.add(tx.idbtrans as unknown as DBCoreTransaction);
        return work(tx);
      }),
  };
}
