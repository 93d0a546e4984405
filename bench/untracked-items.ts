import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { STORE, TABLE, uniqueName } from './items';

/**
 * A plain Dexie database (no change tracking) on its own fake-indexeddb, opened, holding the
 * `items` table as a replica defines it: what tracked writes and downloads are held against.
 */
export async function openUntrackedItems(prefix: string): Promise<Dexie> {
  const db = new Dexie(uniqueName(prefix), { indexedDB: new IDBFactory(), IDBKeyRange });
  db.version(1).stores({ [TABLE]: STORE });
  await db.open();
  return db;
}
