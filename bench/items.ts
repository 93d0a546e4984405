/**
 * The table every Node benchmark writes: `items`, five columns of every common type. One
 * definition, so the benchmarks measure the same rows and their figures compare.
 */
import { v7 as uuidv7 } from 'uuid';
import { defineSchema, type FromReplicaChange, type RowValues } from '@concord/shared';

export const TABLE = 'items';

export const schema = defineSchema({
  version: 1,
  tables: {
    [TABLE]: { columns: { name: 'string', count: 'integer', price: 'number', active: 'boolean', updatedAt: 'date' } },
  },
});

/** The rowguid field of `items`. */
export const KEY = schema.tables[TABLE]!.key;

/** The Dexie store definition a replica gives the table: its key, then its indexes. */
export const STORE = [KEY, ...schema.tables[TABLE]!.indexes].join(', ');

const EPOCH = Date.UTC(2024, 0, 1);

/** An item as the app writes it: its key and its values. */
export type ItemRow = Record<string, string | number | boolean>;

/** The values of the `i`-th item, without its key. */
export function itemValues(i: number): ItemRow {
  return {
    name: `item ${i}`,
    count: i,
    price: Math.round(i * 1.37 * 100) / 100,
    active: i % 2 === 0,
    updatedAt: new Date(EPOCH + i * 60_000).toISOString(),
  };
}

/** `count` items as rows, each with a fresh UUIDv7 key, as replicas make them. */
export function itemRows(count: number): ItemRow[] {
  return Array.from({ length: count }, (_, i) => ({ [KEY]: uuidv7(), ...itemValues(i) }));
}

/** The upload of a new item (based on nothing), as a replica sends it. */
export function itemInsert(rowguid: string, values: RowValues, localGeneration: number): FromReplicaChange {
  return { table: TABLE, rowguid, op: 'upsert', localGeneration, baseGeneration: 0, values };
}

/** `rows` as uploads of new items, all in one local generation. */
export function itemInserts(rows: readonly ItemRow[], localGeneration: number): FromReplicaChange[] {
  return rows.map(({ [KEY]: rowguid, ...values }) => itemInsert(rowguid as string, values, localGeneration));
}

let counter = 0;
/** A database name no other benchmark in this process uses. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;
