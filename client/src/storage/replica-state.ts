import type { Dexie } from 'dexie';

/** A database or a transaction: anything tables can be taken from. */
export type Tables = Pick<Dexie, 'table'>;
import type { StateKey, StateRecord } from './replica-db';

/** Typed access to `_state`, in the given transaction (or the database's own). */
export function replicaState(db: Tables) {
  const table = db.table<StateRecord, StateKey>('_state');
  return {
    async get<T>(key: StateKey, fallback: T): Promise<T> {
      const record = await table.get(key);
      return record === undefined ? fallback : (record.value as T);
    },
    async set(values: Partial<Record<StateKey, unknown>>): Promise<void> {
      await table.bulkPut(Object.entries(values).map(([key, value]) => ({ key: key as StateKey, value })));
    },
  };
}
