import type { Dexie } from 'dexie';
import type { StateKey, StateRecord } from './replica-db';

/** Typed access to `_state`. Reads and writes join the caller's Dexie transaction when there is one. */
export function replicaState(db: Dexie) {
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
