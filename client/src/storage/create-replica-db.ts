import { Dexie, type Middleware, type DBCore, type Transaction } from 'dexie';
import { columnsToCurrent, valuesToCurrent, type Migration, type RowValues, type Schema } from '@concord/shared';
import { SYSTEM_STORES, outbox, type OutboxEntry } from './replica-db';
import { replicaState } from './replica-state';

/**
 * The layout of the system tables; raised whenever they change, so the database upgrades in place.
 * 1: `_deleted` added. 2: `_crdt` added.
 */
const LAYOUT = 2;

/**
 * The IndexedDB version of a replica's database: the schema version and the system tables'
 * layout, so a change of either upgrades it. Databases made before the layout counted were at the
 * bare schema version, below every version this gives.
 */
function databaseVersion(schemaVersion: number): number {
  return schemaVersion * 100 + LAYOUT;
}

export interface ReplicaDbOptions {
  schema: Schema;
  name: string;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  middleware: Middleware<DBCore>;
}

/** The replica's Dexie database: one table per schema table, keyed by its rowguid, plus the system tables. */
export function createReplicaDb({ schema, name, indexedDB, IDBKeyRange, middleware }: ReplicaDbOptions): Dexie {
  const db = new Dexie(name, indexedDB && IDBKeyRange ? { indexedDB, IDBKeyRange } : undefined);
  const stores: Record<string, string> = { ...SYSTEM_STORES };
  for (const table of Object.values(schema.tables)) {
    stores[table.name] = [table.key, ...table.indexes].join(', ');
  }
  // Each version a migration leads to brings the data written before it along; Dexie runs the
  // upgrades past the installed version, oldest first, in one upgrade transaction.
  for (const migration of schema.migrations) {
    if (migration.version < schema.version) {
      db.version(databaseVersion(migration.version))
        .stores(stores)
        .upgrade((tx) => migrateData(tx, migration));
    }
  }
  db.version(databaseVersion(schema.version))
    .stores(stores)
    .upgrade(async (tx) => {
      const migration = schema.migrations.find(({ version }) => version === schema.version);
      if (migration) await migrateData(tx, migration);
      await noteUpgrade(tx, schema.version);
    });
  // A database made now is at this schema version: a later upgrade of the layout alone downloads nothing again.
  db.on('populate', (tx) => replicaState(tx).set({ schemaVersion: schema.version }));
  db.use(middleware);
  return db;
}

/**
 * Renames and removes the columns one migration names, in the rows and in the outbox: a pending
 * change keeps its edits under their new names, loses those to removed columns, and goes when
 * nothing of an update is left.
 */
async function migrateData(tx: Transaction, migration: Migration): Promise<void> {
  const step = { version: migration.version, migrations: [migration] };
  const from = migration.version - 1;
  const tables = new Set([...Object.keys(migration.renamed), ...Object.keys(migration.removed)]);
  for (const table of tables) {
    await tx
      .table(table)
      .toCollection()
      .modify(
        (row: RowValues, ref: { value: RowValues }) => void (ref.value = valuesToCurrent(step, table, row, from)),
      );
  }
  await outbox(tx)
    .filter((entry) => tables.has(entry.table))
    .modify((entry, ref: { value?: OutboxEntry }) => {
      entry.columns = columnsToCurrent(step, entry.table, entry.columns, from);
      entry.base = valuesToCurrent(step, entry.table, entry.base, from);
      if (entry.op === 'upsert' && !entry.inserted && !entry.replace && entry.columns.length === 0) delete ref.value;
    });
}

/**
 * After an upgrade to a newer schema version, a registered replica downloads its rows afresh
 * (unless a recovery already will): what it downloaded under the older version lacks the columns
 * added since. Its pending changes stay.
 */
async function noteUpgrade(tx: Transaction, version: number): Promise<void> {
  const state = replicaState(tx);
  const before = await state.get('schemaVersion');
  if (before !== null && before >= version) return;
  if ((await state.get('replicaId')) && !(await state.get('recovery'))) {
    await state.set({ recovery: { known: 0, lostWrites: false, forgotten: false, realign: true } });
  }
  await state.set({ schemaVersion: version });
}
